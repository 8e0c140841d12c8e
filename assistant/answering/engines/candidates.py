"""Candidate sentences of the extractive engine, what it chose, and the draft made from it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.answering.citations import marker
from assistant.answering.engines.answer_model import Reading
from assistant.answering.engines.answer_types import Asked, Tied
from assistant.answering.engines.base import Draft
from index import Hit
from index.language.words import keywords

_VAGUE = re.compile(r"\b(?:several|various|multiple|a number of|a range of|different|numerous|some)\s+(\w+)", re.I)


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
    answers: list[Tied] | None = None  # the entities that answer a typed question (None: not parsed)
    features: list[float] = field(default_factory=list)  # the selector's base features
    logit: float = 0.0  # the selector's log-odds that the sentence holds the answer
    reading: Reading | None = None  # what the answer model says of it (when it read it)

    @property
    def tie(self) -> float | None:
        """The best answering entity's tie, None when it holds none (or is not parsed)."""
        return self.answers[0].tie if self.answers else None


@dataclass
class Scored:
    """Candidate sentences with their selector scores, and what was read from the question."""

    candidates: list[Candidate]
    asked: Asked | None
    wanted: set[str]
    titles: dict[str, set[str]]  # article id -> its title's content words
    words: dict[int, set[str]]  # id(candidate) -> its content words


@dataclass
class Extract:
    """The engine's choice: sentences per hit (article offsets), or nothing when not answerable."""

    chosen: list[Candidate]
    best_score: float
    read: bool = False  # the answer model ordered the sentences; ``short`` is its short answer
    short: tuple[int, int, int, str] | None = None  # (hit index, start, end in the article, label)

    @property
    def answered(self) -> bool:
        return bool(self.chosen)


def compose(extract: Extract, hits: list[Hit]) -> Draft:
    """The draft: each chosen sentence with its passage's [n]; the exact sentence offsets are known;
    the short answer is the answer model's (``extract.short``) when it read the sentences, else the
    best tied entity of the first chosen sentence that has one."""
    sentences: list[tuple[str, list[int]]] = []
    known: dict[int, dict[int, tuple[int, int]]] = {}
    for i, c in enumerate(extract.chosen):
        sentences.append((c.text, [c.hit_index + 1]))
        known[i] = {c.hit_index: (c.start, c.end)}
    text = " ".join(f"{t} {marker(ms[0])}" for t, ms in sentences)
    short = extract.short
    first = None if extract.read else next((c for c in extract.chosen if c.answers), None)
    if first is not None:
        best = first.answers[0]  # type: ignore[index]
        short = (first.hit_index, first.start + best.start, first.start + best.end, best.label)
    return Draft(text, hits, sentences, known, short)
