"""The policy each time intent gets (see :mod:`.intent`):

- *latest*: the story's reports (on topic: :mod:`.gather`) newest first; the answer comes from the
  newest that answers ("what's the latest on …" reads the newest report's opening);
- *since / before* a day: a hard date filter (read against ``as_of``); the answer says how many of the
  story's reports it left out, and a refusal says the filter was the reason; "what happened since …"
  is the story's timeline within the window;
- *development*: a timeline (:mod:`.timeline`);
- *plain*: answered as before, then the story's other reports are read for the same question; when
  they give different values (a revised count) the answer leads with the latest and shows each
  value with its source (:func:`StoryPolicy.compare`).

Every answer here is a draft the pipeline verifies, like any other.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import numpy as np

from assistant.answering.answer import Answer
from assistant.answering.engines.base import AnswerEngine, Draft, DraftRequest, drafted
from assistant.answering.stories.differ import compare
from assistant.answering.stories.gather import TIMELINE_DAYS, Report, lede, on_topic, within
from assistant.answering.stories.intent import TimeIntent, TimeKind, asks_what_happened, names_of, topic_of
from assistant.answering.stories.merge import Verifies
from assistant.answering.stories.timeline import as_timeline, day_label, timeline_draft
from assistant.settings import Settings
from index import Article, Filters, NewsIndex

WIDE = 30  # passages searched to find a story's reports
LATEST_TRIES = 3  # newest reports read for a specific "latest" question
_OPEN_LATEST = re.compile(r"\b(?:latest|news|update)\b\s*(?:on|about|in|with|from|for)?\b|\bso\s+far\b", re.I)


def as_of_day(filters: Filters | None) -> date:
    """The day a question is asked: its ``as_of`` filter, else today."""
    if filters is not None and filters.as_of:
        try:
            return date.fromisoformat(filters.as_of[:10])
        except ValueError:
            pass
    return date.today()


def window(filters: Filters | None, intent: TimeIntent) -> Filters | None:
    """The filters with the window a since/before question names (a hard filter, never a prior)."""
    if intent.day is None:
        return filters
    base = filters or Filters()
    if intent.kind is TimeKind.SINCE:
        since = max(filter(None, [base.since and base.since[:10], intent.day.isoformat()]))
        return dataclasses.replace(base, since=since)
    until = (intent.day - timedelta(days=1)).isoformat()
    return dataclasses.replace(base, until=min(filter(None, [base.until and base.until[:10], until])))


@dataclasses.dataclass
class StoryPolicy:
    """Answers what a question asks about time over one index snapshot."""

    index: NewsIndex
    settings: Settings
    reader: AnswerEngine | None  # the engine that reads one report (the extractive one); None: no comparing
    pipeline: Verifies
    vector: Any = None

    def reports(self, topic: str, filters: Filters | None, names: str = "") -> list[Report]:
        """The reports of the story ``topic`` names (oldest first), from a wide search; with ``names``
        (the question's names), a report must hold those rather than the topic's words."""
        if not topic.strip():
            return []
        hits = self.index.search(topic, WIDE, self.settings.retrieval, filters)
        return on_topic(hits, names or topic, self.cosine(topic))

    def cosine(self, text: str) -> Callable[[int], float]:
        """A passage's cosine with ``text`` (the stored vectors are unit length)."""
        vector = self.index.query_vector(text)
        return lambda pid: float(np.dot(vector, self.index.passage_vector(pid)))

    def request(self, question: str, report: Report) -> DraftRequest:
        return DraftRequest(question, report.hits, self.index.passages_of, self.vector, self.index.sentence_vectors)

    # ---- development and "what happened since" --------------------------------------------
    def timeline(
        self, question: str, query: str, intent: TimeIntent, filters: Filters | None, least: int = 2
    ) -> Answer | None:
        """The story's timeline; None when fewer than ``least`` reports tell it (then the question
        is answered as a plain one)."""
        reports = self.reports(intent.topic, filters)
        if reports:  # around the report that matches best: one story, not every story sharing a name
            reports = within(reports, max(reports, key=lambda r: r.score).day, TIMELINE_DAYS)
        if len(reports) < least:
            return None
        draft, left = timeline_draft(reports, self.index.passages_of, self.settings.answer.timeline_lines, intent.topic)
        answer = self.pipeline.verify(question, query, draft)
        if not answer.answered:
            return None
        answer = as_timeline(answer)
        notes = [f"{len(answer.timeline)} reports, {day_label(reports[0].day)} to {day_label(reports[-1].day)}"]
        if left:
            notes.append(f"and {left} more report{'s' if left != 1 else ''}")
        return answer.model_copy(update={"note": "; ".join(notes) + "."})

    def story(self, article: Article, filters: Filters | None) -> Answer:
        """The timeline of the story ``article`` belongs to ("this story" from a citation)."""
        names = names_of(article.title, article.text)  # its names find the story better than the title's words
        topic = names or topic_of(article.title) or article.title
        found = within(self.reports(topic, filters, names), article.date, TIMELINE_DAYS)
        if all(r.article.id != article.id for r in found):
            found = sorted([*found, Report(article)], key=lambda r: (not r.day, r.day, r.article.id))
        draft, left = timeline_draft(found, self.index.passages_of, self.settings.answer.timeline_lines, topic)
        answer = as_timeline(self.pipeline.verify(f"The story of: {article.title}", topic, draft))
        notes = [f"{len(found)} report{'s' if len(found) != 1 else ''} on this story"]
        if left:
            notes.append(f"{left} more not shown")
        return answer.model_copy(update={"time": "development", "note": "; ".join(notes) + "."})

    # ---- latest -----------------------------------------------------------------------------
    def latest(
        self, question: str, query: str, intent: TimeIntent, filters: Filters | None, engine: AnswerEngine
    ) -> Answer | None:
        reports = self.reports(intent.topic, filters)
        if not reports:
            return None
        newest = sorted(reports, key=lambda r: r.day, reverse=True)
        answer = None
        if _OPEN_LATEST.search(question):  # "what's the latest on X": what the newest report says first
            answer = self._opening(question, query, newest[0])
        else:
            for report in newest[:LATEST_TRIES]:
                draft = drafted(engine, self.request(question, report))
                if draft is not None and (draft.sentences or draft.text):
                    tried = self.pipeline.verify(question, query, draft, engine)
                    if tried.answered:
                        answer = tried
                        break
        if answer is None or not answer.answered:  # nothing more specific: what the newest report says first
            answer = self._opening(question, query, newest[0])
        if not answer.answered:
            return None
        first = answer.citations[0]
        earlier = len(reports) - 1
        note = f"From the latest report: {first.source or first.title}, {day_label(first.date)}"
        if earlier:
            note += f"; {earlier} earlier report{'s' if earlier != 1 else ''} on this story"
        return answer.model_copy(update={"note": note + "."})

    def _opening(self, question: str, query: str, report: Report) -> Answer:
        """The first two sentences of a report (its dateline dropped), verified."""
        opening = lede(report.article, self.index.passages_of(report.article.id), limit=2)
        text = report.article.text
        sentences = [(text[s:e], [i + 1]) for i, (_, s, e) in enumerate(opening)]
        known = {i: {i: (s, e)} for i, (_, s, e) in enumerate(opening)}
        draft = Draft(" ".join(t for t, _ in sentences), [h for h, _, _ in opening], sentences, known)
        return self.pipeline.verify(question, query, draft)

    # ---- a date window ----------------------------------------------------------------------
    def left_out(self, intent: TimeIntent, filters: Filters | None) -> int:
        """How many of the story's reports (up to ``as_of``) fall outside the question's window."""
        if intent.day is None:
            return 0
        inside = window(filters, intent)
        allows = inside.allows if inside is not None else (lambda _: True)
        return sum(1 for r in self.reports(intent.topic, filters) if not allows(r.article))

    def windowed(self, answer: Answer, intent: TimeIntent, filters: Filters | None) -> Answer:
        """The note an answer under a date window carries: what the window left out, or that it was
        the reason nothing answered (the question's since/before, or the caller's since/until)."""
        if intent.day is None:
            if answer.answered or filters is None or not (filters.since or filters.until):
                return answer
            span = " to ".join(day_label(d) for d in (filters.since or "…", filters.until or "…"))
            return answer.model_copy(update={"note": f"Nothing in the articles dated {span} answers this."})
        left = self.left_out(intent, filters)
        side = "earlier" if intent.kind is TimeKind.SINCE else "later"
        span = f"{intent.kind.value} {day_label(intent.day.isoformat())}"
        reports = f"{left} {side} report{'s' if left != 1 else ''}"
        if answer.answered:
            note = f"Only reports {span}: {reports} left out." if left else ""
        else:
            note = f"Nothing in the reports {span} answers this" + (
                f"; {reports} on the story left out by the date." if left else "."
            )
        return answer.model_copy(update={"note": note}) if note else answer

    # ---- reports that differ ----------------------------------------------------------------
    def compare(self, question: str, query: str, answer: Answer, filters: Filters | None) -> Answer:
        """The answer with the values the story's reports give for the question, when they differ
        (see :mod:`.differ`)."""
        return compare(self, question, query, answer, filters)


def plan(question: str, intent: TimeIntent) -> str:
    """Which policy answers: "timeline", "latest", "window" (a plain answer inside the window) or "plain"."""
    if intent.kind is TimeKind.DEVELOPMENT:
        return "timeline"
    if intent.kind in (TimeKind.SINCE, TimeKind.BEFORE):
        return "window-timeline" if asks_what_happened(question) else "window"
    if intent.kind is TimeKind.LATEST:
        return "latest"
    return "plain"
