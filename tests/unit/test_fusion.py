"""Fusion math against hand-computed values (OpenSearch min_max + arithmetic_mean, and RRF)."""

import pytest

from kass.retrieval.fusion import MIN_SCORE, minmax_fuse, minmax_normalize, rrf_fuse


def test_given_scores_when_minmax_normalized_then_max_is_one_and_min_is_floored():
    assert minmax_normalize([10.0, 6.0, 2.0]) == [1.0, 0.5, MIN_SCORE]


def test_given_single_hit_when_minmax_normalized_then_it_scores_one():
    assert minmax_normalize([3.2]) == [1.0]


def test_given_equal_scores_when_minmax_normalized_then_all_score_one():
    assert minmax_normalize([0.4, 0.4]) == [1.0, 1.0]


def test_given_negative_cosines_when_minmax_normalized_then_scaled_over_their_range():
    assert minmax_normalize([0.5, -0.5, 0.0]) == [1.0, MIN_SCORE, 0.5]


def test_given_doc_missing_from_one_subquery_when_fused_then_it_counts_zero_with_that_weight():
    lexical = [("a", 10.0), ("b", 6.0), ("c", 2.0)]
    dense = [("b", 0.9), ("d", 0.5)]
    fused = dict(minmax_fuse([lexical, dense], [0.3, 0.7]))
    # a: (0.3*1.0 + 0.7*0) / 1.0; b: 0.3*0.5 + 0.7*1.0; c: 0.3*0.001; d: 0.7*0.001
    assert fused == pytest.approx({"a": 0.3, "b": 0.85, "c": 0.0003, "d": 0.0007})


def test_given_weights_not_summing_to_one_when_fused_then_divided_by_their_sum():
    fused = dict(minmax_fuse([[("a", 1.0), ("b", 0.0)], [("b", 2.0), ("a", 1.0)]], [1.0, 3.0]))
    # a: (1*1.0 + 3*0.001) / 4; b: (1*0.001 + 3*1.0) / 4
    assert fused == pytest.approx({"a": 1.003 / 4, "b": 3.001 / 4})


def test_given_fused_results_when_sorted_then_highest_first():
    lexical = [("a", 10.0), ("b", 6.0), ("c", 2.0)]
    dense = [("b", 0.9), ("d", 0.5)]
    assert [doc for doc, _ in minmax_fuse([lexical, dense], [0.3, 0.7])] == ["b", "a", "d", "c"]


def test_given_tied_scores_when_fused_then_ordered_by_id_whatever_the_input_order():
    first = minmax_fuse([[("y", 5.0), ("x", 5.0)], []], [0.5, 0.5])
    second = minmax_fuse([[("x", 5.0), ("y", 5.0)], []], [0.5, 0.5])
    assert first == second == [("x", 0.5), ("y", 0.5)]


def test_given_both_subqueries_empty_when_fused_then_nothing():
    assert minmax_fuse([[], []], [0.3, 0.7]) == []


def test_given_two_rankings_when_rrf_fused_then_weighted_reciprocal_ranks_add_up():
    fused = dict(rrf_fuse([[("a", 9.0), ("b", 1.0)], [("b", 0.9), ("c", 0.1)]], [1.0, 1.0], 60))
    assert fused == pytest.approx({"a": 1 / 61, "b": 1 / 62 + 1 / 61, "c": 1 / 62})


def test_given_weights_when_rrf_fused_then_each_rank_term_is_scaled_and_order_follows():
    fused = rrf_fuse([[("a", 9.0)], [("b", 0.9)]], [0.3, 0.7], rank_constant=10)
    assert [doc for doc, _ in fused] == ["b", "a"]
    assert [score for _, score in fused] == pytest.approx([0.7 / 11, 0.3 / 11])


def test_given_mismatched_weights_when_fused_then_value_error():
    with pytest.raises(ValueError, match="weights"):
        minmax_fuse([[("a", 1.0)]], [0.5, 0.5])


def test_given_duplicate_id_in_a_subquery_when_fused_then_value_error():
    with pytest.raises(ValueError, match="same id"):
        rrf_fuse([[("a", 1.0), ("a", 0.5)]], [1.0])
