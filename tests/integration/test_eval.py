"""`kass eval` end to end: a tiny BEIR set built here, and (slow) the shared msmarco-5k set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kass.cli import app

SHARED = Path(__file__).resolve().parents[3] / "shared" / "datasets"

CORPUS = {
    "d1": ("Kyoto", "Kyoto was the imperial capital of Japan for over a thousand years."),
    "d2": ("Espresso", "Espresso is coffee brewed by forcing hot water through fine grounds."),
    "d3": ("Volcano", "A volcano is a rupture in the crust where lava and ash escape."),
    "d4": ("Tides", "Ocean tides are caused by the gravitational pull of the moon and sun."),
}
QUERIES = {"q1": "former imperial capital of Japan", "q2": "why do oceans have tides"}
QRELS = [("q1", "d1", 2), ("q2", "d4", 1)]


def write_dataset(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    with (root / "corpus.jsonl").open("w") as out:
        for doc_id, (title, text) in CORPUS.items():
            out.write(json.dumps({"_id": doc_id, "title": title, "text": text}) + "\n")
    with (root / "queries.jsonl").open("w") as out:
        for query_id, text in QUERIES.items():
            out.write(json.dumps({"_id": query_id, "text": text}) + "\n")
    (root / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\n" + "".join(f"{q}\t{d}\t{g}\n" for q, d, g in QRELS)
    )
    return root


def run_eval(home: Path, dataset: Path, *args: str) -> dict:
    result = CliRunner().invoke(
        app, ["eval", str(dataset), "--json", *args], env={"KASS_HOME": str(home)}
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_given_tiny_dataset_when_evaluated_all_modes_then_report_has_every_mode(tmp_path):
    report = run_eval(tmp_path / "home", write_dataset(tmp_path / "tiny"), "--mode", "all")

    assert report["dataset"] == "tiny"
    assert set(report["modes"]) == {"bm25", "dense", "hybrid"}
    for metrics in report["modes"].values():
        assert set(metrics) == {"ndcg@10", "recall@10", "mrr@10"}
        # each query has one relevant document, easy to find among four
        assert metrics["recall@10"] == 1.0
        assert metrics["mrr@10"] == 1.0


def test_given_evaluated_dataset_when_evaluated_again_then_workspace_index_untouched(tmp_path):
    home = tmp_path / "home"
    dataset = write_dataset(tmp_path / "tiny")
    run_eval(home, dataset, "--mode", "dense")

    assert (home / "eval" / "tiny").is_dir()
    assert not (home / "index").exists()


@pytest.mark.slow
def test_given_msmarco_5k_when_evaluated_then_hybrid_at_least_best_single_mode(tmp_path):
    dataset = SHARED / "msmarco-5k"
    if not dataset.is_dir():
        pytest.skip("../shared/datasets/msmarco-5k is not present")

    modes = run_eval(tmp_path / "home", dataset, "--mode", "all")["modes"]

    best_single = max(modes["bm25"]["ndcg@10"], modes["dense"]["ndcg@10"])
    assert modes["hybrid"]["ndcg@10"] >= best_single
    assert modes["dense"]["ndcg@10"] > 0.7  # all-MiniLM-L6-v2 measured 0.7977 here
