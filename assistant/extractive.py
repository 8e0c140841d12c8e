"""The offline answer engine: pick the sentences of the best passages that answer the question.

Every sentence of an extractive answer is copied verbatim from a retrieved passage and marked
with that passage's [n]; so an answer can never contain text that isn't in a cited passage.

Scoring: each sentence of the retrieved passages gets ``0.7 * cosine(question, sentence) +
0.3 * keyword overlap + 0.08 * answer type``, where keyword overlap is the share of the question's
content words (Porter-stemmed; acronyms like "US" kept; each weighted by how rare it is among the
candidate sentences, and by 0.3 when it is in the article's title, since such words name the topic
rather than what is asked) that occur in the sentence, and answer type
is 1 when the sentence holds what the question asks for (a number for "how many", a date for
"when", a name for "who"). When the best sentence scores
below ``min_relevance``, or no sentence speaks to what is asked (with ``require_focus``: none holds
a content word of the question that is not in its article's title, nor has a cosine of at least
``focus_cosine``), the engine says so with :data:`NOT_IN_ARTICLES`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from assistant.citations import NOT_IN_ARTICLES, marker
from assistant.settings import AnswerSettings
from index import Embedder, Hit, NewsIndex, sentence_spans
from index.text import keywords

# "..." he added / she said: a quote that names its speaker only in the sentence before.
_CONTINUATION = re.compile(
    r"[”\"’']\s*,?\s*(?:he|she|they|the official|the spokesperson|the spokesman|the spokeswoman)\s+"
    r"(?:added|continued|went on|said|noted|stressed|warned|insisted|explained|clarified)\b"
    r"|^(?:He|She|They)\s+(?:added|continued|went on)\b",
    re.I,
)
W_COSINE, W_KEYWORDS, W_TYPE = 0.7, 0.3, 0.08
TOPIC_SHARE = 0.3
_MONTHS = "january february march april may june july august september october november december"
_ASKS = [  # (question pattern, what a sentence that answers it contains)
    (
        re.compile(r"\bhow much\b|\bwhat (?:did|does|will) .* cost\b|\bwhat (?:percentage|share)\b", re.I),
        re.compile(
            r"[$£€¥]\s?\d|\d\s*(?:%|percent|per cent)|\b(?:dollars?|euros?|pounds?|yen|cents?|"
            r"million|billion|trillion|percent)\b",
            re.I,
        ),
    ),
    (
        re.compile(r"\bhow (many|long|old|far|big|large)\b|\bwhat number\b", re.I),
        re.compile(
            r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|"
            r"billion|half|third|quarter)\b",
            re.I,
        ),
    ),
    (
        re.compile(r"\bwhen\b|\bwhat (year|date|day|time)\b", re.I),
        re.compile(
            r"\b(\d{4}|monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|"
            r"ago|since|until|week|month|year|" + _MONTHS.replace(" ", "|") + r")\b",
            re.I,
        ),
    ),
    (re.compile(r"\bwho\b", re.I), re.compile(r"(?<=\w )[A-Z][a-z]+ [A-Z][a-z]+")),
]


def answer_type_match(question: str, sentence: str) -> float:
    """1.0 when the question asks for a kind of fact (number, date, name) that the sentence holds."""
    for asks, holds in _ASKS:
        if asks.search(question):
            return 1.0 if holds.search(sentence) else 0.0
    return 0.0


@dataclass
class Candidate:
    hit_index: int
    start: int  # offsets in the article text
    end: int
    text: str
    score: float = 0.0
    cosine: float = 0.0


@dataclass
class Extract:
    """The engine's choice: sentences per hit (article offsets), or nothing when not answerable."""

    chosen: list[Candidate]
    best_score: float

    @property
    def answered(self) -> bool:
        return bool(self.chosen)


