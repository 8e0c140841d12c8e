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
    article can replace the old one.
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

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", content_id(self.title, self.text))
        if not self.key:
            object.__setattr__(self, "key", self.id)

    def to_dict(self) -> dict[str, Any]:
        return {
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
