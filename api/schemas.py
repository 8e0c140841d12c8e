"""The API's request bodies, and how an answer reads in a chat front end."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from assistant import Filters


class FilterBody(BaseModel):
    sources: list[str] = Field(default_factory=list)
    since: str | None = None
    until: str | None = None
    article_ids: list[str] = Field(default_factory=list)
    as_of: str | None = Field(None, description="Ask as of this day (YYYY-MM-DD; default today).")

    def filters(self) -> Filters:
        return Filters(tuple(self.sources), self.since, self.until, tuple(self.article_ids), self.as_of)


def filters_of(body: FilterBody | None) -> Filters | None:
    return body.filters() if body is not None else None


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model: str
    messages: list[ChatMessage]
    stream: bool = False
    filters: FilterBody | None = None


class SearchRequest(BaseModel):
    query: str
    k: int = Field(5, ge=1, le=50)
    filters: FilterBody | None = None


class SourcesRequest(BaseModel):
    """Feeds or pages to add (``POST /v1/sources``) or to refresh (``POST /v1/sources/refresh``;
    empty: all). Fetched from this server: non-public addresses are refused unless
    ``sources.allow_private``."""

    urls: list[str] = Field(default_factory=list, max_length=20)
