"""Lexical analysis shared by indexing and querying: the same text always yields the same terms.

- Unicode NFKC then lower case (full-width "ＡＰＩ" and "API" meet).
- Latin/other word runs: split on anything that is not a letter or digit; English stop words
  dropped; pure a-z words Porter2-stemmed ("failed", "failing" -> "fail").
- CJK runs (kana, kanji, hangul): overlapping character bigrams ("通知届" -> "通知", "知届"), a
  single character stays a unigram. Japanese has no spaces, so bigrams are the usual
  dictionary-free way to make it searchable (what OpenSearch's `cjk` analyzer does).

Terms contain no ASCII punctuation or spaces, so the index stores them space-joined and the
FTS5 `ascii` tokenizer splits them back exactly.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import snowballstemmer

# Hiragana, Katakana (+ phonetic extensions, prolonged sound mark), CJK ideographs (+ ext. A,
# compatibility), Hangul syllables.
_CJK = r"\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_RUN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+")
_CJK_RUN = re.compile(rf"[{_CJK}]")
_ASCII_WORD = re.compile(r"[a-z]+")

# Lucene's English stop set plus a few question words that carry no topic.
STOPWORDS = frozenset(
    """a an and are as at be but by for if in into is it no not of on or such that the their
    then there these they this to was will with what which who whom how why when where do does
    did i me my we our you your he she his her its them from has have had been can could would
    should about""".split()  # noqa: SIM905 (a word list reads better than 67 quoted strings)
)

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    # The pure-Python stemmer costs ~50 us a word; vocabularies repeat, so the cache makes
    # indexing cost ~1 us a word.
    return _stemmer.stemWord(word)


def analyze(text: str) -> list[str]:
    """Terms of `text`, in order, with repeats (term frequency matters to BM25)."""
    terms: list[str] = []
    for run in _RUN.findall(unicodedata.normalize("NFKC", text).lower()):
        if _CJK_RUN.match(run):
            terms.extend(_bigrams(run))
        elif run not in STOPWORDS:
            terms.append(_stem(run) if _ASCII_WORD.fullmatch(run) else run)
    return terms


def query_terms(text: str) -> list[str]:
    """Distinct terms of a query, in first-seen order; they are OR-ed (any may match)."""
    return list(dict.fromkeys(analyze(text)))


def index_text(text: str) -> str:
    """What the full-text table stores for `text`: its terms, space-separated."""
    return " ".join(analyze(text))


def _bigrams(run: str) -> list[str]:
    if len(run) == 1:
        return [run]
    return [run[i : i + 2] for i in range(len(run) - 1)]
