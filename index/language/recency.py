"""News is about now: a ranking's scores weighed by how close each article's date is to the days
the question names, or to the day it is asked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from index.language.dates import parse_day, question_window
from index.settings import RetrievalSettings


def date_prior(
    query: str,
    ranked: list[tuple[int, float]],
    as_of: str,
    options: RetrievalSettings,
    date_of: Callable[[int], str],
) -> list[tuple[int, float]]:
    """``ranked`` (passage id, score) rescored by how close each passage's article date
    (``date_of``) is to the days the question names (its time words, read against ``as_of``), or to
    ``as_of`` itself, and sorted again."""
    day = parse_day(as_of)
    window = question_window(query, day)
    since, until = window or (day, day)
    slack = until + timedelta(days=7)  # a story is reported in the days after it happened
    weight = options.window_prior if window else options.date_prior
    closeness: list[float | None] = []
    for pid, _ in ranked:
        try:
            article_day = parse_day(date_of(pid))
        except ValueError:
            closeness.append(None)  # undated
            continue
        inside = since <= article_day <= slack
        gap = 0 if inside else min(abs((article_day - since).days), abs((article_day - slack).days))
        closeness.append(0.5 ** (gap / options.recency_half_life_days))
    dated = [c for c in closeness if c is not None]
    neutral = sum(dated) / len(dated) if dated else 1.0  # an undated article: like the average one
    out = [
        (pid, score * (1 - weight + weight * (neutral if c is None else c)))
        for (pid, score), c in zip(ranked, closeness, strict=True)
    ]
    return sorted(out, key=lambda item: -item[1])
