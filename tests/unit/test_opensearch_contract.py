"""Every request body the OpenSearch adapter builds, validated against the official API spec.

The spec (OpenAPI 3.1, YAML split over files with relative `$ref`s) lives outside the repo in
`../shared/specs/opensearch-api/`; its schemas are JSON Schema 2020-12, so `jsonschema` with a
`referencing` registry that loads the YAML files on demand resolves every `$ref`.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")
jsonschema = pytest.importorskip("jsonschema")
referencing = pytest.importorskip("referencing")

from kass.adapters.aws import opensearch_bodies as bodies  # noqa: E402
from kass.errors import IndexMismatch, InvalidInput  # noqa: E402
from kass.models import Chunk, Document  # noqa: E402
from kass.ports import SearchRequest  # noqa: E402
from kass.settings import IndexSettings, RetrievalSettings  # noqa: E402

SPEC = Path(__file__).parents[3] / "shared" / "specs" / "opensearch-api" / "spec"
pytestmark = pytest.mark.skipif(
    not SPEC.is_dir(), reason=f"OpenSearch API specification not found at {SPEC}"
)


@cache
def _registry():
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    @cache
    def retrieve(uri: str):
        path = Path(uri.removeprefix("file://"))
        contents = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    return Registry(retrieve=retrieve)


def _validator(file: str, pointer: str):
    uri = (SPEC / file).as_uri() + "#" + pointer
    return jsonschema.Draft202012Validator({"$ref": uri}, registry=_registry())


def _request_body(file: str, name: str, media: str = "application~1json"):
    return _validator(file, f"/components/requestBodies/{name}/content/{media}/schema")


def _schema(file: str, name: str):
    return _validator(f"schemas/{file}", f"/components/schemas/{name}")


def _assert_valid(validator, body) -> None:
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}" for e in errors)


def _request(**kw) -> SearchRequest:
    return SearchRequest(**{"text": "通知が届かない APNs", "vector": [0.5, 0.5, 0.5, 0.5], **kw})


# -- index creation -------------------------------------------------------------------------------
def test_given_embedder_when_index_body_built_then_valid_create_index_request():
    body = bodies.index_body("titan-v2", 1024, IndexSettings())

    _assert_valid(_request_body("namespaces/indices.yaml", "indices.create"), body)
    vector = body["mappings"]["properties"]["embedding"]
    assert vector["method"]["engine"] == "faiss" and vector["method"]["name"] == "hnsw"
    assert body["mappings"]["_meta"]["embedder"] == "titan-v2"
    assert body["mappings"]["_meta"]["dimension"] == vector["dimension"] == 1024
    assert body["mappings"]["properties"]["text"]["fields"]["ja"]["analyzer"] == "kuromoji"


def test_given_a_non_knn_vector_field_when_validated_then_spec_rejects_it():
    # The validator is not vacuous: a knn_vector without its required dimension fails.
    body = bodies.index_body("titan-v2", 8, IndexSettings())
    del body["mappings"]["properties"]["embedding"]["dimension"]

    validator = _request_body("namespaces/indices.yaml", "indices.create")
    assert list(validator.iter_errors(body))


def test_given_other_embedder_meta_when_checked_then_index_mismatch():
    meta = bodies.index_body("a", 4, IndexSettings())["mappings"]["_meta"]

    bodies.check_meta(meta, "ix", "a", 4)
    with pytest.raises(IndexMismatch):
        bodies.check_meta(meta, "ix", "b", 4)
    with pytest.raises(IndexMismatch):
        bodies.check_meta({}, "ix", "a", 4)


# -- search pipelines -----------------------------------------------------------------------------
@pytest.mark.parametrize("fusion", ["minmax", "rrf"])
def test_given_fusion_settings_when_pipeline_built_then_valid_put_pipeline_request(fusion):
    settings = RetrievalSettings(fusion=fusion)
    weights = bodies.fusion_weights(settings, None)
    body = bodies.pipeline_body(fusion, weights, settings.rrf_k)

    _assert_valid(_request_body("namespaces/search_pipeline.yaml", "search_pipeline.put"), body)
    processor = body["phase_results_processors"][0]
    if fusion == "minmax":
        spec = processor["normalization-processor"]
        assert spec["normalization"]["technique"] == "min_max"
        assert spec["combination"]["technique"] == "arithmetic_mean"
        assert spec["combination"]["parameters"]["weights"] == [0.15, 0.85]
    else:
        assert processor["score-ranker-processor"]["combination"]["rank_constant"] == 60


def test_given_unnormalized_weights_when_fused_then_they_sum_to_one():
    settings = RetrievalSettings(lexical_weight=0.3, dense_weight=0.9)

    assert bodies.fusion_weights(settings, None) == (0.25, 0.75)
    assert bodies.fusion_weights(settings, 0.7) == (0.7, 0.3)


def test_given_two_weights_when_named_then_pipeline_ids_differ():
    first = bodies.pipeline_id("p", "minmax", (0.15, 0.85), 60)
    second = bodies.pipeline_id("p", "minmax", (0.7, 0.3), 60)

    assert first != second and first == "p-minmax-01500-08500"


# -- searches -------------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_given_filtered_request_when_search_body_built_then_valid_search_request(mode):
    body = bodies.search_body(_request(mode=mode, filters={"source": "slack"}), 100, 4)

    _assert_valid(_request_body("namespaces/_core.yaml", "search"), body)


def test_given_filters_when_hybrid_body_built_then_both_sub_queries_filter():
    body = bodies.search_body(_request(filters={"project": "p1", "source": "backlog"}), 50, 4)

    lexical, dense = body["query"]["hybrid"]["queries"]
    _assert_valid(_schema("_common.query_dsl.yaml", "HybridQuery"), body["query"]["hybrid"])
    _assert_valid(_schema("_common.query_dsl.yaml", "KnnQuery"), dense["knn"]["embedding"])
    _assert_valid(_schema("_common.query_dsl.yaml", "BoolQuery"), lexical["bool"])
    expected = [{"term": {"project": {"value": "p1"}}}, {"term": {"source": {"value": "backlog"}}}]
    assert lexical["bool"]["filter"] == expected
    assert dense["knn"]["embedding"]["filter"] == {"bool": {"filter": expected}}
    assert [m["match"].keys() for m in lexical["bool"]["should"]] == [{"text"}, {"text.ja"}]
    assert body["size"] == 50 and dense["knn"]["embedding"]["k"] == 50


def test_given_unknown_filter_key_when_body_built_then_invalid_input():
    with pytest.raises(InvalidInput):
        bodies.search_body(_request(filters={"author": "x"}), 10, 4)


def test_given_wrong_dimension_when_body_built_then_invalid_input():
    with pytest.raises(InvalidInput, match="dimensions"):
        bodies.search_body(_request(vector=[1.0, 0.0]), 10, 4)


@pytest.mark.parametrize("origin", [None, "slack-export"])
def test_given_listing_when_page_body_built_then_valid_search_request(origin):
    first = bodies.records_page_body(
        bodies.hashes_query(origin), ["doc_id", "content_hash"], None, 1000
    )
    later = bodies.records_page_body(bodies.by_doc_ids(["d1", "d2"]), ["kind"], ["d1", "c9"], 1000)

    validator = _request_body("namespaces/_core.yaml", "search")
    _assert_valid(validator, first)
    _assert_valid(validator, later)
    _assert_valid(validator, bodies.stats_body())


def test_given_doc_ids_when_delete_by_query_body_built_then_valid():
    body = bodies.delete_by_query_body(["d1"])

    _assert_valid(_request_body("namespaces/_core.yaml", "delete_by_query"), body)


# -- bulk -----------------------------------------------------------------------------------------
def test_given_document_when_bulk_lines_built_then_valid_bulk_without_ids():
    doc = Document(id="d1", source="slack", text="a", metadata={"channel": "ops"})
    chunk = Chunk(id="c1", doc_id="d1", position=0, text="a", source="slack", metadata=doc.metadata)
    sources = [
        bodies.document_source(doc, "o", "h"),
        bodies.chunk_source(chunk, [1.0, 0.0], "o", "h"),
    ]
    lines = bodies.bulk_index_lines("ix", sources) + bodies.bulk_delete_lines("ix", ["x"])

    _assert_valid(_request_body("namespaces/_core.yaml", "bulk", "application~1x-ndjson"), lines)
    operation = _schema("_core.bulk.yaml", "OperationContainer")
    for action in (lines[0], lines[2], lines[4]):
        _assert_valid(operation, action)
    assert all("_id" not in line.get("index", {}) for line in lines)
    chunk_body = lines[3]
    assert {"doc_id", "chunk_id", "content_hash", "origin"} <= chunk_body.keys()
    assert chunk_body["channel"] == "ops" and chunk_body["kind"] == "chunk"
    mapped = set(bodies.load_mapping()["mappings"]["properties"])
    assert set(lines[1]) <= mapped and set(chunk_body) <= mapped  # dynamic: strict holds
