"""The OpenAI-compatible routes: models, chat completions (whole or streamed), search, articles, web sources."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import StreamingResponse

from api.schemas import ChatRequest, SearchRequest, SourcesRequest, filters_of
from assistant import (
    Answer,
    Assistant,
    AssistantError,
    Finished,
    LoadFailure,
    RefreshReport,
    Token,
    article_from_record,
    is_url,
)
from assistant.conversations import read_chat, with_sources

EXTRA_FIELD = "news_assistant"
CHECKED_NOTE = "\n\nChecked against the articles:\n"
WRITE_WAIT_S = 30.0  # a write waits this long for another writer (an ingest), then answers 409

router = APIRouter()


def current(request: Request) -> Assistant:
    """The assistant the app serves (``create_api`` puts it in the app's state)."""
    return request.app.state.assistant  # type: ignore[no-any-return]


Served = Annotated[Assistant, Depends(current)]


@router.get("/v1/models")
def models(assistant: Served) -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": e, "object": "model", "created": 0, "owned_by": "news-assistant"} for e in assistant.engines],
    }


@router.post("/v1/chat/completions", response_model=None)
def chat(body: ChatRequest, assistant: Served) -> Any:
    if not body.messages or body.messages[-1].role != "user":
        raise HTTPException(400, "the last message must be the user's question")
    if body.model not in assistant.engines:
        raise HTTPException(404, f"model {body.model!r} is not served here; choose one of {assistant.engines}")
    question, history = read_chat([m.model_dump() for m in body.messages])
    ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    events = assistant.stream(question, history, filters_of(body.filters), engine=body.model)
    if not body.stream:
        answer = next(e.answer for e in events if isinstance(e, Finished))
        return {
            "id": ident,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": with_sources(answer)}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            EXTRA_FIELD: answer.model_dump(mode="json"),
        }

    def chunk(delta: dict[str, Any], finish: str | None = None, extra: Answer | None = None) -> str:
        data: dict[str, Any] = {
            "id": ident,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if extra is not None:
            data[EXTRA_FIELD] = extra.model_dump(mode="json")
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    def sse() -> Iterator[str]:
        yield chunk({"role": "assistant", "content": ""})
        written = ""
        try:
            for event in events:
                if isinstance(event, Token):
                    written += event.text
                    yield chunk({"content": event.text})
                elif isinstance(event, Finished):
                    answer = event.answer
                    final = with_sources(answer)
                    if not written:
                        yield chunk({"content": final})
                    elif written.strip() != answer.text.strip():
                        yield chunk({"content": CHECKED_NOTE + final})
                    else:
                        yield chunk({"content": final[len(answer.text) :]})
                    yield chunk({}, "stop", answer)
        except AssistantError as e:
            yield chunk({"content": f"\n\nCould not answer: {e}"}, "stop")
        yield "data: [DONE]\n\n"

    return StreamingResponse(sse(), media_type="text/event-stream")


@router.post("/v1/search")
def search(body: SearchRequest, assistant: Served) -> dict[str, Any]:
    hits = assistant.search(body.query, body.k, filters_of(body.filters))
    return {
        "object": "list",
        "data": [
            {
                "passage_id": h.passage.id,
                "article_id": h.article.id,
                "text": h.passage.text,
                "start": h.passage.start,
                "end": h.passage.end,
                "score": round(h.score, 4),
                "title": h.article.title,
                "source": h.article.source,
                "date": h.article.date,
                "url": h.article.url,
            }
            for h in hits
        ],
    }


@router.get("/v1/articles")
def articles(assistant: Served, q: str = "", offset: int = 0, limit: int = 20) -> dict[str, Any]:
    page = assistant.articles(q, offset, min(max(limit, 0), 500))
    return {"object": "list", "total": page.total, "data": [vars(r) for r in page.rows]}


SHOWN_FAILURES = 20  # a response lists this many failures and counts the rest
OBJECTS_PER_RECORD = 16  # JSON objects parsed per allowed record (a record's metadata may nest some)


class _TooManyObjects(Exception):
    pass


async def records(request: Request) -> list[dict[str, Any]]:
    """The records of a ``POST /v1/articles`` body, at most ``api.max_records`` of them. The parse
    stops as soon as the body has more JSON objects than that many records could hold, so a body
    of a million empty records costs no more than the limit's worth (it took gigabytes)."""
    limit = current(request).settings.api.max_records
    too_many = HTTPException(
        413, f"more than {limit:,} records in one request (setting api.max_records); send them in several requests"
    )
    objects = 0

    def count(obj: dict[str, Any]) -> dict[str, Any]:
        nonlocal objects
        objects += 1
        if objects > limit * OBJECTS_PER_RECORD + 1:
            raise _TooManyObjects
        return obj

    try:
        data = json.loads(await request.body(), object_hook=count)
    except _TooManyObjects:
        raise too_many from None
    except ValueError as e:
        raise HTTPException(400, f"the body is not JSON: {e}") from None
    articles = data.get("articles") if isinstance(data, dict) else None
    if not isinstance(articles, list) or not all(isinstance(r, dict) for r in articles):
        raise HTTPException(422, 'the body must be {"articles": [record, ...]} with each record a JSON object')
    if len(articles) > limit:
        raise too_many
    return articles


def _failures(failures: list[LoadFailure]) -> dict[str, Any]:
    """How many failed, and the first :data:`SHOWN_FAILURES` of them."""
    return {
        "failed": len(failures),
        "failures": [{"location": f.location, "reason": f.reason} for f in failures[:SHOWN_FAILURES]],
    }


ADD_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["articles"],
                "properties": {"articles": {"type": "array", "items": {"type": "object"}}},
            }
        }
    },
}


