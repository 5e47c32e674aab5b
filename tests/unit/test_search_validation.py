"""Query and filter validation of the search use case."""

import pytest

from kass.errors import InvalidInput
from kass.retrieval.search import parse_filters, validate_query


def test_given_known_keys_when_parse_filters_then_dict():
    assert parse_filters(["source=slack", "project = TSB"]) == {"source": "slack", "project": "TSB"}


def test_given_unknown_key_when_parse_filters_then_error_lists_valid_keys():
    with pytest.raises(InvalidInput, match="unknown filter key 'team'.*source, project, channel"):
        parse_filters(["team=web"])


@pytest.mark.parametrize("pair", ["source", "=slack", "source="])
def test_given_malformed_pair_when_parse_filters_then_error(pair):
    with pytest.raises(InvalidInput, match="not key=value"):
        parse_filters([pair])


@pytest.mark.parametrize("text", ["", "   \n"])
def test_given_empty_query_when_validated_then_error(text):
    with pytest.raises(InvalidInput, match="empty"):
        validate_query(text)


def test_given_oversized_query_when_validated_then_error_states_limit():
    with pytest.raises(InvalidInput, match="100000 characters; the limit is 4000"):
        validate_query("x" * 100_000, 4000)
