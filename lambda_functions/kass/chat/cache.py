"""Response cache keys: the same question about the same index state gives the same key.

The index version is a counter every write to the index bumps (`INDEX_VERSION`), so an answer
is never served from before the documents it should have used were indexed.
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


def cache_key(question: str, filters: Mapping[str, str], index_version: int, tier: str) -> str:
    material = json.dumps(
        [normalize_question(question), sorted(filters.items()), index_version, tier],
        ensure_ascii=False,
    )
    return hashlib.sha256(material.encode("utf-8")).hexdigest()
