"""The extractive answerer: answers by quoting the passages' most relevant sentences, no model.

It is the tier that always works (no GPU, no network, no API key), so the local default answers
questions with citations out of the box. Every sentence it writes is copied from a passage and
followed by that passage's `[n]` marker, so it cannot state anything the sources do not say.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kass.language import cjk_content_terms
from kass.models import Chunk, SearchHit
from kass.ports import Embedder

# --- weights (scores are on the cosine scale, roughly 0..1) -----------------------------------
# MiniLM under-weights exact identifiers (versions, error codes) and reads Japanese poorly, so
# lexical overlap keeps an equal share even with an embedder (0.25 picked worse sentences on the
# Japanese questions of samples/questions.json, and no better ones on the English questions).
LEXICAL_WEIGHT_WITH_EMBEDDER = 0.5
RANK_PRIOR = 0.05  # the retriever's order is evidence too: +0.05 for passage 1, +0.025 for 2, ...
CUE_BONUS = 0.08  # the sentence has the kind of content the question asks for (a cause, a date)
FULL_SENTENCE_UNITS = 8  # sentences shorter than this (in words) are proportionally discounted
MIN_SENTENCE_UNITS = 5  # below this a "sentence" is a fragment ("LGTM.", "原因が分かりました。")
TITLE_CREDIT = 0.5  # a question term found only in the passage's title counts half
SPECIFIC_TERM_WEIGHT = 2.0  # terms with digits (versions, ticket numbers, codes) pin the topic
RELATIVE_FLOOR = 0.6  # further sentences must score at least this share of the best one
REDUNDANT_COSINE = 0.9
REDUNDANT_JACCARD = 0.6

# --- text patterns ---------------------------------------------------------------------------
_URL = re.compile(r"<?https?://[^\s>]+>?")
_TIME = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?|\b\d{1,2}:\d{2}(?::\d{2})?\b"
)
_METADATA_NOISE = re.compile(r"[()\[\]<>|·•—–:,@]|\b(?:JST|UTC|GMT|am|pm)\b", re.IGNORECASE)
# "author (time): message" as one line (Slack exports, some connectors).
_AUTHOR_PREFIX = re.compile(r"^[\w.\-]+\s*\([^()]*\d[^()]*\)\s*:\s+")
_BULLET = re.compile(r"^(?:[-*•>]\s+|\d{1,2}[.)]\s+)")
# Text that would read as a citation marker once copied into the answer.
_BRACKETED_NUMBERS = re.compile(r"\[\s*\d+(?:\s*,\s*\d+)*\s*\]")
# English ends need a following space ("2.3.0" is not an end); Japanese ones do not.
_SENTENCE_END = re.compile(r"(?<=[。！？])\s*|(?<=[.!?])\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "vs.", "approx.", "no.", "mr.", "ms.", "dr.")

_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff々]")
_LATIN_TOKEN = re.compile(r"[a-z0-9]+(?:[._\-/][a-z0-9]+)*")
_VERSION = re.compile(r"^\d+(?:\.\d+)+$")

_ENGLISH_STOPWORDS = (
    "a an the is are was were be been being do does did done to of in on at by for with from "
    "and or not no it its this that these those there their they we our you your i me my he "
    "she what why how when where which who whom whose can could should would will shall may "
    "might has have had as if so than then but about into over after before any all some"
)
_STOPWORDS = frozenset(_ENGLISH_STOPWORDS.split())
_WHY_QUESTION = re.compile(r"\b(?:why|cause[sd]?|reason)\b|なぜ|原因|理由|どうして", re.IGNORECASE)
_WHEN_QUESTION = re.compile(
    r"\bwhen\b|\bwhat (?:date|time|day)\b|いつ|日時|何日|何時", re.IGNORECASE
)
_CAUSE_CUE = re.compile(
    r"\b(?:because|caused?|root cause|due to|so that|which is why)\b|原因|ため|により|ので",
    re.IGNORECASE,
)
_DATE_CUE = re.compile(
    r"\d{4}-\d{2}-\d{2}|\d{1,2}月\d{1,2}日|\b\d{1,2}:\d{2}\b|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|"
    r"Sep|Oct|Nov|Dec)[a-z]*\.? \d{1,2}\b|\b(?:Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day\b"
)


@dataclass(frozen=True)
class Candidate:
    """A sentence of a passage, as it would be quoted."""

    text: str
    passage: int  # 0-based position in the passages given to `answer`
    position: int  # order within the passage
    title: str = ""  # the passage's document title


class ExtractiveAnswerer:
    """`Answerer` that quotes up to `max_sentences` relevant, non-redundant sentences."""

    def __init__(self, embedder: Embedder | None = None, max_sentences: int = 3):
        if max_sentences < 1:
            raise ValueError("max_sentences must be at least 1")
        self._embedder = embedder
        self._max_sentences = max_sentences

    @property
    def tier(self) -> str:
        return "extractive"

    def answer(self, question: str, passages: Sequence[SearchHit]) -> str:
        candidates = _candidates(passages)
        if not candidates:
            return ""
        relevance, vectors = self._relevance(question, candidates)
        scores, grounded = _adjusted_scores(question, candidates, relevance)
        chosen = _select(candidates, scores, grounded, vectors, self._max_sentences)
        return _compose([candidates[i] for i in chosen])

    def _relevance(
        self, question: str, candidates: list[Candidate]
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Per-candidate similarity to the question, plus sentence vectors when embedding."""
        lexical = _lexical_scores(question, candidates)
        if self._embedder is None:
            return lexical, None
        # One batch: the question and every sentence; vectors are unit length, so dot = cosine.
        vectors = self._embedder.embed_documents([question, *(c.text for c in candidates)])
        cosine = vectors[1:] @ vectors[0]
        w = LEXICAL_WEIGHT_WITH_EMBEDDER
        blended = (1 - w) * cosine.astype(np.float64) + w * lexical
        return blended, vectors[1:]


