"""Retrieved text as the models see it: numbered, delimited blocks that are data, not orders.

One shape for the answerer (kass.llm.generative) and the agent's tools (kass.chat.tools), so a
passage's number means the same everywhere and `kass.chat.citations` can check every `[n]`.
"""

from __future__ import annotations

import html
import re

from kass.llm.prompts import PASSAGE_TEMPLATE
from kass.models import SearchHit

# Only the tags that delimit data blocks are neutralised, so code in the data stays readable.
_DATA_TAG = re.compile(r"<(?=\s*/?\s*(?:passages?|thread|diff|data)\b)", re.IGNORECASE)


def format_passage(n: int, hit: SearchHit) -> str:
    chunk = hit.chunk
    url = f' url="{attribute(chunk.url)}"' if chunk.url else ""
    return PASSAGE_TEMPLATE.format(
        n=n,
        source=attribute(chunk.source),
        title=attribute(chunk.title),
        url=url,
        text=escape_data(chunk.text.strip()),
    )


def attribute(value: str) -> str:
    return html.escape(" ".join(value.split()), quote=True)


def escape_data(text: str) -> str:
    """Text inside a data block cannot open or close a block of its own."""
    return _DATA_TAG.sub("&lt;", text)
