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
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from assistant.answering.citations import marker
from assistant.answering.engines import Draft, DraftRequest, register
from assistant.settings import AnswerSettings, Settings
from index import Hit, Passage, sentence_spans
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
    (re.compile(r"\bscore\b", re.I), re.compile(r"\b\d+\s*[-–]\s*\d+\b")),
    (re.compile(r"\b(?:which|what) year\b", re.I), re.compile(r"\b(?:1[5-9]\d\d|20\d\d)\b")),
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
    (re.compile(r"\bwho\b", re.I), re.compile(r"(?<=\w )[A-Z][a-z]+ [A-Z][a-z]+|\b[A-Z][a-z]+ [A-Z][a-z]+(?= \w)")),
]
_UNIT = re.compile(r"\bhow many (\w+(?: \w+)?)", re.I)  # the counted thing: "free channels", "people"
# "reached out through several channels": the sentence names the kind of thing asked, not which ones
_VAGUE = re.compile(r"\b(?:several|various|multiple|a number of|a range of|different|numerous|some)\s+(\w+)", re.I)


def answer_type_match(question: str, sentence: str) -> float:
    """1.0 when the question asks for a kind of fact (number, date, name) that the sentence holds."""
    asked = question.lower()
    unit = _UNIT.search(question)  # "how many workers": a count of workers, not any number
    if unit and keywords(unit.group(1)) and not keywords(unit.group(1)) & keywords(sentence):
        return 0.0
    for asks, holds in _ASKS:
        if asks.search(question):
            # a name or number the question itself contains is the topic, not the answer
            return 1.0 if any(m.group(0).lower() not in asked for m in holds.finditer(sentence)) else 0.0
    return 0.0


def asks_typed_fact(question: str) -> bool:
    """Whether the question asks for a number, an amount, a date or a name."""
    return any(asks.search(question) for asks, _ in _ASKS)


def names_kind_only(sentence: str, wanted: set[str]) -> bool:
    """Whether the sentence only names the kind of thing asked ("through several channels"): a vague
    quantifier before one of the question's words, so the next sentence likely says which."""
    return any(keywords(m.group(1)) & wanted for m in _VAGUE.finditer(sentence))


def restates(question: str, sentence: str, wanted: set[str]) -> bool:
    """A sentence that is itself a question, or repeats the question's words and adds at most one
    of its own, says nothing the question asks for (news quizzes repeat questions verbatim)."""
    if sentence.rstrip().endswith("?"):
        return True
    words = keywords(sentence)
    return bool(wanted) and wanted <= words and len(words - wanted) <= 1


_WORDS = re.compile(r"\w+")


def distinct(ranked: list[Candidate]) -> list[Candidate]:
    """The candidates without repeats of a sentence already ranked higher: the same story ingested
    twice (an HTML page and its PDF, two outlets running one wire story) gives the same sentence
    in two articles, and an answer says it once. Sentences compare by their words, so line breaks,
    spacing, case and punctuation don't tell them apart."""
    seen: set[str] = set()
    out = []
    for c in ranked:
        key = " ".join(_WORDS.findall(c.text.lower()))
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


@dataclass
class Candidate:
    hit_index: int
    start: int  # offsets in the article text
    end: int
    text: str
    score: float = 0.0
    cosine: float = 0.0
    row: int = -1  # the sentence's place in its passage (the row of its stored vector)


@dataclass
class Extract:
    """The engine's choice: sentences per hit (article offsets), or nothing when not answerable."""

    chosen: list[Candidate]
    best_score: float

    @property
    def answered(self) -> bool:
        return bool(self.chosen)


