"""A story's reports: the articles about one topic among the retrieved passages.

An article belongs to the story when its closest passage is as near the topic (cosine of their
vectors) as ``RELATIVE_FLOOR`` of the closest article's and at least ``MIN_COSINE``, and its title and
text hold most of the topic's content words (``COVERAGE``): so an unrelated newer article from the
same town never wins "the latest". Cosines, not retrieval's fused scores, because fused scores are
rescaled over whatever a date filter leaves.
Copies of one report from other outlets are already merged by the index (:mod:`index.copies`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from index import Article, Hit, Passage, sentence_spans
from index.language.words import keywords

# "RIVERTON - ", "PORT WEN (Island Post) - ": a dateline is not part of what happened
_DATELINE = re.compile(r"[A-Z][A-Z .'’-]{2,40}(?:\([^)]{1,40}\))?\s+[-–—]\s+")
RELATIVE_FLOOR = 0.6  # an article's closest passage's cosine against the closest article's
COVERAGE = 0.6  # share of the topic's content words the article must hold
MIN_COSINE = 0.25  # below this nothing is on topic
TIMELINE_DAYS = 180  # a timeline's reports lie this close to its best-matching report (or the article asked about)


@dataclass
class Report:
    """One article of a story and its retrieved passages (best first)."""

    article: Article
    hits: list[Hit] = field(default_factory=list)

    @property
    def day(self) -> str:
        return self.article.date[:10]

    @property
    def score(self) -> float:
        return max((h.score for h in self.hits), default=0.0)


def by_article(hits: list[Hit]) -> list[Report]:
    """The hits grouped by article, best article first."""
    reports: dict[str, Report] = {}
    for hit in hits:
        reports.setdefault(hit.article.id, Report(hit.article)).hits.append(hit)
    return sorted(reports.values(), key=lambda r: -r.score)


def covers(article: Article, topic: str) -> float:
    """The share of ``topic``'s content words found in the article's title and text."""
    wanted = keywords(topic)
    if not wanted:
        return 1.0
    return len(wanted & keywords(f"{article.title} {article.text}")) / len(wanted)


def on_topic(hits: list[Hit], topic: str, cosine: Callable[[int], float]) -> list[Report]:
    """The reports of the story ``topic`` names among ``hits``, oldest first (undated last);
    ``cosine`` gives a passage's cosine with the topic."""
    reports = by_article(hits)
    near = {r.article.id: max(cosine(h.passage.id) for h in r.hits) for r in reports}
    best = max(near.values(), default=0.0)
    if best < MIN_COSINE:
        return []
    floor = max(MIN_COSINE, RELATIVE_FLOOR * best)
    kept = [r for r in reports if near[r.article.id] >= floor and covers(r.article, topic) >= COVERAGE]
    return sorted(kept, key=lambda r: (not r.day, r.day, r.article.id))


def within(reports: list[Report], anchor: str, days: int) -> list[Report]:
    """The reports dated within ``days`` of the day ``anchor`` (undated ones kept): a story runs for
    weeks or months, and a name shared with an older, other story should not join it."""
    try:
        center = date.fromisoformat(anchor[:10])
    except ValueError:
        return reports

    def close(report: Report) -> bool:
        try:
            return abs(date.fromisoformat(report.day) - center) <= timedelta(days=days)
        except ValueError:
            return True

    return [r for r in reports if close(r)]


def lede(article: Article, passages: list[Passage], limit: int = 3) -> list[tuple[Hit, int, int]]:
    """The first ``limit`` sentences of an article, each with the passage that holds it and its span
    in the article's text, a dateline ("RIVERTON - ") left out: what a report says first is what
    happened."""
    out = []
    for start, end in sentence_spans(article.text)[:limit]:
        cut = _DATELINE.match(article.text, start, end)
        start = cut.end() if cut else start
        holder = next((p for p in passages if p.start <= start and end <= p.end), None)
        if holder is not None:
            out.append((Hit(holder, 1.0, article), start, end))
    return out
