"""News has dates: the window a question's own time words name, read against the day it is asked.

:func:`question_window` turns "yesterday", "on Tuesday", "last week", "this month", "in March
2021", "in 2019", "last year" into a (since, until) pair of days relative to ``as_of`` (the day the
question is asked; today by default). A question with no such words gets no window; retrieval
then prefers recent articles instead (``NewsIndex._date_prior``).
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta

from index.reading.article_fields import iso_date

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS |= {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WORDS = [
    ("yesterday", re.compile(r"\byesterday\b", re.I)),
    ("today", re.compile(r"\b(?:today|tonight|this morning|this afternoon|this evening)\b", re.I)),
    ("weekday", re.compile(r"\b(?:on|last|this)\s+(?P<day>" + "|".join(_DAYS) + r")\b", re.I)),
    ("last_week", re.compile(r"\b(?:last|past|previous)\s+week\b", re.I)),
    ("this_week", re.compile(r"\bthis\s+week\b", re.I)),
    ("last_month", re.compile(r"\b(?:last|past|previous)\s+month\b", re.I)),
    ("this_month", re.compile(r"\bthis\s+month\b", re.I)),
    ("last_year", re.compile(r"\b(?:last|past|previous)\s+year\b", re.I)),
    ("this_year", re.compile(r"\bthis\s+year\b", re.I)),
    ("month_year", re.compile(r"\b(?:in\s+)?" + _MONTH + r"\s+(?P<year>(?:19|20)\d\d)\b", re.I)),
    ("month", re.compile(r"\b(?:in|since|during|this|last)\s+" + _MONTH + r"\b(?!\s+\d)", re.I)),
    ("year", re.compile(r"\b(?:in|during|of)\s+(?P<year>(?:19|20)\d\d)\b", re.I)),
]


def parse_day(value: str) -> date:
    """A YYYY-MM-DD day (also 2018/03/15 and 2018.3.15, as :func:`iso_date` reads them; a time part
    is ignored); ValueError naming the value otherwise."""
    try:
        return date.fromisoformat(iso_date(value)[:10])
    except ValueError:
        raise ValueError(f"{value!r} is not a date: write it as YYYY-MM-DD") from None


def _month(year: int, month: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def question_window(question: str, as_of: date) -> tuple[date, date] | None:
    """The days the question's own time words name, relative to ``as_of`` (None: it names none).
    The window never ends after ``as_of``."""
    for kind, pattern in _WORDS:
        m = pattern.search(question)
        if not m:
            continue
        if kind == "yesterday":
            since = until = as_of - timedelta(days=1)
        elif kind == "today":
            since = until = as_of
        elif kind == "weekday":  # the most recent such day, with a day either side for time zones
            back = (as_of.weekday() - _DAYS[m.group("day").lower()]) % 7
            day = as_of - timedelta(days=back)
            since, until = day - timedelta(days=1), day + timedelta(days=1)
        elif kind == "last_week":
            monday = as_of - timedelta(days=as_of.weekday() + 7)
            since, until = monday, monday + timedelta(days=6)
        elif kind == "this_week":
            since, until = as_of - timedelta(days=as_of.weekday()), as_of
        elif kind == "last_month":
            first = as_of.replace(day=1) - timedelta(days=1)
            since, until = _month(first.year, first.month)
        elif kind == "this_month":
            since, until = as_of.replace(day=1), as_of
        elif kind == "last_year":
            since, until = date(as_of.year - 1, 1, 1), date(as_of.year - 1, 12, 31)
        elif kind == "this_year":
            since, until = date(as_of.year, 1, 1), as_of
        elif kind == "month_year":
            since, until = _month(int(m.group("year")), _MONTHS[m.group("month").lower()])
        elif kind == "month":  # the most recent such month up to as_of
            month = _MONTHS[m.group("month").lower()]
            year = as_of.year if month <= as_of.month else as_of.year - 1
            since, until = _month(year, month)
        else:
            since, until = date(int(m.group("year")), 1, 1), date(int(m.group("year")), 12, 31)
        return since, min(until, as_of)
    return None