# --- sentences ----------------------------------------------------------------------------------


def split_sentences(text: str) -> list[str]:
    """Split on line breaks and on English (.!? + space) and Japanese (。！？) sentence ends."""
    sentences: list[str] = []
    for line in text.splitlines():
        pending = ""
        for piece in _SENTENCE_END.split(line.strip()):
            if not piece:
                continue
            pending = f"{pending} {piece}" if pending else piece
            if not pending.lower().endswith(_ABBREVIATIONS):
                sentences.append(pending)
                pending = ""
        if pending:
            sentences.append(pending)
    return sentences


def passage_sentences(chunk: Chunk) -> list[str]:
    """The quotable sentences of a chunk: no title prefix, headings, tables or metadata lines."""
    sentences: list[str] = []
    for line in chunk.body.splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "|", "```")) or _is_metadata_line(line):
            continue
        line = _BULLET.sub("", _AUTHOR_PREFIX.sub("", line))
        for sentence in split_sentences(line):
            sentence = _clean(sentence)
            if _units(sentence) >= MIN_SENTENCE_UNITS:
                sentences.append(sentence)
    return sentences


def _is_metadata_line(line: str) -> bool:
    """An author/timestamp/permalink header ("kenji.sato (2024-05-14 11:02 JST) https://...")."""
    if not (_URL.search(line) or _TIME.search(line)):
        return False
    rest = _METADATA_NOISE.sub(" ", _TIME.sub(" ", _URL.sub(" ", line)))
    return len(rest.split()) <= 2 and not _CJK_CHAR.search(rest)


def _clean(sentence: str) -> str:
    sentence = _BRACKETED_NUMBERS.sub("", _URL.sub("", sentence))
    sentence = sentence.replace("**", "")
    return " ".join(sentence.split()).strip(" ,;、")


def _units(sentence: str) -> float:
    """Rough length in words: Latin words plus two Japanese characters per word."""
    latin_words = len(re.findall(r"[A-Za-z0-9]+", sentence))
    return latin_words + len(_CJK_CHAR.findall(sentence)) / 2


def _candidates(passages: Sequence[SearchHit]) -> list[Candidate]:
    """Every quotable sentence once, kept at its best-ranked passage (chunks overlap)."""
    seen: set[str] = set()
    out: list[Candidate] = []
    for p, hit in enumerate(passages):
        for position, text in enumerate(passage_sentences(hit.chunk)):
            key = text.casefold()
            if key not in seen:
                seen.add(key)
                out.append(Candidate(text, p, position, hit.chunk.title))
    return out


# --- scoring -------------------------------------------------------------------------------------


def _tokens(text: str) -> list[str]:
    """Lexical terms: stemmed English words, version prefixes, and kanji/katakana bigrams."""
    text = text.lower()
    terms: list[str] = []
    for token in _LATIN_TOKEN.findall(text):
        if _VERSION.match(token):
            parts = token.split(".")
            # "2.3.0" also matches a question about "2.3"
            terms.extend(".".join(parts[:n]) for n in range(2, len(parts) + 1))
            continue
        words = re.split(r"[._\-/]", token)
        for word in ([token] if len(words) > 1 else []) + words:
            if word not in _STOPWORDS and (len(word) > 1 or word.isdigit()):
                terms.append(_stem(word))
    terms.extend(cjk_content_terms(text))
    return terms


