"""Reading BEIR queries and judgments; every malformed input names the file and line."""

import json
from pathlib import Path

import pytest

from kass.errors import DatasetError
from kass.evaluation.beir import read_dataset


def make_dataset(root: Path, *, qrels: str = "q1\td1\t2\nq1\td2\t0\n", queries=None) -> Path:
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text(json.dumps({"_id": "d1", "title": "", "text": "x"}) + "\n")
    rows = (
        queries
        if queries is not None
        else [{"_id": "q1", "text": "what"}, {"_id": "q2", "text": "no judgments"}]
    )
    (root / "queries.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (root / "qrels" / "test.tsv").write_text(qrels)
    return root


def test_given_valid_dataset_when_read_then_only_judged_queries_kept(tmp_path):
    dataset = read_dataset(make_dataset(tmp_path / "set"))
    assert dataset.name == "set"
    assert dataset.queries == {"q1": "what"}
    assert dataset.qrels == {"q1": {"d1": 2, "d2": 0}}


def test_given_header_row_when_read_then_it_is_skipped(tmp_path):
    root = make_dataset(tmp_path / "s", qrels="query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    assert read_dataset(root).qrels == {"q1": {"d1": 1}}


@pytest.mark.parametrize("missing", ["corpus.jsonl", "queries.jsonl", "qrels/test.tsv"])
def test_given_missing_file_when_read_then_error_names_it(tmp_path, missing):
    root = make_dataset(tmp_path / "s")
    (root / missing).unlink()
    with pytest.raises(DatasetError, match=missing.split("/")[-1]):
        read_dataset(root)


def test_given_bad_grade_when_read_then_error_names_line(tmp_path):
    root = make_dataset(tmp_path / "s", qrels="q1\td1\t2\nq1\td2\thigh\n")
    with pytest.raises(DatasetError, match=r"test.tsv:2: grade 'high'"):
        read_dataset(root)


def test_given_malformed_query_line_when_read_then_error_names_line(tmp_path):
    root = make_dataset(tmp_path / "s")
    (root / "queries.jsonl").write_text('{"_id": "q1", "text": "a"}\nnot json\n')
    with pytest.raises(DatasetError, match=r"queries.jsonl:2"):
        read_dataset(root)


def test_given_no_judged_query_when_read_then_error(tmp_path):
    root = make_dataset(tmp_path / "s", queries=[{"_id": "other", "text": "x"}])
    with pytest.raises(DatasetError, match="no query"):
        read_dataset(root)


def test_given_not_a_directory_when_read_then_error(tmp_path):
    with pytest.raises(DatasetError, match="not a directory"):
        read_dataset(tmp_path / "nope")
