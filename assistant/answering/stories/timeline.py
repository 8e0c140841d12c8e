"""Timeline answers: one line per report of a story, in date order, each a sentence copied from the
report (what it says first that an earlier line didn't), cited and verified like every answer.

    3 Mar 2026 — A section of the Elm River bridge collapsed into the river on Tuesday morning … [1]
    4 Mar 2026 — St Anne's Hospital said on Wednesday that 17 people were injured … [2]

:func:`timeline_draft` picks the lines (no model needed); the pipeline verifies the draft, and
:func:`as_timeline` writes the verified sentences as dated lines.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from assistant.answering.answer import Answer, TimelineLine
from assistant.answering.engines.base import Draft
from assistant.answering.stories.gather import Report, lede
from index import Passage
from index.language.words import keywords

MIN_WORDS = 5  # content words of a line ("New York CNN Business —" is no news)
NEAR_DUPLICATE = 0.5  # a line sharing half its words (the story's own words aside) with an earlier one


def jaccard(one: set[str], other: set[str]) -> float:
    return len(one & other) / len(one | other) if one and other else 0.0


def day_label(day: str) -> str:
    """ "3 Mar 2026" for "2026-03-03" (the day as given when it is no ISO date)."""
    try:
        d = date.fromisoformat(day[:10])
    except ValueError:
        return day or "undated"
    return f"{d.day} {d:%b %Y}"


def timeline_draft(
    reports: list[Report], passages_of: Callable[[str], list[Passage]], limit: int, topic: str = ""
) -> tuple[Draft, int]:
    """One line per report (oldest first): its first sentence that an earlier line doesn't already
    tell (compared without the words naming the story, ``topic``). At most ``limit`` lines: the first
    report's and the newest ``limit - 1``. Returns the draft and how many reports with a line were
    left out."""
    story_words = keywords(topic)
    lines: list[tuple[Report, int, int]] = []
    told: list[set[str]] = []
    for report in reports:
        for hit, start, end in lede(report.article, passages_of(report.article.id)):
            words = keywords(report.article.text[start:end]) - story_words
            if len(words) < MIN_WORDS or any(jaccard(words, earlier) >= NEAR_DUPLICATE for earlier in told):
                continue
            lines.append((Report(report.article, [hit]), start, end))
            told.append(words)
            break
    left = max(0, len(lines) - limit)
    if left:
        lines = lines[:1] + lines[len(lines) - (limit - 1) :]
    hits = [report.hits[0] for report, _, _ in lines]
    sentences = [(report.article.text[s:e], [i + 1]) for i, (report, s, e) in enumerate(lines)]
    known = {i: {i: (s, e)} for i, (_, s, e) in enumerate(lines)}
    return Draft(" ".join(text for text, _ in sentences), hits, sentences, known), left


def as_timeline(answer: Answer) -> Answer:
    """The verified answer written as dated lines, oldest first ("3 Mar 2026 — … [1]")."""
    lines = []
    for sentence in answer.sentences:
        if not sentence.verified or not sentence.markers:
            continue
        cited = answer.citation(sentence.markers[0])
        day = cited.date if cited is not None else ""
        lines.append(TimelineLine(day=day[:10], marker=sentence.markers[0], text=sentence.text))
    lines.sort(key=lambda line: (not line.day, line.day))
    text = "\n".join(f"{day_label(line.day)} — {line.text} [{line.marker}]" for line in lines)
    return answer.model_copy(update={"timeline": lines, "text": text or answer.text})
