"""Script detection for CJK text, used where the English-only local embedder cannot be trusted."""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_LETTER = re.compile(r"[^\W\d_]")
# Kanji, katakana and hangul runs carry content words; hiragana is mostly grammar.
_CONTENT_RUN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々]+|[\u30a0-\u30ffー]+|[\uac00-\ud7af]+"
)


def is_mostly_cjk(text: str) -> bool:
    """True when at least half the letters are kana, kanji or hangul."""
    letters = len(_LETTER.findall(text))
    return letters > 0 and len(_CJK.findall(text)) * 2 >= letters


def is_japanese(text: str) -> bool:
    """Mostly CJK and written with kana (Chinese and Korean have none)."""
    return is_mostly_cjk(text) and _KANA.search(text) is not None


def cjk_content_terms(text: str) -> list[str]:
    """Character bigrams of the kanji/katakana/hangul runs, in order, with repeats (a single
    character stays whole)."""
    terms: list[str] = []
    for run in _CONTENT_RUN.findall(text):
        terms.extend([run] if len(run) == 1 else (run[i : i + 2] for i in range(len(run) - 1)))
    return terms


def cjk_coverage(question: str, text: str) -> float:
    """Share of the question's CJK content terms that occur in `text`."""
    wanted = set(cjk_content_terms(question))
    if not wanted:
        return 0.0
    return sum(term in text for term in wanted) / len(wanted)
