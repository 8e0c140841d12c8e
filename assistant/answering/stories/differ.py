"""Reports that differ: when a story's reports give different values for what a question asks (a
revised injury count, a recounted margin), the answer leads with the newest report's value and cites
one sentence for each other value, from the first report that gave it.

Counts ("how many nurses") are read from every report of the story: the sentence that counts the
asked unit and says what the question asks (one of its words in the sentence or the one before).
Other kinds (a date, a name, a place) are what the extractive engine answers report by report. The
story is found by the question's names, or those of the report the answer cites first, within
``STORY_DAYS`` of it.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import date, timedelta
from typing import Protocol

from assistant.answering.answer import Answer, Disagreement
from assistant.answering.engines.base import AnswerEngine, Draft, DraftRequest, drafted
from assistant.answering.stories.gather import Report
from assistant.answering.stories.intent import names_of, topic_of
from assistant.answering.stories.merge import Verifies, merged
from assistant.answering.stories.timeline import day_label
from assistant.answering.stories.values import COUNT, NOT_COUNTED, asked_unit, counts, same_value, unit_after
from index import Filters, Hit, NewsIndex, sentence_spans
from index.language.words import keywords


class StoryPolicy(Protocol):
    """What comparing needs of the story policy (:class:`~.policy.StoryPolicy` is one)."""

    index: NewsIndex
    reader: AnswerEngine | None
    pipeline: Verifies

    def reports(self, topic: str, filters: Filters | None, names: str = "") -> list[Report]: ...

    def request(self, question: str, report: Report) -> DraftRequest: ...


COMPARED = 6  # reports read for the same question when checking that they agree
TYPED = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "PERSON", "GPE", "LOC"}  # count, amount, date, who, where
STORY_DAYS = 45  # reports compared for one question lie this close to the answer's (one story, not last year's)


@dataclasses.dataclass
class Found:
    """A value one report gives for the question, with the draft that cites it."""

    report: Report
    draft: Draft
    value: str


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


def compare(policy: StoryPolicy, question: str, query: str, answer: Answer, filters: Filters | None) -> Answer:
    """When the story's reports give different values for what was asked, the answer leads with
    the newest report's and cites one sentence per other value (the first report that gave it).
    Counts ("how many nurses") are read from every report of the story; other kinds (a date, a
    name) from what the extractive engine answers report by report."""
    if policy.reader is None:
        return answer
    unit = asked_unit(question) or answer_unit(answer)
    if unit:
        return _compare_counts(policy, question, query, answer, filters, unit)
    if not answer.answered or answer.short is None or answer.short.label not in TYPED:
        return answer
    topic, names = topic_of(question), story_names(policy, question, answer)
    reports = sorted(near(policy.reports(names or topic, filters, names), answer), key=lambda r: r.day, reverse=True)
    found: list[Found] = []
    for report in reports[:COMPARED]:
        draft = drafted(policy.reader, policy.request(question, report))
        if draft is not None and draft.short is not None and draft.sentences and draft.short[3] == answer.short.label:
            h, s, e, _ = draft.short
            found.append(Found(report, draft, draft.hits[h].article.text[s:e]))
    return _differing(policy, question, query, answer, found, answer.short.label)


def near(reports: list[Report], answer: Answer) -> list[Report]:
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


def story_names(policy: StoryPolicy, question: str, answer: Answer) -> str:
    """The names that find the story a question is about: the question's own, else those of the
    title of the report the answer cites first ("the collapse" is the Elm River bridge's)."""
    names = names_of(question)
    if names or not answer.answered or not answer.citations:
        return names
    lead = policy.index.article(answer.citations[0].article_id)
    return names_of(lead.title, lead.text) if lead is not None else ""


def _compare_counts(
    policy: StoryPolicy, question: str, query: str, answer: Answer, filters: Filters | None, unit: str
) -> Answer:
    topic, names = topic_of(question), story_names(policy, question, answer)
    relation = words_of(question) - words_of(f"{unit} {names} how many") - _VAGUE
    found: list[Found] = []
    reports = near(policy.reports(names or topic, filters, names), answer)
    if not answer.answered:  # answering what the engine refused: the relation must be more than the story's name
        relation -= words_of(" ".join(r.article.title for r in reports))
        if not relation:
            return answer
    for report in sorted(reports, key=lambda r: r.day, reverse=True)[:COMPARED]:
        sentence = counted_sentence(report.article.text, unit, relation)
        if sentence is None:
            continue
        start, end, value = sentence
        holder = next((p for p in policy.index.passages_of(report.article.id) if p.start <= start < p.end), None)
        if holder is None:
            continue
        hit = Hit(holder, 1.0, report.article)
        text = report.article.text[start:end]
        found.append(Found(report, Draft(text, [hit], [(text, [1])], {0: {0: (start, end)}}), value))
    return _differing(policy, question, query, answer, found, "CARDINAL", rescue=True)


def _differing(
    policy: StoryPolicy, question: str, query: str, answer: Answer, found: list[Found], label: str, rescue: bool = False
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
    checked = policy.pipeline.verify(question, query, merged([f.draft for f in chosen]))
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
