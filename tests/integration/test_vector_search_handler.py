"""The vector search handler on the local profile."""

from __future__ import annotations

import pytest
from lambda_harness import context, ingest_samples, json_body, load_handler, rest_event


@pytest.fixture(scope="module")
def handler(tmp_path_factory):
    home = tmp_path_factory.mktemp("search-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(home)
        patch.setenv("KASS_HOME", str(home))
        patch.setenv("POWERTOOLS_SERVICE_NAME", "vector_search")
        patch.setenv("POWERTOOLS_METRICS_NAMESPACE", "kass-test")
        ingest_samples()
        module = load_handler("vector_search")
        yield module
        module.runtime.close()


def search(handler, body):
    return handler.lambda_handler(rest_event("POST", "/search", body=body), context())


def test_given_a_query_and_source_filter_when_searching_then_only_that_source_ranked(handler):
    response = search(handler, {"query": "rate limit", "k": 3, "filters": {"source": "slack"}})

    assert response["statusCode"] == 200, response["body"]
    results = json_body(response)["results"]
    assert 1 <= len(results) <= 3
    assert {r["source"] for r in results} == {"slack"}
    assert results == sorted(results, key=lambda r: -r["score"])


def test_given_bm25_mode_when_searching_then_no_dense_scores(handler):
    results = json_body(search(handler, {"query": "login", "mode": "bm25"}))["results"]

    assert results and all(r["dense_score"] is None for r in results)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"query": "x", "k": 0}, 422),
        ({"query": "x", "k": 101}, 422),
        ({"query": "x", "mode": "fuzzy"}, 422),
        ({"query": "   "}, 400),
        ({"query": "x", "filters": {"owner": "me"}}, 400),
        ("[1, 2", 400),
    ],
)
def test_given_bad_search_input_when_searching_then_4xx_json(handler, body, status):
    response = search(handler, body)

    assert response["statusCode"] == status, response["body"]
    assert set(json_body(response)) == {"error", "message"}