class ExtractiveEngine:
    def __init__(self, index: NewsIndex, embedder: Embedder, settings: AnswerSettings) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings

    def candidates(self, hits: list[Hit]) -> list[Candidate]:
        """Sentences of the hits, each once (overlapping passages share sentences)."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        for i, hit in enumerate(hits):
            p = hit.passage
            for s, e in sentence_spans(p.text):
                key = (p.article_id, p.start + s, p.start + e)
                if key not in seen:
                    seen.add(key)
                    out.append(Candidate(i, p.start + s, p.start + e, p.text[s:e]))
        return out

    def select(self, question: str, query_vector: np.ndarray, hits: list[Hit]) -> Extract:
        cands = self.candidates(hits)
        if not cands:
            return Extract([], 0.0)
        vectors = self.embedder.embed([c.text for c in cands])
        cosines = vectors @ query_vector
        wanted = keywords(question)
        words = {id(c): keywords(c.text) for c in cands}
        # a question word that many candidate sentences share ("North Korea") tells less than a rare one
        weight = {w: math.log((len(cands) + 1) / (sum(w in ws for ws in words.values()) + 0.5)) for w in wanted}
        titles = {h.article.id: keywords(h.article.title) for h in hits}
        for c, cos in zip(cands, cosines, strict=True):
            ws = words[id(c)]
            # words of the article's title name its topic; the rest of the question is what is asked
            topic = titles[hits[c.hit_index].article.id]
            w = {k: weight[k] * (TOPIC_SHARE if k in topic else 1.0) for k in wanted}
            total = sum(w.values())
            overlap = sum(w[k] for k in wanted & ws) / total if total else 0.0
            c.cosine = float(cos)
            c.score = W_COSINE * float(cos) + W_KEYWORDS * overlap + W_TYPE * answer_type_match(question, c.text)
        ranked = sorted(cands, key=lambda c: -c.score)
        if self.settings.require_focus:
            ranked = [c for c in ranked if self._on_focus(c, wanted, titles[hits[c.hit_index].article.id], words)]
            if not ranked:
                return Extract([], 0.0)
        best = ranked[0].score
        if best < self.settings.min_relevance:
            return Extract([], best)
        chosen = [c for c in ranked[: self.settings.max_sentences] if c.score >= best * self.settings.keep_ratio]
        chosen = self._with_speakers(chosen, hits)
        # best article first, then each article's sentences in reading order
        article_rank: dict[str, int] = {}
        for c in chosen:
            article_rank.setdefault(hits[c.hit_index].passage.article_id, len(article_rank))
        chosen.sort(key=lambda c: (article_rank[hits[c.hit_index].passage.article_id], c.start))
        return Extract(chosen, best)

    def _on_focus(self, c: Candidate, wanted: set[str], topic: set[str], words: dict[int, set[str]]) -> bool:
        """Whether a sentence speaks to what is asked: it holds one of the question's content words
        that are not in its article's title (those name the topic, not the question), or it is very
        close to the question. A question with no such words passes."""
        focus = wanted - topic
        return not focus or bool(focus & words[id(c)]) or c.cosine >= self.settings.focus_cosine

    def _with_speakers(self, chosen: list[Candidate], hits: list[Hit]) -> list[Candidate]:
        """Bring along the sentence that names the speaker of a quote continued with "he added"."""
        out = list(chosen)
        have = {(hits[c.hit_index].passage.article_id, c.start) for c in out}
        for c in chosen:
            current = c
            for _ in range(3):
                if not _CONTINUATION.search(current.text):
                    break
                prev = self._previous_sentence(current, hits)
                if prev is None:
                    break
                key = (hits[prev.hit_index].passage.article_id, prev.start)
                if key not in have:
                    have.add(key)
                    out.append(prev)
                current = prev
        return out

    def _previous_sentence(self, c: Candidate, hits: list[Hit]) -> Candidate | None:
        """The sentence before ``c`` in its article, from a retrieved passage or else from the
        passage the index holds for it (then appended to ``hits`` so it can be cited)."""
        article_id = hits[c.hit_index].passage.article_id
        retrieved = [(i, h.passage) for i, h in enumerate(hits) if h.passage.article_id == article_id]
        stored = [(None, p) for p in self.index.passages_of(article_id)]
        for i, p in retrieved + stored:
            if not p.start <= c.start <= p.end:
                continue
            before = [(p.start + s, p.start + e) for s, e in sentence_spans(p.text) if p.start + e <= c.start]
            if before:
                if i is None:
                    hits.append(Hit(p, 0.0, hits[c.hit_index].article))
                    i = len(hits) - 1
                s, e = before[-1]
                return Candidate(i, s, e, p.text[s - p.start : e - p.start])
        return None


def compose(extract: Extract, hits: list[Hit]) -> tuple[str, dict[int, int], dict[int, list[tuple[int, int]]]]:
    """Answer text with [n] markers; hit index → marker; hit index → supporting sentence offsets."""
    if not extract.answered:
        return NOT_IN_ARTICLES, {}, {}
    markers: dict[int, int] = {}
    support: dict[int, list[tuple[int, int]]] = {}
    parts = []
    for c in extract.chosen:
        n = markers.setdefault(c.hit_index, len(markers) + 1)
        support.setdefault(c.hit_index, []).append((c.start, c.end))
        parts.append(f"{c.text} {marker(n)}")
    return " ".join(parts), markers, support
