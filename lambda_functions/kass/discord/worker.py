"""The asynchronous part: run the deferred interaction, edit the reply through the webhook.

Idempotent on the interaction id (kass.dispatch.OncePerKey: Powertools' idempotency utility on
the persistence layer the runtime provides, DynamoDB in AWS, the local state database
otherwise). A duplicate while the first runs is dropped; after it completed, it returns the
stored outcome without any call to Discord; a failed run can be run again by Lambda's retry.

Confirming is idempotent on its own as well (kass.chat.actions: the conditional
proposed → confirmed update), so two different clicks on Confirm still file one ticket.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from kass.api.schemas import ChatRequest
from kass.chat import service
from kass.discord.dispatch import Job
from kass.discord.interactions import Interaction, InteractionType
from kass.discord.messages import chat_messages, error_message, parse_custom_id, settled_message
from kass.discord.webhook import DiscordWebhook
from kass.dispatch import OncePerKey
from kass.errors import KassError
from kass.observability import logger

if TYPE_CHECKING:
    from kass.wiring import Runtime

IDEMPOTENCY_SECONDS = 3600  # interaction tokens live 15 minutes; duplicates come sooner
# Locally a thread runs the job without a Lambda context: no in-progress expiry, on purpose.
warnings.filterwarnings("ignore", message="Couldn't determine the remaining time left")


class Worker:
    def __init__(self, runtime: Runtime, webhook: DiscordWebhook) -> None:
        self.runtime = runtime
        self.webhook = webhook
        self._once = OncePerKey(
            self.work,
            persistence=runtime.idempotency_layer,
            key_path="interaction.id",
            expires_after_seconds=IDEMPOTENCY_SECONDS,
        )

    @classmethod
    def for_runtime(cls, runtime: Runtime) -> Worker:
        return cls(runtime, DiscordWebhook(runtime.settings.discord.api_base))

    def run(self, job: Job, context: Any = None) -> dict[str, Any]:
        """Do the job once per interaction id; a duplicate changes nothing."""
        logger.set_correlation_id(job.interaction.id)
        outcome = self._once(job, context)
        logger.info("discord job done", extra=outcome)
        return outcome

    def work(self, job: Job) -> dict[str, Any]:
        """The job itself (not idempotent: `run` is)."""
        interaction = job.interaction
        if interaction.type == InteractionType.MESSAGE_COMPONENT:
            return self._button(interaction)
        if job.text is None:
            raise ValueError("a command job carries its chat text")
        return self._command(interaction, job.text)

    def _command(self, interaction: Interaction, text: str) -> dict[str, Any]:
        reply = self._reply(interaction)
        try:
            response = service.chat(
                ChatRequest(message=text),
                user_id=interaction.user_id,
                runtime=self.runtime,
                default_conversation_id=interaction.conversation_id(),
            )
        except KassError as error:
            reply(error_message(str(error), ephemeral=False))
            return {"outcome": "refused", "error": type(error).__name__}
        except Exception:  # a bug: the user gets a reference instead of a spinner forever
            logger.exception("discord command failed")
            reply(
                error_message(
                    f"kass failed on this request (ref {interaction.id}).", ephemeral=False
                )
            )
            return {"outcome": "failed"}
        bodies = chat_messages(response)
        reply(bodies[0])
        for body in bodies[1:]:
            self.webhook.follow_up(interaction.application_id, interaction.token, body)
        return {
            "outcome": "answered",
            "parts": len(bodies),
            "conversation_id": response.conversation_id,
            "actions": [action.id for action in response.actions],
        }

    def _button(self, interaction: Interaction) -> dict[str, Any]:
        verb, action_id = parse_custom_id(interaction.component().custom_id)
        settle = service.confirm_action if verb == "confirm" else service.cancel_action
        try:
            response = settle(action_id, user_id=interaction.user_id, runtime=self.runtime)
        except KassError as error:
            # Only the clicker sees why (someone else's proposal, expired, failed): the
            # proposal's message stays as it is for its owner.
            self.webhook.follow_up(
                interaction.application_id, interaction.token, error_message(str(error))
            )
            return {"outcome": "refused", "verb": verb, "error": type(error).__name__}
        original = interaction.message.content if interaction.message else ""
        self._reply(interaction)(settled_message(original, response))
        return {
            "outcome": verb,
            "status": response.action.status,
            "executed_now": response.executed_now,
        }

    def _reply(self, interaction: Interaction) -> Any:
        def edit(body: dict[str, Any]) -> None:
            self.webhook.edit_original(interaction.application_id, interaction.token, body)

        return edit

    def close(self) -> None:
        self.webhook.close()
        self.runtime.close()
