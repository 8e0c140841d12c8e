"""Typed records: articles, passages and search hits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


def indexed_text(title: str, passage: str) -> str:
    """What is embedded and keyword-indexed for a passage: its article's title, then the passage,
    so a passage that never names its story (a quote, a later paragraph) is still found by it."""
    return f"{title}\n\n{passage}" if title else passage


def content_id(title: str, text: str) -> str:
    """Stable id of an article's content: the same title and text always give the same id."""
    digest = hashlib.sha256(f"{title.strip()}\n\n{text.strip()}".encode()).hexdigest()
    return digest[:16]


@dataclass(frozen=True)
class Article:
    """One news article.

    ``id`` is a hash of the content (see :func:`content_id`); ``key`` names where the article came
    from (a record's own id, its URL or the file path) so that a changed version of the same
    article can replace the old one. ``copies``: near-identical articles from other sources (the
    same story as a PDF, or from another outlet) merged into this one at ingest and not indexed
    again (see :mod:`index.copies`); each without copies of its own.
    """

    text: str
    title: str = ""
    key: str = ""
    source: str = ""
    date: str = ""
    url: str = ""
    authors: tuple[str, ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    copies: tuple[Article, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", content_id(self.title, self.text))
        if not self.key:
            object.__setattr__(self, "key", self.id)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "key": self.key,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "url": self.url,
            "authors": list(self.authors),
            "metadata": self.metadata,
            "text": self.text,
        }
        if self.copies:
            data["copies"] = [c.to_dict() for c in self.copies]
        return data

    @property
    def origin(self) -> str:
        """Where the article came from, for people: its source and its file name or URL
        ("Metro Herald (story.pdf)"), else its key."""
        where = str(self.metadata.get("path", "")).rsplit("/", 1)[-1] or self.url
        if self.source and where:
            return f"{self.source} ({where})"
        return self.source or where or self.key

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        return cls(
            text=data["text"],
            title=data.get("title", ""),
            key=data.get("key", ""),
            source=data.get("source", ""),
            date=data.get("date", ""),
            url=data.get("url", ""),
            authors=tuple(data.get("authors", ())),
            metadata=dict(data.get("metadata", {})),
            id=data.get("id", ""),
            copies=tuple(cls.from_dict(c) for c in data.get("copies", ())),
        )


@dataclass(frozen=True)
class Passage:
    """A span of an article: ``article.text[start:end] == text``."""

    id: int
    article_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Hit:
    """A passage returned by a search, with its score and its article."""

    passage: Passage
    score: float
    article: Article
