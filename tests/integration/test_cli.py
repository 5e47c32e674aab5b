"""The `kass` CLI end to end on the bundled sample workspace: real model, real index on disk."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kass.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "workspace"
QUESTIONS = json.loads((ROOT / "samples" / "questions.json").read_text(encoding="utf-8"))


def sample_documents() -> dict[str, dict]:
    docs = {}
    for path in SAMPLES.rglob("*.json"):
        doc = json.loads(path.read_text(encoding="utf-8"))
        docs[doc["id"]] = doc
    return docs


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A workspace with the sample ingested once for the whole module."""
    home = tmp_path_factory.mktemp("kass-home")
    result = run(home, "ingest", str(SAMPLES), "--json")
    assert result.exit_code == 0, result.output
    return home


def run(home: Path, *args: str):
    with pytest.MonkeyPatch.context() as patch:
        home.mkdir(parents=True, exist_ok=True)
        patch.chdir(home)  # no stray .env from the developer's checkout
        return CliRunner().invoke(app, list(args), env={"KASS_HOME": str(home)})


def run_binary(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The installed `kass` console script in a fresh process, with only KASS_* `env` set."""
    kass = Path(sys.executable).with_name("kass")
    return subprocess.run(
        [str(kass), *args],
        cwd=home,
        env={"KASS_HOME": str(home), "PATH": "/usr/bin:/bin", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def copy_samples(tmp_path: Path) -> Path:
    target = tmp_path / "workspace"
    shutil.copytree(SAMPLES, target)
    return target


def test_given_sample_workspace_when_asked_demo_question_then_citations_resolve_to_bundled_docs(
    home,
):
    docs = sample_documents()
    demo = QUESTIONS[0]

    result = run(home, "ask", demo["question"], "--json")

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["found"] is True
    assert answer["tier"] == "extractive"
    assert answer["citations"], "a found answer must cite something"
    for citation in answer["citations"]:
        assert f"[{citation['n']}]" in answer["text"]
        doc = docs[citation["doc_id"]]
        assert citation["location"] == doc["url"]
        assert citation["title"] == doc["title"]
    assert set(c["doc_id"] for c in answer["citations"]) & set(demo["doc_ids"])


@pytest.mark.parametrize("entry", QUESTIONS, ids=[q["question"][:40] for q in QUESTIONS])
def test_given_sample_question_when_searched_then_an_answering_doc_is_in_top_5(home, entry):
    result = run(home, "search", entry["question"], "--k", "5", "--json")

    assert result.exit_code == 0, result.output
    found = {hit["chunk"]["doc_id"] for hit in json.loads(result.stdout)}
    assert found & set(entry["doc_ids"]), f"none of {entry['doc_ids']} in {found}"


@pytest.mark.parametrize(
    "question", ["What is the boiling point of liquid nitrogen in Kelvin?", "東京の明日の天気は？"]
)
def test_given_unrelated_question_when_asked_then_says_nothing_found(home, question):
    result = run(home, "ask", question, "--json")

    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["found"] is False
    assert answer["citations"] == []


def test_given_source_filter_when_searched_then_every_hit_has_that_source(home):
    result = run(home, "search", "release", "--filter", "source=slack", "--k", "20", "--json")

    hits = json.loads(result.stdout)
    assert hits and {hit["chunk"]["source"] for hit in hits} == {"slack"}


def test_given_ingested_workspace_when_ingested_again_then_nothing_is_written(home):
    before = json.loads(run(home, "stats", "--json").stdout)

    result = run(home, "ingest", str(SAMPLES), "--json")

    report = json.loads(result.stdout)
    assert report["added"] == report["updated"] == report["deleted"] == 0
    assert report["chunks_written"] == 0
    assert report["unchanged"] == len(sample_documents())
    assert json.loads(run(home, "stats", "--json").stdout)["chunks"] == before["chunks"]


def test_given_edited_and_removed_files_when_reingested_with_prune_then_index_follows(tmp_path):
    workspace = copy_samples(tmp_path)
    home = tmp_path / "home"
    assert run(home, "ingest", str(workspace)).exit_code == 0
    removed = next(workspace.glob("slack/*.json"))
    removed_id = json.loads(removed.read_text(encoding="utf-8"))["id"]
    removed.unlink()
    edited = next(workspace.glob("gitlab/*.json"))
    doc = json.loads(edited.read_text(encoding="utf-8"))
    doc["text"] += "\nUpdate: the zanzibar-flamingo migration finished on Friday."
    edited.write_text(json.dumps(doc), encoding="utf-8")

    report = json.loads(run(home, "ingest", str(workspace), "--prune", "--json").stdout)

    assert (report["updated"], report["deleted"], report["added"]) == (1, 1, 0)
    hits = json.loads(run(home, "search", "zanzibar flamingo", "--mode", "bm25", "--json").stdout)
    assert hits[0]["chunk"]["doc_id"] == doc["id"]
    stats = json.loads(run(home, "stats", "--json").stdout)
    assert stats["documents"] == len(sample_documents()) - 1
    everything = json.loads(run(home, "search", "thread", "--k", "1000", "--json").stdout)
    assert removed_id not in {hit["chunk"]["doc_id"] for hit in everything}


def test_given_ingest_without_prune_when_file_removed_then_document_stays(tmp_path):
    workspace = copy_samples(tmp_path)
    home = tmp_path / "home"
    run(home, "ingest", str(workspace))
    next(workspace.glob("backlog/*.json")).unlink()

    report = json.loads(run(home, "ingest", str(workspace), "--json").stdout)

    assert report["deleted"] == 0
    assert json.loads(run(home, "stats", "--json").stdout)["documents"] == len(sample_documents())


# -- bad input: one line on stderr, non-zero exit, nothing stored damaged ---------------------


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:")
    for fragment in fragments:
        assert fragment in lines[0]


def test_given_empty_question_when_asked_then_one_line_error(tmp_path):
    assert_one_line_error(run_binary(tmp_path, "ask", "  "), 2, "empty")


def test_given_100kb_question_when_asked_then_one_line_error(tmp_path):
    assert_one_line_error(run_binary(tmp_path, "ask", "why " * 25_000), 2, "limit is 4000")


def test_given_unknown_filter_key_when_searched_then_one_line_error(tmp_path):
    result = run_binary(tmp_path, "search", "x", "--filter", "team=web")
    assert_one_line_error(result, 2, "unknown filter key 'team'")


def test_given_corrupt_index_file_when_used_then_error_and_file_untouched(tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir(parents=True)
    garbage = b"SQLite format 3\x00" + bytes(range(256)) * 20
    (index_dir / "index.sqlite3").write_bytes(garbage)

    result = run_binary(tmp_path, "stats")

    assert_one_line_error(result, 3, "index.sqlite3")
    assert (index_dir / "index.sqlite3").read_bytes() == garbage


def test_given_foreign_file_as_index_when_used_then_error_and_file_untouched(tmp_path):
    index_dir = tmp_path / "index"
    index_dir.mkdir(parents=True)
    (index_dir / "index.sqlite3").write_text("just some notes, not a database\n")

    result = run_binary(tmp_path, "search", "anything")

    assert_one_line_error(result, 3, "index.sqlite3")
    assert (index_dir / "index.sqlite3").read_text() == "just some notes, not a database\n"


def test_given_index_of_another_embedder_when_used_then_mismatch_error(tmp_path):
    from kass.adapters.local.index import LocalChunkIndex
    from kass.settings import IndexSettings, RetrievalSettings

    LocalChunkIndex.open(
        tmp_path / "index",
        embedder_name="amazon.titan-embed-text-v2:0",
        dimension=1024,
        index_settings=IndexSettings(),
        retrieval_settings=RetrievalSettings(),
    ).close()

    result = run_binary(tmp_path, "stats")

    assert_one_line_error(result, 3, "amazon.titan-embed-text-v2:0", "all-MiniLM-L6-v2")


def test_given_folder_with_binary_file_when_ingested_then_error_and_index_unchanged(tmp_path, home):
    workspace = copy_samples(tmp_path)
    (workspace / "gitlab" / "screenshot.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(500))
    before = json.loads(run(home, "stats", "--json").stdout)

    result = run_binary(home, "ingest", str(workspace))

    assert_one_line_error(result, 2, "screenshot.png")
    after = json.loads(run(home, "stats", "--json").stdout)
    assert (after["documents"], after["chunks"]) == (before["documents"], before["chunks"])


def test_given_missing_dataset_files_when_eval_then_one_line_error(tmp_path):
    (tmp_path / "set").mkdir()
    (tmp_path / "set" / "corpus.jsonl").write_text('{"_id": "1", "text": "x"}\n')

    result = run_binary(tmp_path, "eval", str(tmp_path / "set"))

    assert_one_line_error(result, 2, "queries.jsonl", "missing")


def test_given_unknown_eval_mode_when_eval_then_one_line_error(tmp_path):
    assert_one_line_error(
        run_binary(tmp_path, "eval", str(tmp_path), "--mode", "magic"), 2, "magic"
    )


def test_given_invalid_setting_when_run_then_one_line_error(tmp_path):
    result = run_binary(tmp_path, "stats", KASS_RETRIEVAL_FUSION="magic")
    assert_one_line_error(result, 2, "fusion")


def test_given_chunk_size_beyond_model_input_when_run_then_one_line_error(tmp_path):
    result = run_binary(tmp_path, "stats", KASS_CHUNK_SIZE="1000")
    assert_one_line_error(result, 1, "KASS_CHUNK_SIZE=1000", "254")
