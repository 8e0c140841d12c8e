"""``/v1/conversations``: the saved conversations over HTTP (the store of ``Assistant.conversations``).

``GET /v1/conversations`` lists them (newest first), ``POST`` creates one (``{"title"}``),
``GET /v1/conversations/{id}`` returns one with its turns (each the whole Answer, its rating and
comment), ``PATCH`` renames (``{"title"}``), ``DELETE`` deletes. ``POST /v1/conversations/{id}/messages``
asks ``{"question", "model", "filters"}`` with the conversation's earlier turns as history and saves the
turn; ``PUT /v1/conversations/{id}/turns/{n}/rating`` rates turn n (``{"rating": 1 | -1 | null,
"comment"}``). An unknown id is a 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from assistant.conversations import MAX_COMMENT, MAX_TITLE, Conversation, Turn
from assistant.core import Assistant
from index import Filters


class TitleBody(BaseModel):
    title: str = Field("", max_length=MAX_TITLE)


class MessageBody(BaseModel):
    question: str
    model: str | None = None
    filters: dict[str, Any] | None = None


class RatingBody(BaseModel):
    rating: int | None = Field(None, ge=-1, le=1)
    comment: str = Field("", max_length=MAX_COMMENT)


def _summary(c: Conversation) -> dict[str, Any]:
    return {"id": c.id, "object": "conversation", "title": c.title, "created": c.created, "updated": c.updated}


def _turn(t: Turn) -> dict[str, Any]:
    return {
        "position": t.position,
        "answer": t.answer.model_dump(mode="json"),
        "rating": t.rating,
        "comment": t.comment,
    }


def conversation_routes(assistant: Assistant, filters_of: Any) -> APIRouter:
    """The routes; ``filters_of(dict)`` reads a request's filters as the chat endpoint does."""
    router = APIRouter()
    store = assistant.conversations

    @router.get("/v1/conversations")
    def listed() -> dict[str, Any]:
        return {"object": "list", "data": [_summary(c) for c in store.list()]}

    @router.post("/v1/conversations")
    def create(body: TitleBody) -> dict[str, Any]:
        return _summary(store.create(body.title))

    @router.get("/v1/conversations/{conversation_id}")
    def get(conversation_id: str) -> dict[str, Any]:
        c = store.get(conversation_id)
        return {**_summary(c), "turns": [_turn(t) for t in c.turns]}

    @router.patch("/v1/conversations/{conversation_id}")
    def rename(conversation_id: str, body: TitleBody) -> dict[str, Any]:
        store.rename(conversation_id, body.title)
        return _summary(store.get(conversation_id))

    @router.delete("/v1/conversations/{conversation_id}")
    def delete(conversation_id: str) -> dict[str, Any]:
        store.delete(conversation_id)
        return {"id": conversation_id, "object": "conversation", "deleted": True}

    @router.post("/v1/conversations/{conversation_id}/messages")
    def message(conversation_id: str, body: MessageBody) -> dict[str, Any]:
        history = store.get(conversation_id).history()
        filters: Filters | None = filters_of(body.filters) if body.filters else None
        answer = assistant.ask(body.question, history, filters, engine=body.model)
        return _turn(store.add(conversation_id, answer))

    @router.put("/v1/conversations/{conversation_id}/turns/{position}/rating")
    def rate(conversation_id: str, position: int, body: RatingBody) -> dict[str, Any]:
        store.rate(conversation_id, position, body.rating, body.comment)
        return {"position": position, "rating": body.rating, "comment": body.comment}

    return router
