"""An HTTP-level OpenSearch double for tests: the subset of the REST API the adapter uses.

A real HTTP server on 127.0.0.1 (stdlib, one thread) so the real opensearch-py client, its
serialization and its error mapping are exercised. It stores documents in memory and scores
them simply, which is enough to test wiring, not relevance:
- `match`: count of query tokens found in the field (lower-cased words; CJK as bigrams);
- `knn`: inner product, reported as OpenSearch's faiss innerproduct score (1 + ip, or 1/(1 − ip));
- `hybrid`: each sub-query's hits min-max normalized, combined by the weighted arithmetic mean
  of the search pipeline named in `?search_pipeline=` (the weights it was PUT with).
It generates `_id`s itself and refuses an index action that names an `_id` (as AOSS vector
collections do), so a test notices the adapter sending one.

Every request is recorded (`requests`), and `fail_next(status, path_contains)` makes the next
matching request fail, to test retries. Run it alone with
`python -m tests.doubles.opensearch --port N`; `make tf-emulate` serves it through
scripts/emulator.py.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.doubles.served import ServedDouble

_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]+|\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def tokens(text: str) -> set[str]:
    out: set[str] = set()
    for run in _TOKEN.findall(str(text).lower()):
        if _CJK.match(run):
            out.update(run[i : i + 2] for i in range(max(1, len(run) - 1)))
        else:
            out.add(run)
    return out


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]
    body: Any


@dataclass
class Index:
    mappings: dict[str, Any]
    settings: dict[str, Any]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)


class OpenSearchDouble(ServedDouble):
    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self.indices: dict[str, Index] = {}
        self.pipelines: dict[str, dict[str, Any]] = {}
        self.requests: list[Recorded] = []
        self._failures: list[tuple[int, str]] = []
        self._bulk_item_failures: list[int] = []
        self._lock = threading.Lock()
        self._serve(host, port, self._handler_class())

    # -- fault injection / inspection -------------------------------------------------------
    def fail_next(self, status: int, path_contains: str = "", times: int = 1) -> None:
        """The next `times` requests whose path contains `path_contains` answer `status`."""
        self._failures.extend([(status, path_contains)] * times)

    def fail_next_bulk_item(self, status: int = 429) -> None:
        """The first item of the next _bulk request fails with `status` (others succeed)."""
        self._bulk_item_failures.append(status)

    def calls(self, method: str, path_contains: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and path_contains in r.path]

    # -- HTTP -------------------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body leave at once, no delayed-ACK stall

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def _serve(self) -> None:
                url = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(url.query).items()}
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                if self.headers.get("Content-Encoding") == "gzip":  # http_compress=True clients
                    data = gzip.decompress(data)
                raw = data.decode("utf-8")
                body: Any = None
                if raw:
                    if url.path.endswith("/_bulk"):
                        body = [json.loads(line) for line in raw.splitlines() if line.strip()]
                    else:
                        body = json.loads(raw)
                with double._lock:
                    double.requests.append(Recorded(self.command, url.path, params, body))
                    status, payload = double._route(self.command, url.path, params, body)
                data = b"" if payload is None else json.dumps(payload).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        return Handler

    def _route(self, method: str, path: str, params: dict[str, str], body: Any):
        for i, (status, needle) in enumerate(self._failures):
            if needle in path:
                del self._failures[i]
                return status, _error(status, "injected_failure", f"injected {status}")
        parts = [p for p in path.split("/") if p]
        if parts[:2] == ["_search", "pipeline"] and len(parts) == 3:
            if method == "PUT":
                self.pipelines[parts[2]] = body
                return 200, {"acknowledged": True}
            if parts[2] in self.pipelines:
                return 200, {parts[2]: self.pipelines[parts[2]]}
            return 404, {}
        if parts == ["_bulk"] or (len(parts) == 2 and parts[1] == "_bulk"):
            return self._bulk(parts[0] if len(parts) == 2 else None, body)
        if parts[:2] == ["_cat", "indices"]:
            name = parts[2] if len(parts) > 2 else None
            rows = [
                {"index": n, "docs.count": str(len(ix.docs)), "store.size": str(100 * len(ix.docs))}
                for n, ix in self.indices.items()
                if name in (None, n)
            ]
            return 200, rows
        name = parts[0]
        index = self.indices.get(name)
        if len(parts) == 1:
            if method == "HEAD":
                return (200 if index else 404), None
            if method == "PUT":
                if index:
                    return 400, _error(400, "resource_already_exists_exception", name)
                body = body or {}
                self.indices[name] = Index(body.get("mappings", {}), body.get("settings", {}))
                return 200, {"acknowledged": True, "index": name}
            if method == "GET" and index:
                return 200, {name: {"mappings": index.mappings, "settings": index.settings}}
        if index is None:
            return 404, _error(404, "index_not_found_exception", f"no such index [{name}]")
        if parts[1] in ("_mapping", "_mappings") and method == "GET":
            return 200, {name: {"mappings": index.mappings}}
        if parts[1] == "_search":
            return self._search(index, params, body or {})
        if parts[1] == "_delete_by_query":
            gone = [i for i, d in index.docs.items() if matches(d, body["query"])]
            for record_id in gone:
                del index.docs[record_id]
            return 200, {"deleted": len(gone), "failures": []}
        return 400, _error(400, "unsupported_by_double", f"{method} {path}")

    # -- _bulk ------------------------------------------------------------------------------
    def _bulk(self, default_index: str | None, lines: list[dict[str, Any]]):
        items = []
        i = 0
        fail_first = self._bulk_item_failures.pop(0) if self._bulk_item_failures else None
        while i < len(lines):
            action, meta = next(iter(lines[i].items()))
            name = meta.get("_index", default_index)
            index = self.indices.get(name)
            if action in ("index", "create"):
                source = lines[i + 1]
                i += 2
                if "_id" in meta:
                    items.append({action: _item_error(400, "AOSS vector collections refuse _id")})
                    continue
                if fail_first is not None:
                    items.append({action: _item_error(fail_first, "injected")})
                    fail_first = None
                    continue
                if index is None:
                    items.append({action: _item_error(404, "index_not_found_exception")})
                    continue
                unknown = set(source) - set(index.mappings.get("properties", {}))
                if index.mappings.get("dynamic") == "strict" and unknown:
                    items.append({action: _item_error(400, f"strict mapping: {sorted(unknown)}")})
                    continue
                record_id = uuid.uuid4().hex
                index.docs[record_id] = source
                items.append({action: {"_index": name, "_id": record_id, "status": 201}})
            elif action == "delete":
                i += 1
                if fail_first is not None:
                    items.append({action: _item_error(fail_first, "injected")})
                    fail_first = None
                    continue
                existed = index is not None and index.docs.pop(meta["_id"], None) is not None
                items.append({action: {"_id": meta["_id"], "status": 200 if existed else 404}})
            else:
                return 400, _error(400, "unsupported_by_double", f"bulk action {action}")
        errors = any(next(iter(it.values())).get("status", 200) >= 300 for it in items)
        return 200, {"took": 1, "errors": errors, "items": items}

    # -- _search ----------------------------------------------------------------------------
    def _search(self, index: Index, params: dict[str, str], body: dict[str, Any]):
        query = body.get("query", {"match_all": {}})
        size = body.get("size", 10)
        if "hybrid" in query:
            name = params.get("search_pipeline")
            if name not in self.pipelines:
                return 400, _error(400, "illegal_argument_exception", f"no pipeline [{name}]")
            scored = self._hybrid(index, query["hybrid"]["queries"], self.pipelines[name])
        else:
            scored = score(index.docs, query)
        hits = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))
        if "sort" in body:
            keys = [next(iter(s)) for s in body["sort"]]
            rows = sorted(
                ((rid, [index.docs[rid].get(k, "") for k in keys]) for rid, _ in hits),
                key=lambda row: row[1],
            )
            after = body.get("search_after")
            if after is not None:
                rows = [row for row in rows if row[1] > after]
            hits = [(rid, 0.0) for rid, _ in rows]
            sort_values = dict(rows)
        else:
            sort_values = {}
        out = []
        for rid, s in hits[:size]:
            source = _project(index.docs[rid], body.get("_source"))
            hit = {"_index": "x", "_id": rid, "_score": s, "_source": source}
            if rid in sort_values:
                hit["sort"] = sort_values[rid]
            out.append(hit)
        response: dict[str, Any] = {
            "took": 1,
            "hits": {"total": {"value": len(scored), "relation": "eq"}, "hits": out},
        }
        if "aggs" in body:
            matched = [index.docs[rid] for rid in scored]
            response["aggregations"] = aggregate(matched, body["aggs"])
        return 200, response

    def _hybrid(self, index: Index, queries: list[dict[str, Any]], pipeline: dict[str, Any]):
        processor = pipeline["phase_results_processors"][0]
        combination = next(iter(processor.values()))["combination"]
        weights = combination.get("parameters", {}).get("weights") or [1.0] * len(queries)
        fused: dict[str, float] = {}
        for sub, weight in zip(queries, weights, strict=True):
            scored = score(index.docs, sub)
            if not scored:
                continue
            low, high = min(scored.values()), max(scored.values())
            for rid, s in scored.items():
                normalized = 1.0 if high == low else max((s - low) / (high - low), 0.001)
                fused[rid] = fused.get(rid, 0.0) + weight * normalized
        total = sum(weights)
        return {rid: s / total for rid, s in fused.items()}


# -- query evaluation ---------------------------------------------------------------------------
def score(docs: dict[str, dict[str, Any]], query: dict[str, Any]) -> dict[str, float]:
    """Record id -> score for every record `query` matches."""
    if "knn" in query:
        field_name, spec = next(iter(query["knn"].items()))
        candidates = {
            rid: d
            for rid, d in docs.items()
            if field_name in d and ("filter" not in spec or matches(d, spec["filter"]))
        }
        scored = {}
        for rid, d in candidates.items():
            ip = sum(a * b for a, b in zip(d[field_name], spec["vector"], strict=True))
            scored[rid] = 1.0 + ip if ip >= 0 else 1.0 / (1.0 - ip)
        top = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))[: spec.get("k", 10)]
        return dict(top)
    out = {}
    for rid, d in docs.items():
        s = _score_one(d, query)
        if s is not None:
            out[rid] = s
    return out


def matches(doc: dict[str, Any], query: dict[str, Any]) -> bool:
    return _score_one(doc, query) is not None


def _score_one(doc: dict[str, Any], query: dict[str, Any]) -> float | None:
    kind, spec = next(iter(query.items()))
    if kind == "match_all":
        return 1.0
    if kind == "term":
        name, value = next(iter(spec.items()))
        value = value["value"] if isinstance(value, dict) else value
        return 1.0 if doc.get(name) == value else None
    if kind == "terms":
        name, values = next(iter(spec.items()))
        return 1.0 if doc.get(name) in values else None
    if kind == "match":
        name, value = next(iter(spec.items()))
        text = value["query"] if isinstance(value, dict) else value
        base = name.split(".")[0]
        found = len(tokens(text) & tokens(doc.get(base, ""))) if base in doc else 0
        return float(found) if found else None
    if kind == "bool":
        for clause in spec.get("filter", []) + spec.get("must", []):
            if _score_one(doc, clause) is None:
                return None
        total = sum(_score_one(doc, c) or 0.0 for c in spec.get("must", []))
        should = [s for s in (_score_one(doc, c) for c in spec.get("should", [])) if s is not None]
        minimum = spec.get(
            "minimum_should_match", 0 if spec.get("filter") or spec.get("must") else 1
        )
        if len(should) < minimum:
            return None
        return total + sum(should) if (should or spec.get("must")) else 0.0
    raise ValueError(f"query {kind!r} not supported by the double")


def aggregate(docs: list[dict[str, Any]], aggs: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in aggs.items():
        if "terms" in spec:
            counts: dict[Any, int] = {}
            for d in docs:
                if spec["terms"]["field"] in d:
                    key = d[spec["terms"]["field"]]
                    counts[key] = counts.get(key, 0) + 1
            buckets = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
            out[name] = {"buckets": [{"key": k, "doc_count": c} for k, c in buckets]}
        elif "filter" in spec:
            kept = [d for d in docs if matches(d, spec["filter"])]
            out[name] = {"doc_count": len(kept), **aggregate(kept, spec.get("aggs", {}))}
    return out


def _project(source: dict[str, Any], spec: Any) -> dict[str, Any]:
    if not isinstance(spec, dict):
        return dict(source)
    if "includes" in spec:
        return {k: v for k, v in source.items() if k in spec["includes"]}
    return {k: v for k, v in source.items() if k not in spec.get("excludes", [])}


def _error(status: int, kind: str, reason: str) -> dict[str, Any]:
    return {"error": {"type": kind, "reason": reason, "root_cause": []}, "status": status}


def _item_error(status: int, reason: str) -> dict[str, Any]:
    return {"status": status, "error": {"type": "item_error", "reason": reason}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args()
    double = OpenSearchDouble(args.port, args.host)
    print(f"OpenSearch double listening on http://{args.host}:{double.port}", flush=True)
    try:
        double._server.serve_forever(0.05)
    except KeyboardInterrupt:
        pass
    finally:
        double._server.server_close()


if __name__ == "__main__":
    main()
