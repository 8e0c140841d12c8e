"""Drafts from one engine, and several drafts as one: how the story policies build what the
pipeline verifies."""

from __future__ import annotations

from typing import Protocol

from assistant.answering.answer import Answer
from assistant.answering.engines.base import AnswerEngine, Draft
from index import Hit


def merged(drafts: list[Draft]) -> Draft:
    """The first sentence of each draft, as one draft over all their passages (the first draft's short
    answer kept)."""
    hits: list[Hit] = []
    sentences: list[tuple[str, list[int]]] = []
    known: dict[int, dict[int, tuple[int, int]]] = {}
    short = None
    for d in drafts:
        offset = len(hits)
        hits.extend(d.hits)
        if d.sentences:
            text, markers = d.sentences[0]
            i = len(sentences)
            sentences.append((text, [m + offset for m in markers]))
            known[i] = {h + offset: span for h, span in d.known.get(0, {}).items()}
        if short is None and d.short is not None:
            h, s, e, label = d.short
            short = (h + offset, s, e, label)
    return Draft(" ".join(t for t, _ in sentences), hits, sentences, known, short)


class Verifies(Protocol):
    """What the policy needs of the pipeline: checking a draft into an :class:`Answer`."""

    def verify(self, question: str, query: str, draft: Draft, engine: AnswerEngine | None = None) -> Answer: ...
