"""The answer-engine seam: one small protocol, and a registry keyed by the ``answer.engine`` setting.

An engine drafts an answer from the question and the numbered passages: it yields text as it is
written (tokens, or the whole answer at once) and ends with a :class:`Draft`. Citations are then
attached and checked by :mod:`assistant.answering.citations`, whatever the engine did with them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from index import ConfigurationError, Hit, Passage

if TYPE_CHECKING:
    from assistant.settings import Settings


@dataclass(frozen=True)
class DraftRequest:
    """What an engine drafts from: the question (standalone), the numbered passages ([1] is
    ``hits[0]``), and a read-only view of all passages of an article (for neighbouring text)."""

    question: str
    hits: Sequence[Hit]
    passages_of: Callable[[str], list[Passage]] = lambda article_id: []
    vector: Any = None  # the question's embedding when the pipeline has it (it embeds it for retrieval)
    # passage id -> its sentences' vectors stored at ingest (see NewsIndex.sentence_vectors), None if none
    sentence_vectors: Callable[[int], Any] = lambda pid: None


@dataclass
class Draft:
    """A drafted answer: text with [n] markers into ``hits`` (the request's hits, plus any passages
    the engine brought in, numbered after them). ``known`` gives, per sentence, the exact
    supporting sentence (article offsets) per hit index when the engine knows it."""

    text: str
    hits: list[Hit]
    sentences: list[tuple[str, list[int]]] | None = None  # the engine's own sentence split, when it has one
    known: dict[int, dict[int, tuple[int, int]]] = field(default_factory=dict)
    # the short answer: (hit index, start, end in the article text, entity label), when the engine found one
    short: tuple[int, int, int, str] | None = None


class AnswerEngine(Protocol):
    """Drafts answers. ``name``, ``model`` and ``prompt`` are recorded in every Answer. An engine
    may also offer what the small protocols below declare: :class:`Rewrites`, :class:`Preloads`,
    :class:`Closes`."""

    name: str
    model: str
    prompt: str

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        """Yield the answer's text as it is written, then one :class:`Draft`."""
        ...


@runtime_checkable
class Rewrites(Protocol):
    """An engine that rewrites a follow-up question into a standalone one (an LLM's)."""

    def rewrite(self, question: str, history: Sequence[tuple[str, str]]) -> str: ...


@runtime_checkable
class HasModel(Protocol):
    """An engine behind a chat model: its client (``complete(messages)``) can judge claims too
    (``answer.judge = "llm"``)."""

    client: Any


@runtime_checkable
class Preloads(Protocol):
    """An engine with models it loads on first use, which it can load ahead (in a thread)."""

    def preload(self) -> None: ...


@runtime_checkable
class Closes(Protocol):
    """An engine holding resources (a model in memory, a client) to release."""

    def close(self) -> None: ...


def drafted(engine: AnswerEngine, request: DraftRequest) -> Draft | None:
    """The engine's final draft for ``request`` (its streamed pieces dropped)."""
    final = None
    for item in engine.draft(request):
        final = item if isinstance(item, Draft) else final
    return final


EngineFactory = Callable[["Settings", Callable[[list[str]], object]], AnswerEngine]

# answer.engine -> "module:factory"; a module is imported only when its engine is created
ENGINES = {
    "extractive": "assistant.answering.engines.extractive:create_extractive",
    "local": "assistant.answering.engines.llm:create_local",
    "openai": "assistant.answering.engines.llm:create_openai",
}


def engine_names() -> list[str]:
    return sorted(ENGINES)


def create_engine(settings: Settings, embed: Callable[[list[str]], object]) -> AnswerEngine:
    """The engine the settings name; ``embed`` embeds texts with the index's model."""
    name = str(settings.answer.engine)
    if name not in ENGINES:
        raise ConfigurationError(f"answer.engine {name!r} is unknown; valid engines: {', '.join(engine_names())}")
    module, factory = ENGINES[name].split(":")
    create: EngineFactory = getattr(importlib.import_module(module), factory)
    return create(settings, embed)
