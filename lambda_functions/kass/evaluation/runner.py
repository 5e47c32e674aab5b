"""`kass eval`: index a BEIR corpus in its own workspace, run its queries per mode, score them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from pydantic import BaseModel

from kass.evaluation.beir import BeirDataset
from kass.evaluation.metrics import mean, mrr_at_k, ndcg_at_k, recall_at_k
from kass.models import SearchHit, SearchMode
from kass.retrieval.search import Searcher

CUTOFF = 10
# Chunk hits fetched per query so that CUTOFF distinct documents remain after collapsing chunks.
CHUNK_HITS = 50


class EvalReport(BaseModel):
    dataset: str
    queries: int
    modes: dict[str, dict[str, float]]  # mode -> {"ndcg@10": ..., "recall@10": ..., "mrr@10": ...}


def rank_documents(hits: Sequence[SearchHit], doc_id_of: Callable[[str], str]) -> list[str]:
    """Collapse chunk hits into a document ranking: a document ranks at its best chunk."""
    ranked: list[str] = []
    seen: set[str] = set()
    for hit in hits:
        doc_id = doc_id_of(hit.chunk.doc_id)
        if doc_id not in seen:
            seen.add(doc_id)
            ranked.append(doc_id)
    return ranked


def evaluate(
    dataset: BeirDataset,
    searcher: Searcher,
    modes: Sequence[SearchMode],
    doc_id_of: Callable[[str], str] = lambda doc_id: doc_id,
) -> EvalReport:
    per_mode: dict[str, dict[str, list[float]]] = {
        mode: {"ndcg@10": [], "recall@10": [], "mrr@10": []} for mode in modes
    }
    for query_id, text in dataset.queries.items():
        judgments = dataset.qrels[query_id]
        for mode in modes:
            hits = searcher.search(text, k=CHUNK_HITS, mode=mode)
            ranked = rank_documents(hits, doc_id_of)
            per_mode[mode]["ndcg@10"].append(ndcg_at_k(ranked, judgments, CUTOFF))
            per_mode[mode]["recall@10"].append(recall_at_k(ranked, judgments, CUTOFF))
            per_mode[mode]["mrr@10"].append(mrr_at_k(ranked, judgments, CUTOFF))
    return EvalReport(
        dataset=dataset.name,
        queries=len(dataset.queries),
        modes={
            mode: {metric: round(mean(values), 4) for metric, values in metrics.items()}
            for mode, metrics in per_mode.items()
        },
    )