def _stem(word: str) -> str:
    """A crude suffix strip so "fails", "failed", "failing" meet; enough for overlap scoring."""
    if word.isdigit() or len(word) <= 4:
        return word
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def _lexical_scores(question: str, candidates: Sequence[Candidate]) -> np.ndarray:
    """Weighted share of the question's terms a sentence contains (0..1).

    Weights are idf over the candidate sentences (a term every sentence has says little about
    which one answers), doubled for terms with digits. Terms found only in the passage's title
    count for TITLE_CREDIT: a sentence under "2.4 release plan" is about 2.4 even if it does not
    repeat it.
    """
    query = set(_tokens(question))
    if not query or not candidates:
        return np.zeros(len(candidates))
    term_sets = [set(_tokens(c.text)) for c in candidates]
    title_sets = {title: set(_tokens(title)) for title in {c.title for c in candidates}}
    df = Counter(t for terms in term_sets for t in terms & query)
    n = len(candidates)
    weight = {
        t: math.log(1 + (n + 1) / (df[t] + 1))
        * (SPECIFIC_TERM_WEIGHT if any(ch.isdigit() for ch in t) else 1.0)
        for t in query
    }
    total = sum(weight.values())
    scores = np.empty(n)
    for i, (c, terms) in enumerate(zip(candidates, term_sets, strict=True)):
        in_title = (query & title_sets[c.title]) - terms
        matched = sum(weight[t] for t in query & terms)
        scores[i] = (matched + TITLE_CREDIT * sum(weight[t] for t in in_title)) / total
    return scores


def _answer_cue(question: str) -> re.Pattern[str] | None:
    """What an answer to this kind of question contains: a cause for "why", a date for "when"."""
    if _WHY_QUESTION.search(question):
        return _CAUSE_CUE
    if _WHEN_QUESTION.search(question):
        return _DATE_CUE
    return None


def _adjusted_scores(
    question: str, candidates: list[Candidate], relevance: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(scores, grounded): relevance discounted for fragments, plus answer-type cue and rank prior.

    `grounded` tells whether a sentence relates to the question at all, as opposed to scoring
    only through the cue and the prior.
    """
    cue = _answer_cue(question)
    scores = np.empty(len(candidates))
    for i, c in enumerate(candidates):
        own = max(0.0, relevance[i]) * min(1.0, _units(c.text) / FULL_SENTENCE_UNITS)
        bonus = CUE_BONUS if cue is not None and cue.search(c.text) else 0.0
        scores[i] = own + bonus + RANK_PRIOR / (1 + c.passage)
    return scores, relevance > 0


def _select(
    candidates: list[Candidate],
    scores: np.ndarray,
    grounded: np.ndarray,
    vectors: np.ndarray | None,
    limit: int,
) -> list[int]:
    """Best first, then greedily the next best that is relevant enough and says something new."""
    # Stable order on ties: better-ranked passage, then earlier sentence.
    order = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    best = order[0]
    chosen = [best]
    floor = RELATIVE_FLOOR * scores[best]
    term_sets = {i: set(_tokens(candidates[i].text)) for i in order}
    for i in order[1:]:
        if len(chosen) == limit or scores[i] < floor:
            break
        if grounded[i] and not _redundant(i, chosen, vectors, term_sets):
            chosen.append(i)
    return chosen


def _redundant(
    i: int, chosen: list[int], vectors: np.ndarray | None, term_sets: dict[int, set[str]]
) -> bool:
    for j in chosen:
        if vectors is not None and float(vectors[i] @ vectors[j]) >= REDUNDANT_COSINE:
            return True
        a, b = term_sets[i], term_sets[j]
        if a and b and len(a & b) / len(a | b) >= REDUNDANT_JACCARD:
            return True
    return False


# --- writing ------------------------------------------------------------------------------------


def _compose(chosen: list[Candidate]) -> str:
    """The best sentence first, the others in source order; each followed by its marker."""
    head, rest = chosen[0], sorted(chosen[1:], key=lambda c: (c.passage, c.position))
    answer = ""
    for c in [head, *rest]:
        sentence = _with_marker(c.text, c.passage + 1)
        joiner = "" if not answer or answer.endswith(("。", "！", "？")) else " "
        answer += joiner + sentence
    return answer


def _with_marker(sentence: str, n: int) -> str:
    """Puts the marker before the end mark: "It broke [n].", "壊れた[n]。"; adds a missing one."""
    sentence = sentence.rstrip(" :;,、")
    end = sentence[-1] if sentence[-1] in ".!?。！？" else ""
    body = sentence[:-1] if end else sentence
    japanese = end in ("。", "！", "？") or (not end and _mostly_japanese(body))
    if not end:
        end = "。" if japanese else "."
    return f"{body}[{n}]{end}" if japanese else f"{body} [{n}]{end}"


def _mostly_japanese(text: str) -> bool:
    letters = [ch for ch in text if ch.isalnum()]
    return bool(letters) and len(_CJK_CHAR.findall(text)) >= 0.3 * len(letters)
