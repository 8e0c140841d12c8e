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
from typing import Any, Protocol

import numpy as np

from assistant.answering.answer import Answer, Disagreement
from assistant.answering.engines.base import AnswerEngine, Draft, DraftRequest
from assistant.answering.stories.gather import Report, lede, on_topic
from assistant.answering.stories.intent import TimeIntent, TimeKind, asks_what_happened, topic_of
from assistant.answering.stories.timeline import as_timeline, day_label, timeline_draft
from assistant.answering.stories.values import COUNT, NOT_COUNTED, asked_unit, counts, same_value, unit_after
from assistant.settings import Settings
from index import Article, Filters, Hit, NewsIndex, sentence_spans
from index.language.words import keywords

WIDE = 30  # passages searched to find a story's reports
LATEST_TRIES = 3  # newest reports read for a specific "latest" question
COMPARED = 6  # reports read for the same question when checking that they agree
TYPED = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "PERSON", "GPE", "LOC"}  # count, amount, date, who, where
STORY_DAYS = 45  # reports compared for one question lie this close to the answer's (one story, not last year's)
_OPEN_LATEST = re.compile(r"\b(?:latest|news|update)\b\s*(?:on|about|in|with|from|for)?\b|\bso\s+far\b", re.I)


class Verifies(Protocol):
    """What the policy needs of the pipeline: checking a draft into an :class:`Answer`."""

    def verify(self, question: str, query: str, draft: Draft, engine: AnswerEngine | None = None) -> Answer: ...


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


def drafted(engine: AnswerEngine, request: DraftRequest) -> Draft | None:
    """The engine's final draft (its streamed pieces dropped)."""
    final = None
    for item in engine.draft(request):
        final = item if isinstance(item, Draft) else final
    return final


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
        found = self.reports(topic, filters, names)
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
        draft, _ = timeline_draft([Report(report.article, [h]) for h, _, _ in opening[:1]], self.index.passages_of, 2)
        if opening[1:]:
            hit, s, e = opening[1]
            second = Draft("", [hit], [(report.article.text[s:e], [1])], {0: {0: (s, e)}})
            draft = merged([draft, second])
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
        """When the story's reports give different values for what was asked, the answer leads with
        the newest report's and cites one sentence per other value (the first report that gave it).
        Counts ("how many nurses") are read from every report of the story; other kinds (a date, a
        name) from what the extractive engine answers report by report."""
        if self.reader is None:
            return answer
        unit = asked_unit(question) or answer_unit(answer)
        if unit:
            return self._compare_counts(question, query, answer, filters, unit)
        if not answer.answered or answer.short is None or answer.short.label not in TYPED:
            return answer
        topic, names = topic_of(question), self.story_names(question, answer)
        reports = sorted(
            self.near(self.reports(names or topic, filters, names), answer), key=lambda r: r.day, reverse=True
        )
        found: list[Found] = []
        for report in reports[:COMPARED]:
            draft = drafted(self.reader, self.request(question, report))
            if (
                draft is not None
                and draft.short is not None
                and draft.sentences
                and draft.short[3] == answer.short.label
            ):
                h, s, e, _ = draft.short
                found.append(Found(report, draft, draft.hits[h].article.text[s:e]))
        return self._differing(question, query, answer, found, answer.short.label)

    def near(self, reports: list[Report], answer: Answer) -> list[Report]:
        """The reports within :data:`STORY_DAYS` of the report the answer cites first (all of them for
        a refusal): "who won Eurovision" is this year's contest, not 2019's."""
        day = answer.citations[0].date[:10] if answer.answered and answer.citations else ""
        try:
            anchor = date.fromisoformat(day)
        except ValueError:
            return reports
        window = timedelta(days=STORY_DAYS)

        def close(report: Report) -> bool:
            try:
                return abs(date.fromisoformat(report.day) - anchor) <= window
            except ValueError:
                return False

        return [r for r in reports if close(r)]

    def story_names(self, question: str, answer: Answer) -> str:
        """The names that find the story a question is about: the question's own, else those of the
        title of the report the answer cites first ("the collapse" is the Elm River bridge's)."""
        names = names_of(question)
        if names or not answer.answered or not answer.citations:
            return names
        lead = self.index.article(answer.citations[0].article_id)
        return names_of(lead.title, lead.text) if lead is not None else ""

    def _compare_counts(self, question: str, query: str, answer: Answer, filters: Filters | None, unit: str) -> Answer:
        topic, names = topic_of(question), self.story_names(question, answer)
        relation = words_of(question) - words_of(f"{unit} {names} how many") - _VAGUE
        found: list[Found] = []
        reports = self.near(self.reports(names or topic, filters, names), answer)
        for report in sorted(reports, key=lambda r: r.day, reverse=True)[:COMPARED]:
            sentence = counted_sentence(report.article.text, unit, relation)
            if sentence is None:
                continue
            start, end, value = sentence
            holder = next((p for p in self.index.passages_of(report.article.id) if p.start <= start < p.end), None)
            if holder is None:
                continue
            hit = Hit(holder, 1.0, report.article)
            text = report.article.text[start:end]
            found.append(Found(report, Draft(text, [hit], [(text, [1])], {0: {0: (start, end)}}), value))
        return self._differing(question, query, answer, found, "CARDINAL", rescue=True)

    def _differing(
        self, question: str, query: str, answer: Answer, found: list[Found], label: str, rescue: bool = False
    ) -> Answer:
        """The answer with the differing values shown, or ``answer`` when the reports agree. With
        ``rescue`` a refused answer is answered from the newest report that gives a value."""
        groups: list[list[Found]] = []
        for item in found:  # newest first, so each group's first item is its newest report
            group = next((g for g in groups if same_value(g[0].value, item.value, label)), None)
            if group is None:
                groups.append([item])
            else:
                group.append(item)
        if not groups or (len(groups) < 2 and (answer.answered or not rescue)):
            return answer
        # the newest report's value leads; each other value is cited from the first report that gave it
        chosen = [groups[0][0]] + [min(g, key=lambda x: x.report.day) for g in groups[1:]]
        checked = self.pipeline.verify(question, query, merged([f.draft for f in chosen]))
        if not checked.answered or len(checked.sentences) < len(chosen):
            return answer
        rows = []
        for item, sentence in zip(chosen, checked.sentences, strict=False):
            if not sentence.verified or not sentence.markers:
                return answer  # a value no passage supports is no difference to show
            article = item.report.article
            rows.append(
                Disagreement(
                    value=item.value, marker=sentence.markers[0], source=article.source,
                    date=item.report.day, latest=item is chosen[0],
                )
            )  # fmt: skip
        if len(rows) < 2:
            return checked
        shown = "; ".join(
            f"{r.value} ({', '.join(filter(None, [r.source, day_label(r.date)]))}{', latest' if r.latest else ''})"
            for r in rows
        )
        return checked.model_copy(update={"disagreements": rows, "note": f"Reports differ: {shown}."})


