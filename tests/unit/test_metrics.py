"""Ranking metrics against values computed by hand."""

import math

import pytest

from kass.evaluation.metrics import mrr_at_k, ndcg_at_k, recall_at_k

JUDGMENTS = {"a": 1, "c": 2, "d": 3, "z": 0}


def test_given_graded_judgments_when_ndcg_then_ideal_comes_from_all_judgments():
    # DCG = 1/log2(2) + 0 + 2/log2(4) = 2 ; IDCG = 3/1 + 2/log2(3) + 1/log2(4)
    ideal = 3 + 2 / math.log2(3) + 0.5
    assert ndcg_at_k(["a", "b", "c"], JUDGMENTS) == pytest.approx(2 / ideal)


def test_given_perfect_ranking_when_ndcg_then_one():
    assert ndcg_at_k(["d", "c", "a"], JUDGMENTS) == pytest.approx(1.0)


def test_given_documents_beyond_cutoff_when_ndcg_at_2_then_they_do_not_count():
    ideal = 3 + 2 / math.log2(3)
    assert ndcg_at_k(["b", "a", "d"], JUDGMENTS, k=2) == pytest.approx((1 / math.log2(3)) / ideal)


def test_given_zero_graded_document_when_recall_then_it_is_not_relevant():
    assert recall_at_k(["z", "a", "c"], JUDGMENTS) == pytest.approx(2 / 3)


def test_given_first_relevant_at_rank_3_when_mrr_then_one_third():
    assert mrr_at_k(["b", "z", "c", "a"], JUDGMENTS) == pytest.approx(1 / 3)


def test_given_no_relevant_retrieved_when_metrics_then_zero():
    assert ndcg_at_k(["x", "y"], JUDGMENTS) == 0.0
    assert recall_at_k(["x", "y"], JUDGMENTS) == 0.0
    assert mrr_at_k(["x", "y"], JUDGMENTS) == 0.0


def test_given_no_positive_judgment_when_metrics_then_zero_not_division_error():
    assert ndcg_at_k(["z"], {"z": 0}) == 0.0
    assert recall_at_k(["z"], {"z": 0}) == 0.0
