"""The local stand-in for "S3 → EventBridge → SQS → document_processor".

The local raw document store is a folder laid out like the bucket (`<home>/raw/<source>/<quoted
id>.json`, key `raw/<source>/<id>.json`). This watcher turns each change of a document file
into the EventBridge "Object Created"/"Object Deleted" event S3 would emit, wraps it in an SQS
message, and delivers messages to the document processor in batches of at most 10, as the
Lambda event source mapping does. Like SQS with a redrive policy: records the handler reports
in `batchItemFailures` (or the whole batch, when the function fails) are received again on the
next scan, and a record that failed its third receive is moved to the dead-letter file
`<home>/dlq/document_processor.jsonl` (one JSON line per message).

Change kinds are not trusted: a file that exists when its change is handled is "Created"
(S3 emits that for overwrites too), one that does not is "Deleted". The processor reconciles
with the store, so duplicates and reordering are harmless.

On start, a reconciliation scan sends "Object Created" for every document, and "Object
Deleted" for every key seen by an earlier run that is gone (the keys seen are kept in
`<home>/serve/raw-keys.json`), so a folder edited while the server was down converges.

Only files the local store lists as documents count: `raw/<source>/<name>.json`, the name not
an emacs lock (`.#name.json`). That leaves out the store's temporary files (`.<random>.tmp`),
editor swap, autosave and backup files (`.name.json.swp`, `#name.json#`, `name.json~`) and
deeper folders. Other dot-names do count: document ids may start with a dot.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kass.adapters.local.raw_store import is_document_key
from kass.raw_keys import PREFIX
from kass.serve.events import (
    LOCAL_REGION,
    ObjectEventType,
    queue_arn,
    s3_eventbridge_event,
    sqs_record,
)
from kass.serve.functions import FunctionError

logger = logging.getLogger(__name__)

MAX_BATCH = 10  # SQS event source mapping: at most 10 records per batch (standard queue)
MAX_RECEIVES = 3  # the queue's redrive policy: maxReceiveCount
DLQ_FILE = Path("dlq") / "document_processor.jsonl"
STATE_FILE = Path("serve") / "raw-keys.json"

Invoke = Callable[[Mapping[str, Any]], Any]


@dataclass
class _Message:
    """An SQS message: its id and body stay the same across receives, as in SQS."""

    key: str
    detail_type: ObjectEventType
    body: str
    message_id: str
    sent_at_ms: int
    receive_count: int = 0
    first_received_at_ms: int | None = None


class RawFolderWatcher:
    def __init__(
        self,
        home: Path,
        invoke: Invoke,
        *,
        bucket: str,
        interval: float = 1.0,
        region: str = LOCAL_REGION,
        max_receives: int = MAX_RECEIVES,
        batch_size: int = MAX_BATCH,
        force_polling: bool | None = None,
    ) -> None:
        if not 1 <= batch_size <= MAX_BATCH:
            raise ValueError(f"batch_size must be between 1 and {MAX_BATCH}")
        self.home = Path(home)
        self.raw_dir = self.home / PREFIX.rstrip("/")
        self.dlq_file = self.home / DLQ_FILE
        self.state_file = self.home / STATE_FILE
        self.bucket = bucket
        self.interval = interval
        self.region = region
        self.queue_arn = queue_arn(region=region)
        self.max_receives = max_receives
        self.batch_size = batch_size
        self.force_polling = force_polling
        self._invoke = invoke
        self._new: list[_Message] = []
        self._retries: list[_Message] = []
        self._known: set[str] | None = None  # keys believed to exist (persisted)
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the background thread --------------------------------------------------------------
    def start(self) -> None:
        """Watch in a background thread: reconcile first, then deliver changes as they come."""
        if self._thread is not None:
            return
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="kass-raw-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        thread.join(timeout)
        if self.pending:
            logger.info("watcher stopped with %d undelivered messages", self.pending)

    def _run(self) -> None:
        import watchfiles  # the `local` extra; only `kass serve` needs it

        interval_ms = max(int(self.interval * 1000), 50)
        force_polling = self.force_polling
        reconciled = False
        while not self._stop.is_set():
            try:
                self.raw_dir.mkdir(parents=True, exist_ok=True)
                root = self.raw_dir.resolve()
                changes_seen = watchfiles.watch(
                    root,
                    watch_filter=functools.partial(self._accepts, root),
                    stop_event=self._stop,
                    force_polling=force_polling,
                    poll_delay_ms=interval_ms,
                    rust_timeout=interval_ms,
                    yield_on_timeout=True,  # a quiet folder still gets its retries delivered
                    debounce=max(interval_ms, 100),
                    raise_interrupt=False,
                )
                for changes in changes_seen:
                    # Reconcile once the notifier runs, so no change falls between the two.
                    if not reconciled:
                        self._safely(self.reconcile)
                        reconciled = True
                    paths = [Path(path) for _, path in changes]
                    self._safely(lambda: self.notice(paths))  # noqa: B023 - called at once
                    self._safely(self.flush)
            except Exception as error:
                if force_polling:
                    logger.exception("watching %s failed; retrying", self.raw_dir)
                    self._stop.wait(self.interval)
                else:
                    # e.g. the inotify watch limit: polling needs no kernel resources
                    logger.warning("file notifications failed (%s); polling instead", error)
                    force_polling = True

    def _safely(self, step: Callable[[], None]) -> None:
        try:
            step()
        except Exception:
            logger.exception("watcher step failed")

    def _accepts(self, root: Path, _: object, path: str) -> bool:
        try:
            return is_document_key(f"{PREFIX}{Path(path).relative_to(root).as_posix()}")
        except ValueError:
            return False

    # -- scanning ---------------------------------------------------------------------------
    def reconcile(self) -> None:
        """Deliver Created for every document and Deleted for known keys now gone."""
        with self._lock:
            on_disk = {
                key: path
                for path in sorted(self.raw_dir.glob("*/*.json"))
                if is_document_key(key := self._key(path)) and path.is_file()
            }
            known = self._known_keys()
            for key, path in on_disk.items():
                self._enqueue_created(key, path)
            for key in sorted(known - on_disk.keys()):
                self._enqueue("Object Deleted", key)
        self.flush()

    def notice(self, paths: Iterable[Path]) -> None:
        """Queue the event of each changed document file (existing: Created; gone: Deleted)."""
        with self._lock:
            seen: set[str] = set()
            for path in paths:
                relative = self._relative(path)
                if relative is None:
                    continue
                key = f"{PREFIX}{relative.as_posix()}"
                if key in seen or not is_document_key(key):
                    continue
                seen.add(key)
                target = self.raw_dir / relative
                if target.is_file():
                    self._enqueue_created(key, target)
                else:
                    self._enqueue("Object Deleted", key)

    @property
    def pending(self) -> int:
        """Messages waiting for their first or next receive."""
        with self._lock:
            return len(self._new) + len(self._retries)

    def _relative(self, path: Path) -> Path | None:
        for base in (self.raw_dir, self.raw_dir.resolve()):  # watchfiles reports resolved paths
            with contextlib.suppress(ValueError):
                return path.relative_to(base)
        return None

    def _key(self, path: Path) -> str:
        return f"{PREFIX}{path.relative_to(self.raw_dir).as_posix()}"

    def _enqueue_created(self, key: str, path: Path) -> None:
        try:
            content = path.read_bytes()
        except FileNotFoundError:  # deleted since it was seen
            self._enqueue("Object Deleted", key)
            return
        etag = hashlib.md5(content, usedforsecurity=False).hexdigest()  # S3: MD5 of a PUT body
        self._enqueue("Object Created", key, size=len(content), etag=etag)
        self._known_keys().add(key)

    def _enqueue(self, detail_type: ObjectEventType, key: str, **object_fields: Any) -> None:
        event = s3_eventbridge_event(
            detail_type, self.bucket, key, region=self.region, **object_fields
        )
        self._new.append(
            _Message(
                key=key,
                detail_type=detail_type,
                body=json.dumps(event),
                message_id=str(uuid.uuid4()),
                sent_at_ms=_now_ms(),
            )
        )

    # -- delivery ---------------------------------------------------------------------------
    def flush(self) -> None:
        """Deliver every waiting message once (retries first), in batches; then save state."""
        with self._lock:
            waiting, self._retries, self._new = self._retries + self._new, [], []
            for start in range(0, len(waiting), self.batch_size):
                self._deliver(waiting[start : start + self.batch_size])
            self._save_known()

    def _deliver(self, batch: list[_Message]) -> None:
        now = _now_ms()
        records = []
        for message in batch:
            message.receive_count += 1
            message.first_received_at_ms = message.first_received_at_ms or now
            records.append(
                sqs_record(
                    message.body,
                    message_id=message.message_id,
                    receive_count=message.receive_count,
                    sent_at_ms=message.sent_at_ms,
                    first_received_at_ms=message.first_received_at_ms,
                    source_arn=self.queue_arn,
                    region=self.region,
                )
            )
        ids = {message.message_id for message in batch}
        try:
            failed = failed_message_ids(self._invoke({"Records": records}), ids)
        except FunctionError:
            failed = ids  # a function error returns the whole batch to the queue
        for message, record in zip(batch, records, strict=True):
            if message.message_id not in failed:
                self._settle(message)
            elif message.receive_count >= self.max_receives:
                self._dead_letter(message, record)
                self._settle(message)
            else:
                self._retries.append(message)

    def _settle(self, message: _Message) -> None:
        if message.detail_type == "Object Deleted" and not (self.home / message.key).is_file():
            self._known_keys().discard(message.key)

    def _dead_letter(self, message: _Message, record: Mapping[str, Any]) -> None:
        logger.warning(
            "%s %s failed %d receives; moved to %s",
            message.detail_type,
            message.key,
            message.receive_count,
            self.dlq_file,
        )
        entry = {
            "movedAt": datetime.now(UTC).isoformat(),
            "sourceQueueArn": self.queue_arn,
            "key": message.key,
            "record": record,
        }
        self.dlq_file.parent.mkdir(parents=True, exist_ok=True)
        with self.dlq_file.open("a", encoding="utf-8") as dlq:
            dlq.write(json.dumps(entry) + "\n")

    # -- keys seen, across runs -------------------------------------------------------------
    def _known_keys(self) -> set[str]:
        if self._known is None:
            try:
                self._known = set(json.loads(self.state_file.read_text(encoding="utf-8")))
            except FileNotFoundError:
                self._known = set()
            except (ValueError, TypeError):
                logger.warning("ignoring unreadable %s", self.state_file)
                self._known = set()
        return self._known

    def _save_known(self) -> None:
        if self._known is None:
            return
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            "w", dir=self.state_file.parent, suffix=".tmp", delete=False, encoding="utf-8"
        ) as handle:
            json.dump(sorted(self._known), handle)
        os.replace(handle.name, self.state_file)


def failed_message_ids(response: Any, delivered: set[str]) -> set[str]:
    """Message ids to receive again, read from a partial batch response the way Lambda does.

    A null or empty response or `batchItemFailures` means success; a malformed response or an
    item naming no delivered message makes the whole batch fail.
    """
    if response is None or response == {}:
        return set()
    if not isinstance(response, dict):
        return set(delivered)
    failures = response.get("batchItemFailures")
    if not failures:
        return set()
    if not isinstance(failures, list):
        return set(delivered)
    failed: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not isinstance(identifier, str) or identifier not in delivered:
            return set(delivered)
        failed.add(identifier)
    return failed


def _now_ms() -> int:
    return int(time.time() * 1000)
