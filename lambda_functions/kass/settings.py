"""Configuration: one pydantic-settings object per concern, read from `KASS_*` variables and `.env`.

`load_settings()` validates everything once (at cold start / CLI start); nothing else in the
package reads the environment. Creating settings has no side effects (no directories made).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from kass.models import SearchMode


def _config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(
        env_prefix=prefix,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_parse_none_str="none",  # KASS_X=none unsets an optional setting
    )


class AppSettings(BaseSettings):
    model_config = _config("KASS_")

    profile: Literal["local", "aws"] = "local"
    home: Path = Field(default=Path(".kass"), description="Local workspace: index, stores, caches")
    log_level: str = "WARNING"
    cors_allow_origin: str | None = Field(
        default=None,
        description="Origin of the web page that calls the API from a browser, e.g. "
        "https://d1234.cloudfront.net (CORS headers on every response); none: same origin only",
    )


class EmbedderSettings(BaseSettings):
    model_config = _config("KASS_EMBEDDER_")

    batch_size: int = Field(default=64, ge=1, le=4096)
    threads: int = Field(default=0, ge=0, description="torch intra-op threads; 0 = all cores")


class ChunkerSettings(BaseSettings):
    model_config = _config("KASS_CHUNK_")

    size: int = Field(default=200, ge=16, le=8192, description="Tokens per chunk, title included")
    overlap: int = Field(default=32, ge=0, description="Tokens shared by neighbouring chunks")

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkerSettings:
        if self.overlap >= self.size:
            raise ValueError("KASS_CHUNK_OVERLAP must be smaller than KASS_CHUNK_SIZE")
        return self


class IndexSettings(BaseSettings):
    model_config = _config("KASS_INDEX_")

    hnsw_threshold: int = Field(
        default=20_000, ge=0, description="Below this many chunks, k-NN is exact (brute force)"
    )
    hnsw_m: int = Field(default=16, ge=4, le=128)
    hnsw_ef_construction: int = Field(default=100, ge=10)
    hnsw_ef_search: int = Field(default=256, ge=10)  # 96 gave recall@10 0.865 at 1M (ADR 0001)


class RetrievalSettings(BaseSettings):
    model_config = _config("KASS_RETRIEVAL_")

    mode: SearchMode = "hybrid"
    fusion: Literal["minmax", "rrf"] = "minmax"
    # Chosen with `kass eval` on msmarco-5k and dbpedia-5k (docs/performance.md).
    lexical_weight: float = Field(default=0.15, ge=0.0, le=1.0)
    dense_weight: float = Field(default=0.85, ge=0.0, le=1.0)
    cjk_lexical_weight: float | None = Field(
        default=0.7,
        ge=0.0,
        le=1.0,
        description="Lexical weight for queries written mostly in CJK script, because the local "
        "embedder (all-MiniLM-L6-v2) is English-only; `none` for a multilingual embedder",
    )
    rrf_k: int = Field(default=60, ge=1)
    candidates: int = Field(
        default=100, ge=1, le=1000, description="Hits taken from each sub-query before fusion"
    )

    @model_validator(mode="after")
    def _weights_not_both_zero(self) -> RetrievalSettings:
        if self.lexical_weight + self.dense_weight <= 0:
            raise ValueError("KASS_RETRIEVAL_LEXICAL_WEIGHT and _DENSE_WEIGHT cannot both be 0")
        return self


class AnswerSettings(BaseSettings):
    model_config = _config("KASS_ANSWER_")

    max_question_chars: int = Field(default=4000, ge=1)
    passages: int = Field(default=5, ge=1, le=50, description="Top chunks given to the answerer")
    min_similarity: float = Field(
        default=0.3, ge=-1.0, le=1.0, description="Cosine below which a chunk is not relevant"
    )
    min_coverage: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="For CJK questions: share of the question's content words a chunk must hold",
    )
    max_sentences: int = Field(default=3, ge=1, le=20)


class ModelPrice(BaseModel):
    """List price of a chat model in USD per million tokens (exact decimals, never floats)."""

    model_config = ConfigDict(extra="forbid")

    input: Decimal = Field(ge=0, description="USD per million input tokens")
    output: Decimal = Field(ge=0, description="USD per million output tokens")


class ChatSettings(BaseSettings):
    """The chat service: model routing, conversation history, response cache, prices."""

    model_config = _config("KASS_CHAT_")

    tier: Literal["auto", "extractive", "haiku", "sonnet", "sagemaker", "openai"] = Field(
        default="auto",
        description="`auto` routes each question (kass.chat.router, ADR 0008); a tier name pins "
        "that tier (the extractive tier stays behind it as the fallback)",
    )
    confidential_sources: Annotated[frozenset[str], NoDecode] = Field(
        default=frozenset(),
        description="Comma-separated sources whose passages must stay in the account (only the "
        "SageMaker tier and the extractive one may read them); `*` = every source",
    )
    complex_question_chars: int = Field(
        default=300, ge=1, description="Routing: a question this long goes to the complex tier"
    )
    complex_documents: int = Field(
        default=4, ge=1, description="Routing: relevant passages from this many documents = complex"
    )
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description='JSON {"<model id>": {"input": "0.80", "output": "4.00"}} in USD per million '
        "tokens; overrides the table in kass.llm.pricing",
    )
    history_messages: int = Field(
        default=20, ge=0, le=200, description="Messages returned with a conversation"
    )
    conversation_ttl_days: int = Field(
        default=90, ge=1, description="Messages expire this long after they were written"
    )
    cache_ttl_seconds: int = Field(
        default=3600, ge=0, description="Response cache lifetime; 0 disables the cache"
    )

    @field_validator("confidential_sources", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value


class AwsSettings(BaseSettings):
    """Names of the AWS resources the functions use (Terraform sets them per environment).

    Endpoints are not settings of ours: boto3's standard configuration (`AWS_ENDPOINT_URL`,
    `AWS_ENDPOINT_URL_<SERVICE>`) points the SDK at an emulator such as moto or LocalStack.
    """

    model_config = _config("KASS_AWS_")

    region: str = "us-east-1"
    raw_bucket: str = "kass-dev-raw"
    kms_key_id: str | None = Field(
        default=None, description="KMS key for SSE-KMS on raw documents; none = bucket default"
    )
    conversations_table: str = "kass-dev-conversations"
    cache_table: str = "kass-dev-cache"
    checkpoints_table: str = "kass-dev-checkpoints"
    idempotency_table: str = "kass-dev-idempotency"
    actions_table: str = "kass-dev-actions"
    connections_table: str = Field(
        default="kass-dev-connections", description="Open WebSocket connections and their owners"
    )
    opensearch_endpoint: str | None = Field(
        default=None,
        description="Collection or domain endpoint, e.g. https://abc.aoss.amazonaws.com",
    )
    opensearch_service: Literal["aoss", "es"] = "aoss"
    opensearch_index: str = "kass-chunks"
    connector_secret_prefix: str | None = Field(
        default=None,
        description="Secrets Manager prefix of the connectors' credentials "
        "(kass/<env>/connectors/; the secret <prefix><name> is a JSON object of their settings)",
    )
    max_attempts: int = Field(
        default=5, ge=1, le=20, description="botocore attempts per call (jittered backoff)"
    )


class BedrockSettings(BaseSettings):
    model_config = _config("KASS_BEDROCK_")

    embed_model_id: str = "amazon.titan-embed-text-v2:0"
    embed_dimension: int = Field(default=1024, description="Titan v2 output size: 256, 512 or 1024")
    # Cross-region inference profile ids (us./eu./apac. prefixes) are accepted as they are.
    haiku_model_id: str = "us.anthropic.claude-3-5-haiku-20241022-v1:0"
    sonnet_model_id: str = "us.anthropic.claude-sonnet-4-20250514-v1:0"
    max_tokens: int = Field(default=1024, ge=1, le=64_000)
    temperature: float = Field(default=0.0, ge=0.0, le=1.0)

    @field_validator("embed_dimension")
    @classmethod
    def _titan_dimension(cls, value: int) -> int:
        # Not a Literal: pydantic-settings would compare the env string "256" to the int 256.
        if value not in (256, 512, 1024):
            raise ValueError("Titan Text Embeddings v2 supports 256, 512 or 1024 dimensions")
        return value


class SageMakerSettings(BaseSettings):
    model_config = _config("KASS_SAGEMAKER_")

    endpoint_name: str | None = Field(
        default=None, description="Endpoint serving the 7B model's Messages API; none = tier off"
    )
    max_tokens: int = Field(default=1024, ge=1, le=32_000)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)


class AgentSettings(BaseSettings):
    """The tool-calling agent: step bound, proposed actions, deterministic review thresholds."""

    model_config = _config("KASS_AGENT_")

    max_model_calls: int = Field(
        default=6, ge=1, le=50, description="Model calls per turn; the agent stops after them"
    )
    search_k: int = Field(default=5, ge=1, le=20, description="Passages per knowledge search")
    proposal_ttl_minutes: int = Field(
        default=30, ge=1, le=7 * 24 * 60, description="A proposed action must be confirmed within"
    )
    audit_ttl_days: int = Field(
        default=400, ge=1, description="Actions and audit entries are kept this long"
    )
    review_max_files: int = Field(default=30, ge=1, description="Review: more files is oversized")
    review_max_lines: int = Field(
        default=800, ge=1, description="Review: more changed lines is oversized"
    )
    summary_max_points: int = Field(default=8, ge=2, le=50, description="Thread summary picks")


class OpenAISettings(BaseSettings):
    """The `openai` tier: any OpenAI-compatible chat server (LM Studio, Ollama, vLLM, OpenAI)."""

    model_config = _config("KASS_OPENAI_")

    base_url: str | None = Field(
        default=None,
        description="Server root with its API prefix, e.g. http://127.0.0.1:1234/v1; none = off",
    )
    model: str | None = Field(default=None, description="Model name the server knows")
    api_key: SecretStr | None = Field(
        default=None, description="Bearer token; none for most local servers"
    )
    timeout_seconds: float = Field(default=60.0, gt=0, description="Per request")
    max_retries: int = Field(
        default=2, ge=0, le=10, description="Client retries on 429/5xx/connection errors"
    )
    max_tokens: int = Field(default=1024, ge=1, le=64_000)
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    private: bool = Field(
        default=False,
        description="The server runs inside the trust boundary (localhost, the VPC): "
        "confidential requests may use it",
    )

    @model_validator(mode="after")
    def _model_with_url(self) -> OpenAISettings:
        if self.base_url and not self.model:
            raise ValueError(
                "KASS_OPENAI_MODEL must name the model when KASS_OPENAI_BASE_URL is set"
            )
        return self


class ServeSettings(BaseSettings):
    """`kass serve`: the local API-Gateway-compatible runtime of the functions."""

    model_config = _config("KASS_SERVE_")

    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    watch_interval: float = Field(
        default=1.0, gt=0, description="Seconds between scans of the local raw document folder"
    )
    web_dir: Path | None = Field(
        default=None,
        description="Folder of the web page served at / (index.html and its assets); "
        "none = the repository's web/",
    )


class StreamSettings(BaseSettings):
    """Answers streamed over WebSocket (the stream_handler function, docs/api/streaming.md)."""

    model_config = _config("KASS_STREAM_")

    management_url: str | None = Field(
        default=None,
        description="Endpoint of the API Gateway management API that posts to connections; "
        "none = https://{domainName}/{stage} of the event (`kass serve` sets its own URL)",
    )
    flush_interval_ms: int = Field(
        default=80,
        ge=0,
        le=1000,
        description="Deltas after the first are batched into at most one frame per interval",
    )

    @field_validator("management_url")
    @classmethod
    def _no_trailing_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None


class LambdaSettings(BaseSettings):
    """Target of `make build` (the layers must match the Lambda runtime's ABI)."""

    model_config = _config("KASS_LAMBDA_")

    python_version: Literal["3.11", "3.12", "3.13"] = "3.12"
    architecture: Literal["arm64", "x86_64"] = "arm64"


class LocalOutsideSettings(BaseSettings):
    """The local profile's stand-ins for Backlog, Slack and GitLab when their connectors are not
    configured (kass.adapters.local.outside): an outbox, a Slack export, patch files."""

    model_config = _config("KASS_LOCAL_")

    slack_export: Path | None = Field(
        default=None, description="Slack workspace export (folder or zip) /summarize reads"
    )
    slack_workspace_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KASS_LOCAL_SLACK_WORKSPACE_URL", "KASS_SLACK_WORKSPACE_URL"),
        description="https://<team>.slack.com/ for permalinks (an export does not hold it)",
    )
    merge_requests: Path | None = Field(
        default=None, description="Folder of <group>/<project>/<iid>.patch files /review reads"
    )
    backlog_projects: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Backlog project keys the outbox accepts besides those of indexed issues",
    )

    @field_validator("backlog_projects", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if value is None:  # KASS_LOCAL_BACKLOG_PROJECTS=none
            return []
        if isinstance(value, str):
            return [key.strip().upper() for key in value.split(",") if key.strip()]
        return value


class Settings:
    """All concerns, validated together by `load_settings()`."""

    def __init__(self) -> None:
        self.app = AppSettings()
        self.embedder = EmbedderSettings()
        self.chunker = ChunkerSettings()
        self.index = IndexSettings()
        self.retrieval = RetrievalSettings()
        self.answer = AnswerSettings()
        self.chat = ChatSettings()
        self.aws = AwsSettings()
        self.bedrock = BedrockSettings()
        self.sagemaker = SageMakerSettings()
        self.openai = OpenAISettings()
        self.serve = ServeSettings()
        self.stream = StreamSettings()
        self.lambda_ = LambdaSettings()
        self.agent = AgentSettings()
        self.local_outside = LocalOutsideSettings()
        self.discord = DiscordSettings()

    @cached_property
    def index_dir(self) -> Path:
        return self.app.home / "index"

    @cached_property
    def raw_dir(self) -> Path:
        """Local raw document store, laid out like the S3 bucket: `raw/<source>/<doc_id>.json`."""
        return self.app.home / "raw"

    @cached_property
    def state_db(self) -> Path:
        """Local conversations, response cache, checkpoints and idempotency records (SQLite)."""
        return self.app.home / "state.db"


def load_settings() -> Settings:
    """Read and validate every concern; raises pydantic.ValidationError naming the bad variable."""
    return Settings()


class DiscordSettings(BaseSettings):
    """The Discord bot (discord_handler): the application's keys and the interaction limits."""

    model_config = _config("KASS_DISCORD_")

    public_key: str | None = Field(
        default=None,
        description="The application's Ed25519 public key (hex, from the Developer Portal); "
        "none = every interaction is refused with 401",
    )
    application_id: str | None = Field(
        default=None, description="The application (client) id the commands are registered for"
    )
    bot_token: SecretStr | None = Field(
        default=None, description="Bot token, used only to register the commands"
    )
    api_base: str = Field(default="https://discord.com/api/v10", description="Discord REST root")
    max_age_seconds: int = Field(
        default=300, ge=1, le=3600, description="Older (or further future) signed requests: 401"
    )

    @field_validator("public_key")
    @classmethod
    def _hex_key(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
            raise ValueError("KASS_DISCORD_PUBLIC_KEY must be 64 hex characters (32 bytes)")
        return value

    @field_validator("api_base")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")
