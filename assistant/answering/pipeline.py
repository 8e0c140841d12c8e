"""Answering as a pipeline of stages that emits events:

    rewrite the question → retrieve → draft (an engine) → attach citations → verify → Answer
                                         └ nothing holds → draft again with the fallback engine → verify

The pipeline is composed by the facade from three parts: the engine that drafts, the verifier that
checks each sentence against its passages (the judge ``answer.judge`` names, the same one evaluations
use), and an optional fallback engine (the extractive one, ``llm.fallback``) drafted when nothing a
writing engine wrote holds.

:meth:`Pipeline.stream` yields the events as they happen (:class:`Rewritten`, :class:`Retrieved`,
:class:`Token` …, then :class:`Finished` with the verified :class:`Answer`); ``ask`` runs it to the
end. Each question reads one generation of the index (the newest when it starts), so writers never
hold up questions and a question never sees half of a change.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.answering.answer import Answer, Citation
from assistant.answering.citations import attach_citations, build_answer, is_refusal, numbered, split_sentences
from assistant.answering.engines.base import AnswerEngine, Draft, DraftRequest, Rewrites, drafted
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.answering.rewrite import History, is_follow_up, rule_rewrite
from assistant.answering.stories.digest import Digest, make_digest
from assistant.answering.stories.intent import TimeIntent, TimeKind, time_intent
from assistant.answering.stories.policy import StoryPolicy, as_of_day, plan, window
from assistant.settings import Settings, Unsupported
from index import ArticlesNotFoundError, Filters, Hit, NewsIndex


@dataclass(frozen=True)
class Rewritten:
    """The standalone question that will be searched (the question itself when not a follow-up)."""

    query: str


@dataclass(frozen=True)
class Retrieved:
    """The passages the answer will be drawn from, numbered as the engine sees them."""

    passages: list[Citation]


@dataclass(frozen=True)
class Token:
    """A piece of the answer's text as the engine writes it (before citations are checked)."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The final, verified answer."""

    answer: Answer


Event = Rewritten | Retrieved | Token | Finished