@dataclasses.dataclass
class Found:
    """A value one report gives for the question, with the draft that cites it."""

    report: Report
    draft: Draft
    value: str


_NAME = re.compile(r"(?<![.?!]\s)(?<!^)\b([A-Z][a-z]+(?:\s+[A-Z][a-z]+)*)")


def names_of(question: str, body: str = "") -> str:
    """The names a question or title mentions ("Elm River", "Clara Voss"). Its first word counts only
    when ``body`` (the article under a title) writes it capitalised inside a sentence ("Norcastle
    factory fire put out …"), never "What" or "Hospital"."""
    text = question.strip()
    names = [re.sub(r"['’]s$", "", n) for n in _NAME.findall(text)]
    first = re.match(r"([A-Z][a-z]+)\b", text)
    if first and body and re.search(rf"[a-z,;] {re.escape(first.group(1))}\b", body):
        names.insert(0, first.group(1))
    return " ".join(names)


def answer_unit(answer: Answer) -> str:
    """What the answer counts: the word after its short answer when that is a count ("17 people"), or
    for a question about a margin, toll or tally the first count its first sentence gives."""
    if not answer.answered:
        return ""
    unit = ""
    if answer.short is not None and answer.short.label in {"CARDINAL", "QUANTITY"}:
        cited = answer.citation(answer.short.marker)
        unit = unit_after(cited.passage, answer.short.end) if cited is not None else ""
    elif _TALLY.search(answer.question) and answer.sentences:
        m = COUNT.search(answer.sentences[0].text)
        unit = m.group("unit") if m else ""
    return "" if unit.lower() in NOT_COUNTED else unit


_TALLY = re.compile(r"\b(?:margin|toll|tally|total|number\s+of|how\s+much)\b", re.I)
_IRREGULAR = {
    "won": "win",
    "lost": "lose",
    "rose": "rise",
    "fell": "fall",
    "began": "begin",
    "went": "go",
    "left": "leave",
}


def words_of(text: str) -> set[str]:
    """Content words, a hyphenated compound as its parts ("boil-water": boil, water), a few irregular
    verbs as their present ("won": win)."""
    text = text.replace("-", " ")
    return keywords(re.sub(r"[A-Za-z]+", lambda m: _IRREGULAR.get(m.group(0).lower(), m.group(0)), text))


_VAGUE = words_of("people many much number total report said say")


def counted_sentence(text: str, unit: str, relation: set[str]) -> tuple[int, int, str] | None:
    """The first sentence of ``text`` that counts ``unit`` and says what the question asks
    (one of the ``relation`` words in it or the sentence before it): (start, end, value)."""
    before = ""
    for start, end in sentence_spans(text):
        sentence = text[start:end]
        found = counts(sentence, unit)
        if found and (not relation or relation & words_of(f"{before} {sentence}")):
            return start, end, found[0][2]
        before = sentence
    return None


def plan(question: str, intent: TimeIntent) -> str:
    """Which policy answers: "timeline", "latest", "window" (a plain answer inside the window) or "plain"."""
    if intent.kind is TimeKind.DEVELOPMENT:
        return "timeline"
    if intent.kind in (TimeKind.SINCE, TimeKind.BEFORE):
        return "window-timeline" if asks_what_happened(question) else "window"
    if intent.kind is TimeKind.LATEST:
        return "latest"
    return "plain"
