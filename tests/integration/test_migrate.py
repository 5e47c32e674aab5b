"""`kass migrate --to aws`: the use case under in-process moto; the command on a moto server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import boto3
import pytest
import requests
from aws_fixtures import REGION, create_bucket, create_tables, set_moto_env, table_names
from moto import mock_aws
from moto.server import ThreadedMotoServer
from typer.testing import CliRunner

from kass.adapters.aws.clients import client as cached_client
from kass.adapters.aws.dynamodb import TABLES, DynamoCheckpointStore, DynamoConversationStore
from kass.adapters.aws.s3 import S3RawDocumentStore
from kass.adapters.local.raw_store import FolderRawDocumentStore
from kass.adapters.local.state import SqliteCheckpointStore, SqliteConversationStore
from kass.cli import app
from kass.ids import new_message_id
from kass.migrate import Source, Target, migrate_to_aws
from kass.models import Document, Message
from kass.settings import AwsSettings

NOW = datetime.now(UTC).replace(microsecond=0)
TTL_DAYS = 90
DOCUMENTS = 4
MESSAGES = 6  # 3 conversations of a question and an answer
CHECKPOINTS = 3  # 2 connector states and the index-version counter


def fill_workspace(home: Path) -> None:
    """A local workspace as `kass ingest` / `kass serve` leave it (raw docs written directly)."""
    raw = FolderRawDocumentStore(home)
    for n in range(DOCUMENTS):
        raw.put(
            Document(
                id=f"group/project#{n}",
                source="gitlab" if n % 2 else "backlog",
                title=f"課題 {n}",
                text=f"本文 {n}",
                updated_at=NOW,
            )
        )
    conversations = SqliteConversationStore(home / "state.db", ttl_days=TTL_DAYS)
    for n in range(MESSAGES // 2):
        asked = NOW - timedelta(hours=n)
        turn: list[tuple[Literal["user", "assistant"], datetime]] = [
            ("user", asked),
            ("assistant", asked + timedelta(seconds=2)),
        ]
        for role, moment in turn:
            conversations.append(
                Message(
                    id=new_message_id(moment),
                    conversation_id=f"conv-{n}",
                    user_id=f"user-{n % 2}",
                    role=role,
                    text=f"{role} {n}",
                    tier="extractive" if role == "assistant" else None,
                    created_at=moment,
                )
            )
    conversations.close()
    checkpoints = SqliteCheckpointStore(home / "state.db")
    checkpoints.save("gitlab", {"updated_after": "2025-03-01T00:00:00Z"})
    checkpoints.save("slack", {"cursor": "abc", "channels": ["C1", "C2"]})
    for _ in range(3):
        checkpoints.increment("index-version")
    checkpoints.close()


# -- the use case, under in-process moto ---------------------------------------------------------
def fixed_clock() -> datetime:
    return NOW


class AwsWorld:
    """One set of target bucket and tables (several can live in one moto account)."""

    def __init__(self, prefix: str) -> None:
        self.aws = AwsSettings(
            raw_bucket=f"{prefix}-raw",
            **{f"{kind}_table": f"{prefix}-{kind}" for kind in TABLES},
        )
        self.s3 = boto3.client("s3", region_name=REGION)
        self.dynamodb = boto3.client("dynamodb", region_name=REGION)
        create_bucket(self.s3, self.aws.raw_bucket)
        create_tables(self.dynamodb, table_names(self.aws))

    def target(self) -> Target:
        return Target(
            raw_store=S3RawDocumentStore(self.aws.raw_bucket, client=self.s3),
            conversations=DynamoConversationStore(
                self.aws.conversations_table, ttl_days=TTL_DAYS, client=self.dynamodb
            ),
            checkpoints=DynamoCheckpointStore(
                self.aws.checkpoints_table, client=self.dynamodb, clock=fixed_clock
            ),
        )

    def snapshot(self) -> dict[str, Any]:
        """Everything the migration writes, comparable across worlds."""
        objects = {}
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.aws.raw_bucket):
            for entry in page.get("Contents", []):
                got = self.s3.get_object(Bucket=self.aws.raw_bucket, Key=entry["Key"])
                objects[entry["Key"]] = (got["Body"].read(), got["Metadata"])

        def items(table: str) -> list[str]:
            scanned = self.dynamodb.scan(TableName=table)["Items"]
            return sorted(json.dumps(item, sort_keys=True) for item in scanned)

        return {
            "objects": objects,
            "conversations": items(self.aws.conversations_table),
            "checkpoints": items(self.aws.checkpoints_table),
        }


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    set_moto_env(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture
def source(tmp_path: Path) -> Iterator[Source]:
    fill_workspace(tmp_path)
    conversations = SqliteConversationStore(tmp_path / "state.db", ttl_days=TTL_DAYS)
    checkpoints = SqliteCheckpointStore(tmp_path / "state.db")
    yield Source(FolderRawDocumentStore(tmp_path), conversations, checkpoints)
    conversations.close()
    checkpoints.close()


class Outage(Exception):
    pass


class FailingAfter:
    """Passes calls to a store; its write methods fail once `budget` writes have been made."""

    def __init__(self, inner: Any, budget: list[int], writes: set[str]) -> None:
        self._inner, self._budget, self._writes = inner, budget, writes

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        if name not in self._writes:
            return attribute

        def write(*args: Any, **kwargs: Any) -> Any:
            if self._budget[0] == 0:
                raise Outage("connection reset")
            self._budget[0] -= 1
            return attribute(*args, **kwargs)

        return write


def failing_after(target: Target, writes: int) -> Target:
    budget = [writes]  # shared by the three stores: the Nth write overall fails
    return Target(
        raw_store=FailingAfter(target.raw_store, budget, {"put"}),
        conversations=FailingAfter(target.conversations, budget, {"put_message"}),
        checkpoints=FailingAfter(target.checkpoints, budget, {"save", "raise_counter"}),
    )


def test_given_a_workspace_when_migrated_then_everything_is_copied_and_readable(moto, source):
    world = AwsWorld("one")
    target = world.target()

    report = migrate_to_aws(source, target, dry_run=False)

    assert (report.raw_documents.copied, report.messages.copied, report.checkpoints.copied) == (
        DOCUMENTS,
        MESSAGES,
        CHECKPOINTS,
    )
    for key in source.raw_store.keys(None):
        assert target.raw_store.get(key) == source.raw_store.get(key)
    local = source.conversations
    aws = target.conversations
    assert all(aws.messages(f"conv-{n}") == local.messages(f"conv-{n}") for n in range(3))
    assert aws.conversations("user-0") == local.conversations("user-0")
    assert target.checkpoints.load("slack") == {"cursor": "abc", "channels": ["C1", "C2"]}
    assert target.checkpoints.counter("index-version") == 3


def test_given_a_dry_run_when_migrating_then_the_plan_is_counted_and_nothing_written(moto, source):
    world = AwsWorld("one")
    empty = world.snapshot()

    report = migrate_to_aws(source, world.target(), dry_run=True)

    assert report.dry_run is True
    assert report.copied == DOCUMENTS + MESSAGES + CHECKPOINTS
    assert world.snapshot() == empty


def test_given_a_migrated_workspace_when_run_again_then_nothing_is_copied(moto, source):
    world = AwsWorld("one")
    migrate_to_aws(source, world.target(), dry_run=False)
    before = world.snapshot()

    report = migrate_to_aws(source, world.target(), dry_run=False)
    plan = migrate_to_aws(source, world.target(), dry_run=True)

    assert report.copied == plan.copied == 0
    assert report.raw_documents.skipped == DOCUMENTS
    assert report.messages.skipped == MESSAGES
    assert report.checkpoints.skipped == CHECKPOINTS
    assert world.snapshot() == before


def test_given_a_document_edited_locally_when_run_again_then_only_it_is_copied(
    moto, source, tmp_path
):
    world = AwsWorld("one")
    migrate_to_aws(source, world.target(), dry_run=False)
    raw = FolderRawDocumentStore(tmp_path)
    edited = raw.get(next(raw.keys())).model_copy(update={"text": "edited"})
    raw.put(edited)

    report = migrate_to_aws(source, world.target(), dry_run=False)

    assert (report.raw_documents.copied, report.raw_documents.skipped) == (1, DOCUMENTS - 1)
    assert world.target().raw_store.holds(edited)


def test_given_a_higher_counter_in_aws_when_migrating_then_it_is_not_lowered(moto, source):
    world = AwsWorld("one")
    target = world.target()
    for _ in range(5):
        target.checkpoints.increment("index-version")

    migrate_to_aws(source, target, dry_run=False)

    assert target.checkpoints.counter("index-version") == 5


@pytest.mark.parametrize("writes", [0, 2, DOCUMENTS + 3, DOCUMENTS + MESSAGES + 1])
def test_given_a_run_interrupted_after_some_writes_when_rerun_then_it_ends_as_one_clean_run(
    moto, source, writes
):
    clean = AwsWorld("clean")
    migrate_to_aws(source, clean.target(), dry_run=False)
    resumed = AwsWorld("resumed")

    with pytest.raises(Outage):
        migrate_to_aws(source, failing_after(resumed.target(), writes), dry_run=False)
    report = migrate_to_aws(source, resumed.target(), dry_run=False)

    assert report.copied == DOCUMENTS + MESSAGES + CHECKPOINTS - writes
    assert resumed.snapshot() == clean.snapshot()
    conversation_items = resumed.snapshot()["conversations"]
    assert len(conversation_items) == MESSAGES + 3  # each message once, one meta each


# -- the command, against a moto server ---------------------------------------------------------
@pytest.fixture(scope="module")
def moto_server() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws_endpoint(moto_server: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    requests.post(f"{moto_server}/moto-api/reset", timeout=10)
    set_moto_env(monkeypatch, endpoint_url=moto_server)
    cached_client.cache_clear()  # clients made earlier point elsewhere
    yield moto_server
    cached_client.cache_clear()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    fill_workspace(home)
    monkeypatch.chdir(tmp_path)  # no stray .env from the developer's checkout
    return home


def provision(endpoint: str, *, tables: bool = True) -> tuple[Any, Any]:
    """The resources Terraform creates, with the settings' default names."""
    aws = AwsSettings()
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
    dynamodb = boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint)
    create_bucket(s3, aws.raw_bucket)
    if tables:
        create_tables(dynamodb, table_names(aws))
    return s3, dynamodb


