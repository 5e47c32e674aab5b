"""Keys of raw documents: `raw/<source>/<quoted doc_id>.json`, the same in S3 and locally.

Document ids come from outside systems and may hold `/`, `:` or `#`; quoting keeps one
document one object, and `doc_key` / `parse_key` are inverse.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from kass.errors import InvalidInput

PREFIX = "raw/"
SUFFIX = ".json"


def doc_key(source: str, doc_id: str) -> str:
    return f"{PREFIX}{quote(source, safe='')}/{quote(doc_id, safe='')}{SUFFIX}"


def parse_key(key: str) -> tuple[str, str]:
    """(source, doc_id) of a raw document key; InvalidInput for any other key."""
    if not (key.startswith(PREFIX) and key.endswith(SUFFIX)):
        raise InvalidInput(f"not a raw document key: {key!r}")
    parts = key[len(PREFIX) : -len(SUFFIX)].split("/")
    if len(parts) != 2 or not all(parts):
        raise InvalidInput(f"not a raw document key: {key!r}")
    return unquote(parts[0]), unquote(parts[1])
