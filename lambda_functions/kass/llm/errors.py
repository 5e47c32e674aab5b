"""Model call failures as product errors: one mapping for every tier, the agent and the tools.

Light on purpose (no model library imported): callers on the no-model paths import it too.
"""

from __future__ import annotations

from kass.errors import KassError


def model_error(exc: BaseException, model: str) -> KassError | None:
    """A `KassError` for a failed model call, or None when `exc` is a bug to let through.

    botocore errors (and langchain-aws's subclasses of them) come from the Bedrock tiers, openai
    errors from the `openai` tier; the SageMaker tier maps its own. Checking module names avoids
    importing botocore or openai where that tier is not in use.
    """
    if isinstance(exc, KassError):
        return exc
    modules = {cls.__module__.split(".", 1)[0] for cls in type(exc).__mro__}
    if "openai" in modules:
        from kass.llm.openai_compatible import openai_error

        return openai_error(exc, model)
    if "botocore" not in modules:
        return None
    from botocore.exceptions import BotoCoreError, ClientError

    from kass.adapters.aws.titan import bedrock_error

    if isinstance(exc, ClientError | BotoCoreError):
        return bedrock_error(exc, model)
    return None
