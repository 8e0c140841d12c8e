"""What's new: the stories with new reports since a day, each told by its newest report's first
sentence (cited), with how many reports the story has. Stories, not articles: reports of one story
are gathered the way a timeline gathers them (:mod:`.gather`), from the newest report's title."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from assistant.answering.answer import Citation
from assistant.answering.stories.gather import lede
from assistant.answering.stories.intent import names_of, topic_of
from index import Article, Filters, NewsIndex


@dataclass
class DigestStory:
    """One story with news: its newest report's title and first sentence (cited), and its reports."""

    title: str
    line: str
    citation: Citation
    reports: int  # reports of the story up to the digest's day
    new_reports: int  # of them, dated on or after ``since``
    first_day: str
    last_day: str
    article_ids: list[str] = field(default_factory=list)  # newest first

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["citation"] = self.citation.model_dump()
        return out


@dataclass
class Digest:
    """The stories with reports dated from ``since`` to ``as_of``, newest story first."""

    since: str
    as_of: str
    stories: list[DigestStory] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"since": self.since, "as_of": self.as_of, "stories": [s.to_dict() for s in self.stories]}

    def text(self) -> str:
        """The digest as plain lines (the CLI's)."""
        if not self.stories:
            return f"No new reports from {self.since} to {self.as_of}."
        lines = [f"What's new since {self.since} ({len(self.stories)} stor{'ies' if len(self.stories) != 1 else 'y'}):"]
        for n, s in enumerate(self.stories, 1):
            count = f"{s.new_reports} new of {s.reports} report{'s' if s.reports != 1 else ''}"
            lines.append(f"\n{n}. {s.title} ({count}, {s.first_day} to {s.last_day})\n   {s.line} [{n}]")
            lines.append(f"   [{n}] {s.citation.source} · {s.citation.date}")
        return "\n".join(lines)


def story_of(article: Article, reports: list[Article]) -> list[Article]:
    """The article and the reports of its story, oldest first (the article itself always in)."""
    out = {a.id: a for a in reports}
    out.setdefault(article.id, article)
    return sorted(out.values(), key=lambda a: (not a.date, a.date[:10], a.id))


def make_digest(index: NewsIndex, reports_of: Any, since: date, as_of: date, limit: int = 20) -> Digest:
    """The digest of ``index`` from ``since`` to ``as_of``; ``reports_of(topic, filters, names)`` gives a
    story's reports (the story policy's)."""
    low, high = since.isoformat(), as_of.isoformat()
    new = sorted(
        (a for a in index.headers() if a.date and low <= a.date[:10] <= high),
        key=lambda a: a.date[:10],
        reverse=True,
    )
    placed: set[str] = set()
    stories: list[DigestStory] = []
    dated = Filters(as_of=high)
    for header in new:
        if header.id in placed or len(stories) >= limit:
            continue
        article = index.article(header.id) or header  # with its text
        names = names_of(article.title, article.text)
        found = reports_of(names or topic_of(article.title) or article.title, dated, names)
        members = story_of(article, [r.article for r in found])
        placed.update(a.id for a in members)
        newest = max(members, key=lambda a: a.date[:10])
        opening = lede(newest, index.passages_of(newest.id), limit=1)
        if not opening:
            continue
        hit, start, end = opening[0]
        citation = Citation.from_hit(len(stories) + 1, hit, [(start, end)])
        fresh = [a for a in members if low <= a.date[:10] <= high]
        stories.append(
            DigestStory(
                title=newest.title,
                line=newest.text[start:end],
                citation=citation,
                reports=len(members),
                new_reports=len(fresh),
                first_day=members[0].date[:10],
                last_day=newest.date[:10],
                article_ids=[a.id for a in reversed(members)],
            )
        )
    return Digest(low, high, stories)