class ExtractiveEngine:
    """The instant, no-model engine: copies the sentences of the passages that answer the question."""

    name = "extractive"
    model = ""
    prompt = ""

    CACHED_SENTENCES = 20_000  # vectors of recently read sentences (≈ 30 MB with MiniLM)

    def __init__(self, settings: AnswerSettings, embed: Callable[[list[str]], np.ndarray]) -> None:
        self.embed = embed
        self.settings = settings
        # questions about the same stories read the same sentences: embed each once (LRU)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    def sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of candidate sentences, from the cache where it has them."""
        with self._cache_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = self.embed(missing) if missing else None
        with self._cache_lock:
            for text, vector in zip(missing, fresh if fresh is not None else [], strict=True):
                self._vectors[text] = vector
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
            while len(self._vectors) > self.CACHED_SENTENCES:
                self._vectors.popitem(last=False)
        return np.vstack([found[t] for t in texts])

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        hits = list(request.hits)
        extract = (
            self.select(request.question, hits, request.passages_of, request.vector, request.sentence_vectors)
            if request.question
            else Extract([], 0)
        )
        draft = compose(extract, hits)
        yield draft.text
        yield draft

    def candidates(self, hits: list[Hit]) -> list[Candidate]:
        """Sentences of the hits, each once (overlapping passages share sentences)."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        for i, hit in enumerate(hits):
            p = hit.passage
            for row, (s, e) in enumerate(sentence_spans(p.text)):
                key = (p.article_id, p.start + s, p.start + e)
                if key not in seen:
                    seen.add(key)
                    out.append(Candidate(i, p.start + s, p.start + e, p.text[s:e], row=row))
        return out

    def candidate_vectors(
        self, cands: list[Candidate], hits: list[Hit], stored: Callable[[int], np.ndarray | None]
    ) -> np.ndarray:
        """A vector per candidate: the one stored at ingest for its passage's sentence, else (an
        index built before sentence vectors were stored) embedded now."""
        rows: list[np.ndarray | None] = []
        blocks: dict[int, np.ndarray | None] = {}
        for c in cands:
            pid = hits[c.hit_index].passage.id
            block = blocks[pid] if pid in blocks else blocks.setdefault(pid, stored(pid))
            row = block[c.row] if block is not None and 0 <= c.row < len(block) else None
            rows.append(row)
        todo = [i for i, row in enumerate(rows) if row is None]
        if todo:
            for i, vector in zip(todo, self.sentence_vectors([cands[i].text for i in todo]), strict=True):
                rows[i] = vector
        return np.vstack(rows).astype(np.float32)  # type: ignore[arg-type]

    def select(
        self,
        question: str,
        hits: list[Hit],
        passages_of: Callable[[str], list[Passage]] = lambda _: [],
        question_vector: np.ndarray | None = None,
        stored: Callable[[int], np.ndarray | None] = lambda _: None,
    ) -> Extract:
        """The sentences that answer ``question``; passages brought in for a quote's speaker are
        appended to ``hits`` (the engine's own copy)."""
        cands = self.candidates(hits)
        if not cands:
            return Extract([], 0.0)
        if question_vector is None:
            question_vector = self.embed([question])[0]
        cosines = self.candidate_vectors(cands, hits, stored) @ question_vector
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
        ranked = distinct(sorted((c for c in cands if not restates(question, c.text, wanted)), key=lambda c: -c.score))
        if self.settings.require_focus:
            ranked = [c for c in ranked if self._on_focus(c, wanted, titles[hits[c.hit_index].article.id], words)]
            if not ranked:
                return Extract([], 0.0)
        best = ranked[0].score
        if best < self.settings.min_relevance:
            return Extract([], best)
        chosen = [c for c in ranked[: self.settings.max_sentences] if c.score >= best * self.settings.keep_ratio]
        chosen = self._with_facts(question, wanted, chosen, cands)
        if not chosen:  # no retrieved sentence holds the kind of fact asked for
            return Extract([], best)
        chosen = self._with_speakers(chosen, hits, passages_of)
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

    def _with_facts(
        self, question: str, wanted: set[str], chosen: list[Candidate], cands: list[Candidate]
    ) -> list[Candidate]:
        """Complete sentences that name the topic but not the fact asked for with the next sentence
        of the same passage when that one holds it (a name for "who", a number for "how many", the
        ones a vague "several channels" stands for). For a question that asks for a number, date or
        name, a sentence is kept only when it, or the neighbour added to it, holds one."""
        typed = asks_typed_fact(question)
        out: list[Candidate] = []
        for c in chosen:
            if not typed or answer_type_match(question, c.text):
                out.append(c)
                if not names_kind_only(c.text, wanted):
                    continue
            after = next((n for n in cands if n.hit_index == c.hit_index and n.start >= c.end), None)
            if after is None or (typed and not answer_type_match(question, after.text)):
                continue
            if c not in out:
                out.append(c)
            if all(after.start != o.start for o in out):
                out.append(after)
        return out

    def _with_speakers(
        self, chosen: list[Candidate], hits: list[Hit], passages_of: Callable[[str], list[Passage]]
    ) -> list[Candidate]:
        """Bring along the sentence that names the speaker of a quote continued with "he added"."""
        out = list(chosen)
        have = {(hits[c.hit_index].passage.article_id, c.start) for c in out}
        for c in chosen:
            current = c
            for _ in range(3):
                if not _CONTINUATION.search(current.text):
                    break
                prev = self._previous_sentence(current, hits, passages_of)
                if prev is None:
                    break
                key = (hits[prev.hit_index].passage.article_id, prev.start)
                if key not in have:
                    have.add(key)
                    out.append(prev)
                current = prev
        return out

    def _previous_sentence(
        self, c: Candidate, hits: list[Hit], passages_of: Callable[[str], list[Passage]]
    ) -> Candidate | None:
        """The sentence before ``c`` in its article, from a retrieved passage or else from the
        passage the index holds for it (then appended to ``hits`` so it can be cited)."""
        article_id = hits[c.hit_index].passage.article_id
        retrieved = [(i, h.passage) for i, h in enumerate(hits) if h.passage.article_id == article_id]
        stored: list[tuple[int | None, Passage]] = [(None, p) for p in passages_of(article_id)]
        for i, p in [*retrieved, *stored]:
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


def compose(extract: Extract, hits: list[Hit]) -> Draft:
    """The draft: each chosen sentence with its passage's [n]; the exact sentence offsets are known."""
    sentences: list[tuple[str, list[int]]] = []
    known: dict[int, dict[int, tuple[int, int]]] = {}
    for i, c in enumerate(extract.chosen):
        sentences.append((c.text, [c.hit_index + 1]))
        known[i] = {c.hit_index: (c.start, c.end)}
    text = " ".join(f"{t} {marker(ms[0])}" for t, ms in sentences)
    return Draft(text, hits, sentences, known)


@register("extractive")
def _extractive(settings: Settings, embed: Callable[[list[str]], np.ndarray]) -> ExtractiveEngine:
    return ExtractiveEngine(settings.answer, embed)