class Pipeline:
    """Runs the answering stages over one index: ``engine`` drafts, ``verifier`` checks every sentence,
    ``fallback`` (an engine, optional) drafts again when nothing another engine wrote holds."""

    def __init__(
        self,
        index: NewsIndex,
        engine: AnswerEngine,
        verifier: FaithfulnessJudge,
        settings: Settings,
        fallback: AnswerEngine | None = None,
    ) -> None:
        self.index = index
        self.engine = engine
        self.verifier = verifier
        self.settings = settings
        self.fallback = fallback

    def rewrite(self, question: str, history: History | None, engine: AnswerEngine | None = None) -> str:
        """The standalone question: written by the engine when it can (an LLM), else by the rule."""
        chosen = engine or self.engine
        if isinstance(chosen, Rewrites) and history and is_follow_up(question, history):
            return str(chosen.rewrite(question, history))
        return rule_rewrite(question, history)

    def retrieve(
        self, query: str, filters: Filters | None, vector: Any = None, index: NewsIndex | None = None
    ) -> list[Hit]:
        return (index or self.index).search(query, None, self.settings.retrieval, filters, vector=vector)

    def stream(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | None = None,
        engine: AnswerEngine | None = None,
    ) -> Iterator[Event]:
        """Run the stages for ``question`` with ``engine`` (default: the pipeline's)."""
        engine = engine or self.engine
        question = question.strip()
        t0 = time.perf_counter()
        self.index.refresh()  # a writer may have published a newer generation since the last question
        index = self.index.snapshot()  # and this question reads one generation throughout
        query = self.rewrite(question, history, engine) if question else question
        yield Rewritten(query)
        timely = question and self.settings.answer.time_policy
        intent = time_intent(query, as_of_day(filters)) if timely else TimeIntent(TimeKind.PLAIN)
        scoped = window(filters, intent)  # since/before a day: a hard filter
        # embedded once: for retrieval, and for the engine when it answers the searched question
        vector = index.query_vector(query) if question else None
        hits = self.retrieve(query, scoped, vector, index) if question else []
        t1 = time.perf_counter()
        yield Retrieved(numbered(hits))
        # the engine answers the standalone question; a rule-joined query only widens retrieval
        joined = _rule_joined(query, question)
        request = DraftRequest(
            question if joined else query, hits, index.passages_of, None if joined else vector, index.sentence_vectors
        )
        policy = StoryPolicy(index, self.settings, self._reader(engine), self, None if joined else vector)
        how = plan(query, intent)
        answer = None
        if how in ("timeline", "window-timeline"):  # a window may hold a single report
            answer = policy.timeline(question, query, intent, scoped, least=2 if how == "timeline" else 1)
        elif how == "latest":
            answer = policy.latest(question, query, intent, scoped, engine)
        first_token = None
        if answer is not None:
            first_token = time.perf_counter()
            yield Token(answer.text)
        else:
            answer, first_token = yield from self._engine_answer(question, query, request, engine)
            if how == "plain" and timely and self.settings.answer.compare_reports:
                answer = policy.compare(question, query, answer, scoped)
        t2 = time.perf_counter()
        answer = policy.windowed(answer, intent, filters)
        answer.time = intent.label()
        t3 = time.perf_counter()
        answer.timings = {
            "retrieve_ms": _ms(t1 - t0),
            "first_token_ms": _ms((first_token or t2) - t0),
            "answer_ms": _ms(t2 - t1),
            "verify_ms": _ms(t3 - t2),
            "total_ms": _ms(t3 - t0),
        }
        yield Finished(answer)

    def _engine_answer(
        self, question: str, query: str, request: DraftRequest, engine: AnswerEngine
    ) -> Generator[Event, None, tuple[Answer, float | None]]:
        """The engine's draft, streamed as tokens, verified; the fallback engine's when nothing of a
        writing engine's draft holds. Returns the answer and when the first token came."""
        draft = Draft("", request.hits)
        first_token = None
        for item in engine.draft(request):
            if isinstance(item, Draft):
                draft = item
            elif item:
                first_token = first_token or time.perf_counter()
                yield Token(item)
        answer = self.verify(question, query, draft, engine)
        fallback = self.fallback
        if not answer.answered and draft.text and fallback is not None and fallback.name != engine.name:
            # nothing the engine wrote holds; the fallback's sentences may (llm.fallback)
            second = drafted(fallback, request)
            if second is not None:
                rescued = self.verify(question, query, second, engine)
                if rescued.answered:
                    answer = rescued.model_copy(update={"fallback": True, "draft": draft.text})
        return answer, first_token

    def story(self, article_id: str, filters: Filters | None = None) -> Answer:
        """The timeline of the story the article ``article_id`` belongs to, as of ``filters.as_of``."""
        self.index.refresh()
        index = self.index.snapshot()
        article = index.article(article_id)
        if article is None:
            raise ArticlesNotFoundError(f"no article {article_id!r} in the index")
        return StoryPolicy(index, self.settings, self._reader(self.engine), self).story(article, filters)

    def digest(self, since: date, as_of: date) -> Digest:
        """The stories with reports dated from ``since`` to ``as_of`` (see :mod:`.stories.digest`)."""
        self.index.refresh()
        index = self.index.snapshot()
        policy = StoryPolicy(index, self.settings, self._reader(self.engine), self)
        return make_digest(index, policy.reports, since, as_of)

    def _reader(self, engine: AnswerEngine) -> AnswerEngine | None:
        """The extractive engine that reads one report at a time (comparing reports), if there is one."""
        if engine.name == "extractive":
            return engine
        return self.fallback

    def ask(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | None = None,
        engine: AnswerEngine | None = None,
    ) -> Answer:
        for event in self.stream(question, history, filters, engine):
            if isinstance(event, Finished):
                return event.answer
        raise AssertionError("the pipeline ended without an answer")  # pragma: no cover

    def verify(self, question: str, query: str, draft: Draft, engine: AnswerEngine | None = None) -> Answer:
        """Attach and check citations; drop unsupported sentences when the settings say so; refuse
        when no sentence is supported at all."""
        engine = engine or self.engine
        fields = {"engine": engine.name, "model": engine.model, "prompt": engine.prompt, "query": query}
        sentences = draft.sentences
        if sentences is None:  # written text: "X is Y [1]. The passages do not say when." keeps X
            written = split_sentences(draft.text, len(draft.hits))
            sentences = [(text, markers) for text, markers in written if not is_refusal(text)]
        if not sentences:
            return build_answer(question, [], draft.hits, **fields)
        checked = attach_citations(sentences, draft.hits, self.verifier, draft.known)
        if not any(c.verified for c in checked):
            # nothing the engine wrote is in the passages (small models answer unanswerable questions
            # anyway): say the articles don't say, and keep the draft for whoever wants to see it
            return build_answer(question, [], draft.hits, draft=draft.text, **fields)
        if self.settings.answer.unsupported == Unsupported.REMOVE:
            checked = [c for c in checked if c.verified]
        return build_answer(question, checked, draft.hits, short=draft.short, **fields)


def _rule_joined(query: str, question: str) -> bool:
    """Whether ``query`` is the rule's "previous question + question" (then the engine gets the
    question itself: the previous one only widens retrieval)."""
    return query != question and query.endswith(question)


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)
