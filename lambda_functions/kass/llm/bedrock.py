"""The Bedrock chat tiers (Claude Haiku, Sonnet) as LangChain chat models over the Converse API.

Only `kass.wiring` imports this module, lazily, so functions that never chat do not load
langchain-aws.
"""

from __future__ import annotations

from typing import Any

from langchain_aws import ChatBedrockConverse
from langchain_aws.utils import parse_model_provider

from kass.errors import KassError
from kass.settings import BedrockSettings


def make_bedrock_chat(
    model_id: str, settings: BedrockSettings, *, client: Any
) -> ChatBedrockConverse:
    """A Converse chat model on `client` (a bedrock-runtime client).

    Passing our client keeps its retry policy (standard mode: jittered exponential backoff on
    throttling) instead of one langchain-aws would build. Model ids may be cross-region inference
    profile ids (`us.anthropic...`), or ARNs of a foundation model or inference profile.
    """
    return ChatBedrockConverse(
        client=client,
        model=model_id,
        provider=model_provider(model_id),
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        region_name=client.meta.region_name,
    )


def model_provider(model_id: str) -> str:
    """`anthropic` for `anthropic.claude...`, `us.anthropic.claude...` and their ARNs.

    ChatBedrockConverse shapes requests by provider and cannot tell it from an ARN itself.
    """
    name = model_id.rsplit("/", 1)[-1] if model_id.startswith("arn:") else model_id
    if "." not in name:
        raise KassError(
            f"cannot tell the model provider of {model_id}; use a model id or an inference "
            "profile id such as us.anthropic.claude-3-5-haiku-20241022-v1:0"
        )
    return parse_model_provider(name)
