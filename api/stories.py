"""Stories over time: what's new (``GET /v1/digest``) and one story's timeline (``GET /v1/story``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.routes import Served

router = APIRouter()


@router.get("/v1/digest")
def digest(assistant: Served, since: str | None = None, as_of: str | None = None) -> dict[str, Any]:
    """The stories with reports dated from ``since`` (YYYY-MM-DD, "yesterday" by default, "N days",
    "last refresh") to ``as_of`` (today by default): each its newest report's first sentence, cited."""
    return {"object": "digest", **assistant.digest(since, as_of).to_dict()}


@router.get("/v1/story")
def story(article: str, assistant: Served, as_of: str | None = None) -> dict[str, Any]:
    """The timeline of the story ``article`` (an id, record id, URL or path) belongs to: the Answer,
    its ``timeline`` one dated, cited line per report."""
    return {"object": "story", **assistant.story(article, as_of).model_dump()}
