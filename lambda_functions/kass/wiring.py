"""Builds the adapters the settings ask for. The only place that knows which world we are in.

`Runtime` builds each adapter on first use, so a Lambda function pays at cold start only for
what it touches (the vector search function never imports the chat models, and nothing opens a
client until a request needs it). Every import of an adapter is local for the same reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kass.errors import InvalidInput, KassError
from kass.settings import Settings

if TYPE_CHECKING:
    from kass.chat.actions import ActionStore
    from kass.chat.router import ModelRouter
    from kass.ingest.chunker import Chunker
    from kass.ports import (
        Answerer,
        CheckpointStore,
        ChunkIndex,
        ConnectionStore,
        ConversationStore,
        Embedder,
        FrameSender,
        MergeRequestReader,
        RawDocumentStore,
        ResponseCache,
        ThreadReader,
        TicketTracker,
    )
    from kass.retrieval.search import Searcher


class Runtime:
    """The adapters of one profile (`local` or `aws`), created lazily and closed together."""

    def __init__(self, settings: Settings, index_dir: Path | None = None) -> None:
        self.settings = settings
        self._index_dir = index_dir or settings.index_dir
        self._closers: list[Any] = []

    @property
    def is_aws(self) -> bool:
        return self.settings.app.profile == "aws"

    # -- retrieval --------------------------------------------------------------------------
    @cached_property
    def embedder(self) -> Embedder:
        if self.is_aws:
            from kass.adapters.aws.titan import TitanEmbedder

            bedrock = self.settings.bedrock
            return TitanEmbedder(
                self.boto_client("bedrock-runtime"),
                model_id=bedrock.embed_model_id,
                dimension=bedrock.embed_dimension,
            )
        from kass.adapters.local.minilm import MiniLMEmbedder

        embedder = MiniLMEmbedder(self.settings.embedder)
        if self.settings.chunker.size > embedder.max_tokens:
            raise KassError(
                f"KASS_CHUNK_SIZE={self.settings.chunker.size} exceeds what {embedder.name} reads "
                f"({embedder.max_tokens} tokens); set KASS_CHUNK_SIZE to at most "
                f"{embedder.max_tokens}"
            )
        return embedder

    @cached_property
    def index(self) -> ChunkIndex:
        settings = self.settings
        embedder = self.embedder
        index: ChunkIndex
        if self.is_aws:
            from kass.adapters.aws.opensearch import OpenSearchChunkIndex, make_client

            aws = settings.aws
            if not aws.opensearch_endpoint:
                raise KassError("KASS_AWS_OPENSEARCH_ENDPOINT is not set")
            index = OpenSearchChunkIndex.open(
                make_client(
                    aws.opensearch_endpoint, region=aws.region, service=aws.opensearch_service
                ),
                aws.opensearch_index,
                embedder_name=embedder.name,
                dimension=embedder.dimension,
                index_settings=settings.index,
                retrieval_settings=settings.retrieval,
                use_delete_by_query=aws.opensearch_service == "es",
            )
        else:
            from kass.adapters.local.index import LocalChunkIndex

            index = LocalChunkIndex.open(
                self._index_dir,
                embedder_name=embedder.name,
                dimension=embedder.dimension,
                index_settings=settings.index,
                retrieval_settings=settings.retrieval,
            )
        self._closers.append(index)
        return index

    @cached_property
    def chunker(self) -> Chunker:
        from kass.ingest.chunker import Chunker

        return Chunker(self.embedder.count_tokens, self.settings.chunker)

    @cached_property
    def searcher(self) -> Searcher:
        from kass.retrieval.search import Searcher

        return Searcher(
            self.index,
            self.embedder,
            self.settings.retrieval.mode,
            self.settings.retrieval.cjk_lexical_weight,
        )

    # -- answers ----------------------------------------------------------------------------
    @cached_property
    def router(self) -> ModelRouter:
        """The tiers this profile can use, routed per question with fallback (ADR 0008).

        Answerers (and their model clients) are built when a route first reaches their tier.
        A metered model without a price is reported now rather than counted as free.
        """
        from kass.chat.router import BEDROCK_TIERS, ModelRouter, Policy
        from kass.llm.pricing import PriceTable

        policy = Policy.from_settings(self.settings)
        prices = PriceTable(self.settings.chat.prices)
        for tier in sorted(policy.available & BEDROCK_TIERS):
            prices.price(self.model_id(tier), tier)
        return ModelRouter(policy, self._tier_answerer, prices)

    @property
    def answerer(self) -> ModelRouter:
        """The router, which is an `Answerer` too (for callers of `ask` such as the CLI)."""
        return self.router

    def _tier_answerer(self, tier: str, confidential: bool) -> Answerer:
        if tier == "extractive":
            from kass.llm.extractive import ExtractiveAnswerer

            # On AWS the embedder is Titan: a confidential route scores sentences lexically, so
            # no passage text reaches a Bedrock API.
            embedder = None if confidential and self.is_aws else self.embedder
            return ExtractiveAnswerer(embedder, max_sentences=self.settings.answer.max_sentences)
        from kass.llm.generative import ChatModelAnswerer

        return ChatModelAnswerer(self.chat_model(tier), tier=tier, model_id=self.model_id(tier))

    def model_id(self, tier: str) -> str:
        """The model behind `tier` as the cost ledger names it (and prices it)."""
        if tier == "haiku":
            return self.settings.bedrock.haiku_model_id
        if tier == "sonnet":
            return self.settings.bedrock.sonnet_model_id
        if tier == "sagemaker":
            return f"sagemaker:{self.settings.sagemaker.endpoint_name}"
        if tier == "openai":
            return self.settings.openai.model or "openai"
        return tier

    def chat_model(self, tier: str) -> Any:
        """A LangChain chat model of `tier` (haiku, sonnet: Bedrock; sagemaker: the 7B endpoint;
        openai: an OpenAI-compatible server). The extractive tier has none."""
        if tier == "sagemaker":
            from kass.llm.sagemaker import SageMakerMessagesChat

            sagemaker = self.settings.sagemaker
            if not sagemaker.endpoint_name:
                raise KassError("KASS_SAGEMAKER_ENDPOINT_NAME is not set; the 7B tier is off")
            return SageMakerMessagesChat(
                endpoint_name=sagemaker.endpoint_name,
                client=self.boto_client("sagemaker-runtime"),
                max_tokens=sagemaker.max_tokens,
                temperature=sagemaker.temperature,
            )
        if tier == "openai":
            from kass.llm.openai_compatible import make_openai_chat

            return make_openai_chat(self.settings.openai)
        if tier not in ("haiku", "sonnet"):
            raise KassError(f"the {tier} tier has no chat model")
        from kass.llm.bedrock import make_bedrock_chat

        bedrock = self.settings.bedrock
        return make_bedrock_chat(
            self.model_id(tier), bedrock, client=self.boto_client("bedrock-runtime")
        )

    # -- state ------------------------------------------------------------------------------
    @cached_property
    def conversations(self) -> ConversationStore:
        ttl_days = self.settings.chat.conversation_ttl_days
        if self.is_aws:
            from kass.adapters.aws.dynamodb import DynamoConversationStore

            return DynamoConversationStore(
                self.settings.aws.conversations_table,
                ttl_days=ttl_days,
                client=self.boto_client("dynamodb"),
            )
        from kass.adapters.local.state import SqliteConversationStore

        return self._local(SqliteConversationStore(self.settings.state_db, ttl_days=ttl_days))

    @cached_property
    def cache(self) -> ResponseCache:
        if self.is_aws:
            from kass.adapters.aws.dynamodb import DynamoResponseCache

            return DynamoResponseCache(
                self.settings.aws.cache_table, client=self.boto_client("dynamodb")
            )
        from kass.adapters.local.state import SqliteResponseCache

        return self._local(SqliteResponseCache(self.settings.state_db))

    @cached_property
    def actions(self) -> ActionStore:
        """Proposed actions and their audit log (the agent's write tools only propose)."""
        retention_days = self.settings.agent.audit_ttl_days
        if self.is_aws:
            from kass.adapters.aws.actions import DynamoActionStore

            return DynamoActionStore(
                self.settings.aws.actions_table,
                retention_days=retention_days,
                client=self.boto_client("dynamodb"),
            )
        from kass.adapters.local.actions import SqliteActionStore

        return self._local(SqliteActionStore(self.settings.state_db, retention_days=retention_days))

    # -- the outside systems the agents read and act on ---------------------------------------
    @cached_property
    def tickets(self) -> TicketTracker | None:
        """Backlog for the Report agent; None when not configured (its tool says so)."""
        return self._outside_system("kass.connectors.backlog", "ticket_tracker", "ticket_outbox")

    @cached_property
    def threads(self) -> ThreadReader | None:
        """Slack for the Summarize agent; None when not configured."""
        return self._outside_system(
            "kass.connectors.slack", "thread_reader", "slack_export_threads"
        )

    @cached_property
    def merge_requests(self) -> MergeRequestReader | None:
        """GitLab for the Code Review agent; None when not configured."""
        return self._outside_system(
            "kass.connectors.gitlab", "merge_request_reader", "patch_merge_requests"
        )

    def _outside_system(self, module: str, factory: str, local_factory: str) -> Any:
        """The connector's adapter; on the local profile without connector settings, the local
        stand-in (kass.adapters.local.outside: outbox, Slack export, patch files) if it is set."""
        try:
            return getattr(import_module(module), factory)(self.settings)
        except InvalidInput as error:  # missing or invalid settings: the tool reports it
            from kass.observability import logger

            reason = str(error)
            if not self.is_aws:
                from kass.adapters.local import outside

                try:
                    system = getattr(outside, local_factory)(self)
                except InvalidInput as local_error:
                    reason += f"; local: {local_error}"
                else:
                    if hasattr(system, "close"):
                        self._closers.append(system)
                    return system
            logger.info("outside system not configured", extra={"reason": reason})
            return None

    @cached_property
    def checkpoints(self) -> CheckpointStore:
        if self.is_aws:
            from kass.adapters.aws.dynamodb import DynamoCheckpointStore

            return DynamoCheckpointStore(
                self.settings.aws.checkpoints_table, client=self.boto_client("dynamodb")
            )
        from kass.adapters.local.state import SqliteCheckpointStore

        return self._local(SqliteCheckpointStore(self.settings.state_db))

    # -- WebSocket streaming ---------------------------------------------------------------
    @cached_property
    def connections(self) -> ConnectionStore:
        """Open WebSocket connections and their owners."""
        if self.is_aws:
            from kass.adapters.aws.connections import DynamoConnectionStore

            return DynamoConnectionStore(
                self.settings.aws.connections_table, client=self.boto_client("dynamodb")
            )
        from kass.adapters.local.state import SqliteConnectionStore

        return self._local(SqliteConnectionStore(self.settings.state_db))

    def frame_sender(self, request_context: Mapping[str, Any]) -> FrameSender:
        """Frames to the connection of a WebSocket event, through the management API of the
        stage that sent it (`kass serve` sets KASS_STREAM_MANAGEMENT_URL to its own)."""
        from kass.adapters.aws.websocket import ManagementApiSender, management_client

        override = self.settings.stream.management_url
        endpoint = override or (
            f"https://{request_context['domainName']}/{request_context['stage']}"
        )
        client = management_client(
            endpoint,
            region=self.settings.aws.region,
            max_attempts=self.settings.aws.max_attempts,
            local=override is not None,
        )
        return ManagementApiSender(client, request_context["connectionId"])

    @cached_property
    def raw_store(self) -> RawDocumentStore:
        if self.is_aws:
            from kass.adapters.aws.s3 import S3RawDocumentStore

            return S3RawDocumentStore(
                self.settings.aws.raw_bucket,
                kms_key_id=self.settings.aws.kms_key_id,
                client=self.boto_client("s3"),
            )
        from kass.adapters.local.raw_store import FolderRawDocumentStore

        return FolderRawDocumentStore(self.settings.app.home)

    @cached_property
    def idempotency_layer(self) -> Any:
        """Powertools idempotency persistence: DynamoDB in AWS, SQLite locally."""
        if self.is_aws:
            from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

            return DynamoDBPersistenceLayer(
                table_name=self.settings.aws.idempotency_table,
                boto3_client=self.boto_client("dynamodb"),
            )
        from kass.adapters.local.idempotency import SqlitePersistenceLayer

        return SqlitePersistenceLayer(self.settings.state_db)

    # -- plumbing ---------------------------------------------------------------------------
    def boto_client(self, service: str) -> Any:
        """A boto3 client with standard (jittered backoff) retries.

        Endpoints follow boto3's own configuration (`AWS_ENDPOINT_URL[_<SERVICE>]`), which is
        how the same code runs against moto or LocalStack.
        """
        from kass.adapters.aws.clients import client

        return client(
            service, region=self.settings.aws.region, max_attempts=self.settings.aws.max_attempts
        )

    def _local(self, store: Any) -> Any:
        self._closers.append(store)
        return store

    def close(self) -> None:
        for resource in reversed(self._closers):
            resource.close()
        self._closers.clear()


def open_runtime(settings: Settings, index_dir: Path | None = None) -> Runtime:
    """The configured profile's adapters; `index_dir` overrides the local workspace index."""
    return Runtime(settings, index_dir)
