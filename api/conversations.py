"""``/v1/conversations``: the saved conversations over HTTP (the store of ``Assistant.conversations``).

``GET /v1/conversations`` lists them (newest first), ``POST`` creates one (``{"title"}``),
``GET /v1/conversations/{id}`` returns one with its turns (each the whole Answer, its rating and
comment), ``PATCH`` renames (``{"title"}``), ``DELETE`` deletes. ``POST /v1/conversations/{id}/messages``
asks ``{"question", "model", "filters"}`` with the conversation's earlier turns as history and saves the
turn; ``PUT /v1/conversations/{id}/turns/{n}/rating`` rates turn n (``{"rating": 1 | -1 | null,
"comment"}``). An unknown id is a 404.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from api.routes import Served
from api.schemas import FilterBody, filters_of
from assistant import Conversation, Turn
from assistant.conversations import MAX_COMMENT, MAX_TITLE


class TitleBody(BaseModel):
    title: str = Field("", max_length=MAX_TITLE)


class MessageBody(BaseModel):
    question: str
    model: str | None = None
    filters: FilterBody | None = None


class RatingBody(BaseModel):
    rating: int | None = Field(None, ge=-1, le=1)
    comment: str = Field("", max_length=MAX_COMMENT)
    reason: Literal["", "wrong", "incomplete", "should_refuse", "should_answer"] = Field(
        "", description="For a -1 rating: what was wrong (it decides what `testset from-feedback` makes of it)."
    )


def _summary(c: Conversation) -> dict[str, Any]:
    return {"id": c.id, "object": "conversation", "title": c.title, "created": c.created, "updated": c.updated}


def _turn(t: Turn) -> dict[str, Any]:
    return {
        "position": t.position,
        "answer": t.answer.model_dump(mode="json"),
        "rating": t.rating,
        "comment": t.comment,
        "reason": t.reason,
    }


router = APIRouter()


@router.get("/v1/conversations")
def listed(assistant: Served) -> dict[str, Any]:
    return {"object": "list", "data": [_summary(c) for c in assistant.conversations.list()]}


@router.post("/v1/conversations")
def create(body: TitleBody, assistant: Served) -> dict[str, Any]:
    return _summary(assistant.conversations.create(body.title))


@router.get("/v1/conversations/{conversation_id}")
def get(conversation_id: str, assistant: Served) -> dict[str, Any]:
    c = assistant.conversations.get(conversation_id)
    return {**_summary(c), "turns": [_turn(t) for t in c.turns]}


@router.patch("/v1/conversations/{conversation_id}")
def rename(conversation_id: str, body: TitleBody, assistant: Served) -> dict[str, Any]:
    assistant.conversations.rename(conversation_id, body.title)
    return _summary(assistant.conversations.get(conversation_id))


@router.delete("/v1/conversations/{conversation_id}")
def delete(conversation_id: str, assistant: Served) -> dict[str, Any]:
    assistant.conversations.delete(conversation_id)
    return {"id": conversation_id, "object": "conversation", "deleted": True}


@router.post("/v1/conversations/{conversation_id}/messages")
def message(conversation_id: str, body: MessageBody, assistant: Served) -> dict[str, Any]:
    store = assistant.conversations
    history = store.get(conversation_id).history()
    answer = assistant.ask(body.question, history, filters_of(body.filters), engine=body.model)
    return _turn(store.add(conversation_id, answer))


@router.put("/v1/conversations/{conversation_id}/turns/{position}/rating")
def rate(conversation_id: str, position: int, body: RatingBody, assistant: Served) -> dict[str, Any]:
    if body.reason and body.rating != -1:
        raise HTTPException(400, "a reason goes with a -1 rating")
    assistant.conversations.rate(conversation_id, position, body.rating, body.comment, body.reason)
    return {"position": position, "rating": body.rating, "comment": body.comment, "reason": body.reason}
