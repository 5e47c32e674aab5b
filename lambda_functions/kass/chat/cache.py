"""Response cache keys: the same question about the same index state gives the same key.

The index version is a counter every write to the index bumps (`INDEX_VERSION`), so an answer
is never served from before the documents it should have used were indexed. Answers a fallback
tier wrote are not cached (the chat service decides; ADR 0008), so the better tier is retried.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping

INDEX_VERSION = "index-version"  # CheckpointStore counter bumped by every index write

_SPACE = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s?？!！。.、,]+$")


def normalize_question(question: str) -> str:
    """Fold what does not change the question: width (NFKC), case, spacing, end punctuation."""
    text = unicodedata.normalize("NFKC", question).casefold()
    return _TRAILING.sub("", _SPACE.sub(" ", text).strip())


def cache_key(question: str, filters: Mapping[str, str], index_version: int, route: str) -> str:
    """`route` is the requested tier chain (`kass.chat.router.Route.key`): pinning another tier,
    or a confidential request, plans another chain and so misses."""
    material = json.dumps(
        [normalize_question(question), sorted(filters.items()), index_version, route],
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