def kass(home: Path, *args: str, **env: str):
    return CliRunner().invoke(app, list(args), env={"KASS_HOME": str(home), **env})


def object_count(s3: Any) -> int:
    return s3.list_objects_v2(Bucket=AwsSettings().raw_bucket).get("KeyCount", 0)


def message_items(dynamodb: Any) -> int:
    items = dynamodb.scan(TableName=AwsSettings().conversations_table)["Items"]
    return sum(item["sk"]["S"].startswith("msg#") for item in items)


def test_given_a_workspace_when_the_command_runs_then_dry_run_moves_nothing_and_runs_converge(
    aws_endpoint, home
):
    s3, dynamodb = provision(aws_endpoint)
    kms_key = boto3.client("kms", region_name=REGION, endpoint_url=aws_endpoint).create_key()
    key_id = kms_key["KeyMetadata"]["KeyId"]
    env = {"KASS_AWS_KMS_KEY_ID": key_id}

    planned = kass(home, "migrate", "--to", "aws", "--dry-run", "--json", **env)
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.stdout)["raw_documents"] == {"copied": DOCUMENTS, "skipped": 0}
    assert (object_count(s3), message_items(dynamodb)) == (0, 0)

    copied = kass(home, "migrate", "--to", "aws", "--json", **env)
    assert copied.exit_code == 0, copied.output
    assert json.loads(copied.stdout)["messages"] == {"copied": MESSAGES, "skipped": 0}
    assert (object_count(s3), message_items(dynamodb)) == (DOCUMENTS, MESSAGES)
    first_key = s3.list_objects_v2(Bucket=AwsSettings().raw_bucket)["Contents"][0]["Key"]
    assert s3.head_object(Bucket=AwsSettings().raw_bucket, Key=first_key)["SSEKMSKeyId"] == key_id

    again = kass(home, "migrate", "--to", "aws", **env)
    assert again.exit_code == 0, again.output
    assert "already there" in again.stdout
    rows = {line.split("│")[1].strip(): line for line in again.stdout.splitlines() if "│" in line}
    assert rows["raw documents"].split("│")[2].strip() == "0"
    assert rows["conversation messages"].split("│")[3].strip() == str(MESSAGES)


def test_given_an_unknown_target_when_the_command_runs_then_a_one_line_error_and_exit_2(home):
    result = kass(home, "migrate", "--to", "gcp")

    assert result.exit_code == 2
    assert "unknown migration target 'gcp'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_given_missing_tables_when_the_command_runs_then_a_one_line_error_naming_the_table(
    aws_endpoint, home
):
    provision(aws_endpoint, tables=False)

    result = kass(home, "migrate", "--to", "aws")

    assert result.exit_code == 1
    assert f"'{AwsSettings().conversations_table}' does not exist" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_given_no_workspace_when_the_command_runs_then_it_says_there_is_nothing_to_migrate(
    aws_endpoint, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)

    result = kass(tmp_path / "absent", "migrate", "--to", "aws")

    assert result.exit_code == 1
    assert "nothing to migrate" in result.stderr
    assert not (tmp_path / "absent").exists()
