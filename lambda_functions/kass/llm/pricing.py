"""Token prices per model, and the cost of a model call in exact decimal US dollars.

Costs are `Decimal`s computed as tokens x (price per million) / 10^6, never floats, so a sum of
per-request costs equals the cost of the summed tokens to the last digit (the cost ledger's
totals can be checked against token counts). Prices are list prices per million tokens; the
defaults below are the Bedrock on-demand prices of the Claude models kass configures (ADR 0008
gives their date and source) and `KASS_CHAT_PRICES` overrides or extends them per model id.

Tiers without a per-token bill cost 0 per request by assumption (ADR 0008): the SageMaker 7B
endpoint is billed per instance-hour whether it answers or not (its hours are in docs/cost.md),
an OpenAI-compatible server is usually local, and the extractive tier runs no model. Give such a
model a price in `KASS_CHAT_PRICES` to amortize it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from kass.errors import KassError

MILLION = Decimal(1_000_000)
PRICES_DATE = "2025-10"  # when the defaults below were taken from the published price lists
METERED_TIERS = frozenset({"haiku", "sonnet"})  # billed per token: a price must be known


class PerMillion(Protocol):
    """USD per million tokens (`kass.settings.ModelPrice` has this shape)."""

    @property
    def input(self) -> Decimal: ...

    @property
    def output(self) -> Decimal: ...


@dataclass(frozen=True)
class TokenPrice:
    input: Decimal  # USD per million input tokens
    output: Decimal  # USD per million output tokens

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        """Exact: no rounding, so costs add up like the token counts they come from."""
        return (input_tokens * self.input + output_tokens * self.output) / MILLION


FREE = TokenPrice(Decimal(0), Decimal(0))

# Bedrock on-demand list prices (USD per million tokens), by model family: the id without its
# cross-region prefix (us., eu., apac., jp., global.) and version suffix. First match wins, so
# more specific families come first.
DEFAULT_PRICES: tuple[tuple[str, TokenPrice], ...] = (
    ("anthropic.claude-3-5-haiku", TokenPrice(Decimal("0.80"), Decimal("4.00"))),
    ("anthropic.claude-haiku-4-5", TokenPrice(Decimal("1.00"), Decimal("5.00"))),
    ("anthropic.claude-3-haiku", TokenPrice(Decimal("0.25"), Decimal("1.25"))),
    ("anthropic.claude-sonnet-4", TokenPrice(Decimal("3.00"), Decimal("15.00"))),  # 4 and 4.5
    ("anthropic.claude-3-7-sonnet", TokenPrice(Decimal("3.00"), Decimal("15.00"))),
    ("anthropic.claude-3-5-sonnet", TokenPrice(Decimal("3.00"), Decimal("15.00"))),
)
_REGION_PREFIXES = ("us.", "eu.", "apac.", "jp.", "au.", "us-gov.", "global.")


class PriceTable:
    """Prices by model id: `overrides` (from settings) first, then the defaults."""

    def __init__(self, overrides: Mapping[str, PerMillion] | None = None) -> None:
        self._overrides = {
            model: TokenPrice(Decimal(price.input), Decimal(price.output))
            for model, price in (overrides or {}).items()
        }

    def price(self, model_id: str, tier: str) -> TokenPrice:
        """The price of `model_id` answering as `tier`; KassError for a metered model we cannot
        price (a ledger that silently counts 0 would lie)."""
        if model_id in self._overrides:
            return self._overrides[model_id]
        base = base_model_id(model_id)
        if base in self._overrides:
            return self._overrides[base]
        if tier not in METERED_TIERS:
            return FREE
        for family, price in DEFAULT_PRICES:
            if base.startswith(family):
                return price
        raise KassError(
            f"no price for {model_id} (tier {tier}); add it to KASS_CHAT_PRICES as "
            f'{{"{model_id}": {{"input": "<USD per million>", "output": "<USD per million>"}}}}'
        )

    def cost(self, model_id: str, tier: str, input_tokens: int, output_tokens: int) -> Decimal:
        return self.price(model_id, tier).cost(input_tokens, output_tokens)


def base_model_id(model_id: str) -> str:
    """`anthropic.claude-...` from an inference profile id or ARN (`us.anthropic...`, `arn:...`)."""
    name = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    for prefix in _REGION_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def micro_usd(cost: Decimal) -> Decimal:
    """Cost in millionths of a dollar (the CostMicroUSD metric's unit), still exact."""
    return cost * MILLION