@router.post("/v1/articles", openapi_extra={"requestBody": ADD_BODY})
def add(body: Annotated[list[dict[str, Any]], Depends(records)], assistant: Served) -> dict[str, Any]:
    """Add records (``{"articles": [...]}``, see ``article_from_record``); at most ``api.max_records``."""
    items: list[Any] = []
    for i, record in enumerate(body):
        try:
            items.append(article_from_record(record))
        except AssistantError as e:
            items.append(LoadFailure(f"articles[{i}]", str(e)))
    report = assistant.add(items, wait=WRITE_WAIT_S)
    return {
        "added": report.added,
        "replaced": [list(r) for r in report.replaced],
        "merged": [list(m) for m in report.merged],
        "unchanged": report.unchanged,
        **_failures(report.failures),
        "passages": report.passages,
        "articles": assistant.info().articles,
    }


@router.delete("/v1/articles/{ref:path}")
def delete(ref: str, assistant: Served) -> dict[str, Any]:
    removed = assistant.remove([ref], wait=WRITE_WAIT_S)
    if not removed:
        raise HTTPException(404, f"no article {ref!r} in the index")
    return {"removed": removed}


def _refreshed(report: RefreshReport, assistant: Assistant) -> dict[str, Any]:
    return {
        "sources": [vars(s) for s in report.sources],
        "added": report.ingest.added,
        "replaced": [list(r) for r in report.ingest.replaced],
        "unchanged": report.ingest.unchanged,
        **_failures(report.ingest.failures),
        "requests": report.requests,
        "bytes": report.bytes,
        "articles": assistant.info().articles,
    }


@router.get("/v1/sources")
def list_sources(assistant: Served) -> dict[str, Any]:
    return {"object": "list", "data": [vars(r) for r in assistant.web.list()]}


@router.post("/v1/sources")
def add_sources(body: SourcesRequest, assistant: Served) -> dict[str, Any]:
    bad = [u for u in body.urls if not is_url(u) or len(u) > 2048]
    if bad or not body.urls:
        raise HTTPException(422, f"not http(s) URLs: {bad}" if bad else "no URL given")
    return _refreshed(assistant.web.add(body.urls), assistant)  # untrusted: the address guard applies


@router.post("/v1/sources/refresh")
def refresh_sources(body: SourcesRequest, assistant: Served) -> dict[str, Any]:
    return _refreshed(assistant.web.refresh(body.urls or None), assistant)


@router.delete("/v1/sources")
def delete_source(url: str, assistant: Served, articles: bool = False) -> dict[str, Any]:
    return {"removed": assistant.web.remove(url, articles=articles)}
