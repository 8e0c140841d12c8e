"""What a question asks about time, read from its words against the day it is asked (``as_of``):

- ``latest``: "the latest", "now", "currently", "still", "so far", "any update";
- ``since`` / ``before`` a day: "since March 5", "after Tuesday", "before 4 March", "since yesterday",
  "since last week", "since 2026-03-05" (``day``: the first day in the window for since, the first
  day after it for before);
- ``development``: "how has … developed", "how did … unfold", "timeline of …", "what happened with/to/in
  …", "what changed", "the story so far";
- ``plain``: everything else (a fact question, answered as before).

"since"/"before" win over the others ("what happened since March 5" is the story since that day). No
parser is needed: the phrases are few and fixed, and a regular expression reads them in microseconds.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from index.language.words import STOPWORDS, terms


class TimeKind(StrEnum):
    PLAIN = "plain"
    LATEST = "latest"
    SINCE = "since"
    BEFORE = "before"
    DEVELOPMENT = "development"


_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m} | {"sept": 9}
_WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = (
    r"(?P<iso>\d{4}-\d\d-\d\d)"
    rf"|(?P<m1>{_MONTH})\.?\s+(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(?P<y1>\d{{4}}))?"
    rf"|(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m2>{_MONTH})\.?(?:,?\s+(?P<y2>\d{{4}}))?"
    rf"|(?:last\s+)?(?P<weekday>{'|'.join(_WEEKDAYS)})"
    r"|(?P<yesterday>yesterday)|(?P<lastweek>last\s+week)|(?P<lastmonth>last\s+month)"
)
_SINCE = re.compile(rf"\b(?P<word>since|after|before|until|up to)\s+(?:the\s+)?(?:{_DAY})\b", re.I)
_DEVELOPMENT = re.compile(
    r"\bhow\s+(?:has|have|did|is|are|was|were)\b.{0,80}?\b(?:develop(?:ed|ing)?|unfold(?:ed|ing)?|evolv(?:e|ed|ing)"
    r"|progress(?:ed)?|play(?:ed)?\s+out|change[ds]?)\b"
    r"|\btimeline\b|\bchronology\b|\bstory\s+so\s+far\b|\bwhat\s+(?:has\s+|had\s+)?changed\b"
    r"|\bwhat\s+(?:has\s+|had\s+)?happened\s+(?:with|to|in|at|on|over|about)\b"
    r"|\bwhat\s+(?:has\s+been|was)\s+reported\s+(?:about|on)\b",
    re.I,
)
# "the latest on X", "latest news", "what's new now" — but not "the latest census data" or "the latest
# tech giant to …": there "latest" picks a thing, the question is a plain one
_LATEST = re.compile(
    r"\b(?:latest|newest|most\s+recent)\b(?=\s*(?:[?.!,]|$|on\b|in\b|about\b|with\b|from\b|for\b|regarding\b"
    r"|news\b|updates?\b|developments?\b|reports?\b|situation\b|status\b))"
    r"|\b(?:currently|now|still|so\s+far|any\s+(?:news|update)|update\s+on|up\s+to\s+date|at\s+the\s+moment"
    r"|these\s+days|current\s+(?:situation|status|state))\b",
    re.I,
)
# words that say what kind of question it is, not what it is about (dropped from the topic)
_NOT_TOPIC = frozenset(
    "latest newest recent current currently now still far news update updates story stories timeline chronology "
    "develop developed developing development unfold unfolded unfolding evolve evolved progress progressed happen "
    "happened happening change changed changes report reported reports give tell show since after before until "
    "moment days play played".split()
)


@dataclass(frozen=True)
class TimeIntent:
    """What the question asks about time: its kind, the day a since/before names, the words that
    name it ("since March 5"), and its topic (the question without its time and question words)."""

    kind: TimeKind
    day: date | None = None
    phrase: str = ""
    topic: str = ""

    def label(self) -> str:
        """How the UI and CLI show it: "latest", "since 5 Mar 2026", "development"…"""
        if self.day is not None:
            return f"{self.kind.value} {self.day.day} {self.day:%b %Y}"
        return self.kind.value


def _year_for(month: int, day: int, as_of: date) -> int:
    """The year of the most recent ``month``/``day`` on or before ``as_of``."""
    try:
        return as_of.year if date(as_of.year, month, day) <= as_of else as_of.year - 1
    except ValueError:
        return as_of.year - 1


def named_day(m: re.Match[str], as_of: date) -> date | None:
    """The day a :data:`_DAY` match names, read against ``as_of`` (None for an impossible date)."""
    g = m.groupdict()
    try:
        if g.get("iso"):
            return date.fromisoformat(g["iso"])
        if g.get("m1") or g.get("m2"):
            month = _MONTHS[(g.get("m1") or g["m2"]).lower()]
            day = int(g.get("d1") or g["d2"])
            year = g.get("y1") or g.get("y2")
            return date(int(year) if year else _year_for(month, day, as_of), month, day)
    except ValueError:
        return None
    if g.get("weekday"):
        back = (as_of.weekday() - _WEEKDAYS[g["weekday"].lower()]) % 7 or 7
        return as_of - timedelta(days=back)
    if g.get("yesterday"):
        return as_of - timedelta(days=1)
    if g.get("lastweek"):
        return as_of - timedelta(days=as_of.weekday() + 7)
    if g.get("lastmonth"):
        first = as_of.replace(day=1) - timedelta(days=1)
        return first.replace(day=1)
    return None


def topic_of(question: str, phrase: str = "") -> str:
    """The question's content words without its time phrase and the words that only say it is a
    time question ("latest", "developed", "timeline")."""
    text = question.replace(phrase, " ") if phrase else question
    words = re.findall(r"[\w'’.-]+", text)
    dropped = STOPWORDS | _NOT_TOPIC
    kept = [w for w in words if re.split(r"['’]", w.lower().strip("."))[0] not in dropped and terms(w)]
    return " ".join(kept)


def time_intent(question: str, as_of: date) -> TimeIntent:
    """Read what ``question`` asks about time, relative to ``as_of``."""
    m = _SINCE.search(question)
    if m:
        day = named_day(m, as_of)
        if day is not None:
            word = m.group("word").lower()
            kind = TimeKind.BEFORE if word in {"before", "until", "up to"} else TimeKind.SINCE
            if word == "after":  # after March 5: from March 6 on
                day += timedelta(days=1)
            elif word in {"until", "up to"}:  # until March 5: March 5 included
                day += timedelta(days=1)
            return TimeIntent(kind, day, m.group(0), topic_of(question, m.group(0)))
    m = _DEVELOPMENT.search(question)
    if m:
        return TimeIntent(TimeKind.DEVELOPMENT, None, m.group(0), topic_of(question))
    m = _LATEST.search(question)
    if m:
        return TimeIntent(TimeKind.LATEST, None, m.group(0), topic_of(question))
    return TimeIntent(TimeKind.PLAIN, topic=topic_of(question))


def asks_what_happened(question: str) -> bool:
    """A since/before question asking what happened (a timeline of the window), not one fact."""
    return bool(
        re.search(
            r"\bwhat\s+(?:has\s+|had\s+|'s\s+)?(?:happened|changed|been\s+reported|was\s+reported|is\s+new|new)\b"
            r"|\bany\s+(?:news|updates?)\b|\bwhat\s+(?:do|did)\s+we\s+know\b",
            question,
            re.I,
        )
    )


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
