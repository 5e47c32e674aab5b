"""Reading a BEIR dataset's queries and judgments (the corpus is read by the ingest loaders)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from pydantic import BaseModel

from kass.errors import DatasetError


class BeirDataset(BaseModel):
    name: str
    corpus: Path
    queries: dict[str, str]  # query id -> text, only queries that have judgments
    qrels: dict[str, dict[str, int]]  # query id -> {doc id: grade}


def _require(path: Path) -> Path:
    if not path.is_file():
        raise DatasetError(
            f"{path}: missing (a BEIR dataset has corpus.jsonl, queries.jsonl, qrels/test.tsv)"
        )
    return path


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.reader(handle, delimiter="\t"), start=1):
            if not row or (line_no == 1 and row[0] == "query-id"):
                continue  # blank line or the optional header
            if len(row) != 3:
                raise DatasetError(f"{path}:{line_no}: expected query-id<TAB>corpus-id<TAB>grade")
            query_id, doc_id, grade = row
            try:
                qrels.setdefault(query_id, {})[doc_id] = int(grade)
            except ValueError:
                raise DatasetError(f"{path}:{line_no}: grade {grade!r} is not an integer") from None
    if not qrels:
        raise DatasetError(f"{path}: no judgments")
    return qrels


def read_queries(path: Path) -> dict[str, str]:
    queries: dict[str, str] = {}
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                queries[str(record["_id"])] = str(record["text"])
            except (json.JSONDecodeError, KeyError, TypeError):
                raise DatasetError(
                    f"{path}:{line_no}: not a JSON object with _id and text"
                ) from None
    return queries


def read_dataset(directory: Path) -> BeirDataset:
    if not directory.is_dir():
        raise DatasetError(f"{directory}: not a directory")
    corpus = _require(directory / "corpus.jsonl")
    queries = read_queries(_require(directory / "queries.jsonl"))
    qrels = read_qrels(_require(directory / "qrels" / "test.tsv"))
    judged = {qid: text for qid, text in queries.items() if qid in qrels}
    if not judged:
        raise DatasetError(
            f"{directory}: no query in queries.jsonl has judgments in qrels/test.tsv"
        )
    return BeirDataset(
        name=directory.resolve().name,
        corpus=corpus,
        queries=judged,
        qrels={qid: qrels[qid] for qid in judged},
    )
