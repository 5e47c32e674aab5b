"""Token prices and exact costs: the cost ledger must add up to its token counts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kass.errors import KassError
from kass.llm.pricing import FREE, PriceTable, TokenPrice, base_model_id, micro_usd
from kass.settings import ChatSettings, ModelPrice, Settings

HAIKU_35 = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"


@pytest.mark.parametrize(
    ("model_id", "tier", "price"),
    [
        (HAIKU_35, "haiku", TokenPrice(Decimal("0.80"), Decimal("4.00"))),
        (SONNET_4, "sonnet", TokenPrice(Decimal("3.00"), Decimal("15.00"))),
        ("anthropic.claude-haiku-4-5-20251001-v1:0", "haiku", TokenPrice(Decimal(1), Decimal(5))),
        (
            "jp.anthropic.claude-sonnet-4-5-20250929-v1:0",
            "sonnet",
            TokenPrice(Decimal(3), Decimal(15)),
        ),
        ("sagemaker:kass-dev-llm", "sagemaker", FREE),
        ("llama3.1:8b", "openai", FREE),
    ],
)
def test_given_a_model_when_priced_then_the_documented_default(model_id, tier, price):
    assert PriceTable().price(model_id, tier) == price


def test_given_the_configured_default_models_when_priced_then_both_are_known():
    settings = Settings()
    table = PriceTable(settings.chat.prices)
    assert table.price(settings.bedrock.haiku_model_id, "haiku") != FREE
    assert table.price(settings.bedrock.sonnet_model_id, "sonnet") != FREE


def test_given_an_unknown_bedrock_model_when_priced_then_one_line_error_naming_the_setting():
    with pytest.raises(KassError, match="KASS_CHAT_PRICES") as caught:
        PriceTable().price("us.amazon.nova-pro-v1:0", "sonnet")
    assert "\n" not in str(caught.value)


def test_given_overrides_when_priced_then_they_win_by_exact_id_or_base_id():
    table = PriceTable(
        {
            "anthropic.claude-3-5-haiku-20241022-v1:0": ModelPrice(input="0.5", output="2"),
            "sagemaker:kass-dev-llm": ModelPrice(input="0.12", output="0.12"),
        }
    )
    assert table.price(HAIKU_35, "haiku") == TokenPrice(Decimal("0.5"), Decimal("2"))
    assert table.price("sagemaker:kass-dev-llm", "sagemaker").input == Decimal("0.12")


def test_given_prices_in_the_environment_when_settings_read_then_exact_decimals(monkeypatch):
    monkeypatch.setenv("KASS_CHAT_PRICES", '{"m": {"input": 0.1, "output": "0.30"}}')
    price = ChatSettings().prices["m"]
    assert (price.input, price.output) == (Decimal("0.1"), Decimal("0.30"))


def test_given_many_requests_when_costs_summed_then_equal_to_the_cost_of_the_summed_tokens():
    table = PriceTable()
    calls = [(1234 + 7 * i, 97 + 3 * i) for i in range(500)]

    total = sum((table.cost(HAIKU_35, "haiku", i, o) for i, o in calls), Decimal(0))
    tokens_in = sum(i for i, _ in calls)
    tokens_out = sum(o for _, o in calls)

    assert total == (tokens_in * Decimal("0.80") + tokens_out * Decimal("4.00")) / 1_000_000
    assert total == table.cost(HAIKU_35, "haiku", tokens_in, tokens_out)


def test_given_a_call_when_costed_then_exact_dollars_and_micro_dollars():
    cost = PriceTable().cost(SONNET_4, "sonnet", 1000, 100)  # $0.003 + $0.0015
    assert cost == Decimal("0.0045")
    assert micro_usd(cost) == Decimal(4500)


@pytest.mark.parametrize(
    ("model_id", "base"),
    [
        (HAIKU_35, "anthropic.claude-3-5-haiku-20241022-v1:0"),
        ("global.anthropic.claude-sonnet-4-5-x", "anthropic.claude-sonnet-4-5-x"),
        (
            "arn:aws:bedrock:us-east-1:1:inference-profile/us.anthropic.claude-3-5-haiku-x",
            "anthropic.claude-3-5-haiku-x",
        ),
        ("double-7b", "double-7b"),
    ],
)
def test_given_profile_ids_and_arns_when_reduced_then_the_base_model_id(model_id, base):
    assert base_model_id(model_id) == base
