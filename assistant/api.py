"""An OpenAI-compatible HTTP API over an :class:`Assistant` (FastAPI; ``assistant api``).

``POST /v1/chat/completions``
    OpenAI's chat request: the last user message is the question, earlier user/assistant turns
    are the conversation, ``model`` picks an engine of ``GET /v1/models``. The reply's message is
    the checked answer with its ``[n]`` markers and a numbered source list (so any chat front end
    shows them). The extra field ``news_assistant`` holds the whole :class:`Answer`: citations
    (passage, offsets, title, source, date, url), each sentence with its support and whether it is
    verified, the related passages of a refusal, the searched query and timings. With
    ``"stream": true`` the reply comes as server-sent ``chat.completion.chunk`` events: the
    engine's words as it writes them, then, if checking changed them, the checked answer after a
    line "Checked against the articles:", then a last chunk with ``finish_reason`` and
    ``news_assistant``, then ``data: [DONE]``. An optional ``filters`` field (sources, since,
    until, article_ids) limits the articles searched.
``GET /v1/models``: the engines this assistant answers with.
``/v1/conversations``: saved conversations (:mod:`assistant.api_conversations`).
``POST /v1/search``: passages for ``{"query", "k", "filters"}``, best first.
``GET /v1/articles?q=&offset=&limit=``, ``POST /v1/articles`` (``{"articles": [records]}``, the
    JSON fields ``assistant ingest`` reads), ``DELETE /v1/articles/{id}``: the collection. A write
    waits up to 30 s while another process writes to the index, then answers 409.

A bearer key (``Authorization: Bearer …``) from the environment variable named by
``api.api_key_env`` is required when it is set, and the API refuses to bind beyond loopback
without one. Unknown ``Host`` headers are refused as in the web UI (:mod:`assistant.http`).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.answering.answer import Answer
from assistant.answering.pipeline import Finished, Token
from assistant.api_conversations import conversation_routes
from assistant.conversations import ConversationNotFoundError
from assistant.core import Assistant
from assistant.http import RequestGate, Server, access_key, allowed_hosts, harden, openai_error
from index import (
    AssistantError,
    ConfigurationError,
    Filters,
    IndexBusyError,
    InvalidRequestError,
    LoadFailure,
    article_from_record,
)

EXTRA_FIELD = "news_assistant"
CHECKED_NOTE = "\n\nChecked against the articles:\n"
WRITE_WAIT_S = 30.0  # a write waits this long for another writer (an ingest), then answers 409


class FilterBody(BaseModel):
    sources: list[str] = Field(default_factory=list)
    since: str | None = None
    until: str | None = None
    article_ids: list[str] = Field(default_factory=list)
    as_of: str | None = Field(None, description="Ask as of this day (YYYY-MM-DD; default today).")

    def filters(self) -> Filters:
        return Filters(tuple(self.sources), self.since, self.until, tuple(self.article_ids), self.as_of)


class ChatMessage(BaseModel):
    role: str
    content: str | list[dict[str, Any]] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return " ".join(str(p.get("text", "")) for p in self.content if p.get("type") == "text").strip()
        return self.content or ""


class ChatRequest(BaseModel):
    model: str
    messages: list[ChatMessage]
    stream: bool = False
    filters: FilterBody | None = None


class SearchRequest(BaseModel):
    query: str
    k: int = Field(5, ge=1, le=50)
    filters: FilterBody | None = None


class AddRequest(BaseModel):
    articles: list[dict[str, Any]]


def with_sources(answer: Answer) -> str:
    """The answer text and a numbered list of its sources, as a chat front end shows it."""
    lines = [answer.text]
    if answer.citations:
        lines.append("\nSources:")
        lines += [f"[{c.marker}] {' · '.join(x for x in (c.title, c.source, c.date) if x)}" for c in answer.citations]
    return "\n".join(lines)


def conversation(messages: list[ChatMessage]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last user message) and the earlier (question, answer) turns."""
    turns: list[tuple[str, str]] = []
    pending: str | None = None
    for m in messages[:-1]:
        if m.role == "user":
            pending = m.text()
        elif m.role == "assistant" and pending is not None:
            turns.append((pending, m.text().split("\n\nSources:")[0]))
            pending = None
    return messages[-1].text(), turns


def create_api(assistant: Assistant, api_key: str | None = None) -> Any:
    """The FastAPI app. ``api_key``: the bearer key clients must send (None: no key needed)."""
    app = FastAPI(title="News assistant API", version="1", docs_url=None, redoc_url=None)
    upload_limit = int(assistant.settings.ui.max_upload_mb * 1_000_000)
    request_limit = int(assistant.settings.api.max_request_kb * 1000)
    app.add_middleware(
        RequestGate, key=api_key, limit=lambda path: upload_limit if path == "/v1/articles" else request_limit
    )

    def error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
        return JSONResponse(openai_error(message, kind), status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
        return error(e.status_code, str(e.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, e: RequestValidationError) -> JSONResponse:
        problems = [
            f"{'.'.join(str(x) for x in p.get('loc', ()) if x != 'body') or 'body'}: {p.get('msg', '')}"
            for p in e.errors()[:5]
        ]
        return error(400, "invalid request: " + "; ".join(problems))

    @app.exception_handler(AssistantError)
    async def assistant_error(request: Request, e: AssistantError) -> JSONResponse:
        if isinstance(e, InvalidRequestError | ConfigurationError):
            return error(400, str(e))
        if isinstance(e, ConversationNotFoundError):
            return error(404, str(e))
        return error(409 if isinstance(e, IndexBusyError) else 503, str(e), "assistant_error")

    @app.exception_handler(Exception)
    async def internal_error(request: Request, e: Exception) -> JSONResponse:
        return error(500, f"internal error ({type(e).__name__})", "server_error")

    app.include_router(conversation_routes(assistant, lambda data: FilterBody.model_validate(data).filters()))

    @app.get("/v1/models")
    def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {"id": e, "object": "model", "created": 0, "owned_by": "news-assistant"} for e in assistant.engines
            ],
        }

    @app.post("/v1/chat/completions", response_model=None)
    def chat(body: ChatRequest) -> Any:
        if not body.messages or body.messages[-1].role != "user":
            raise HTTPException(400, "the last message must be the user's question")
        if body.model not in assistant.engines:
            raise HTTPException(404, f"model {body.model!r} is not served here; choose one of {assistant.engines}")
        question, history = conversation(body.messages)
        filters = body.filters.filters() if body.filters else None
        ident, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
        events = assistant.stream(question, history, filters, engine=body.model)
        if not body.stream:
            answer = next(e.answer for e in events if isinstance(e, Finished))
            return {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": body.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": with_sources(answer)},
                        "finish_reason": "stop",
                    }
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

    @app.post("/v1/search")
    def search(body: SearchRequest) -> dict[str, Any]:
        hits = assistant.search(body.query, body.k, body.filters.filters() if body.filters else None)
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

    @app.get("/v1/articles")
    def articles(q: str = "", offset: int = 0, limit: int = 20) -> dict[str, Any]:
        page = assistant.articles(q, offset, min(max(limit, 0), 500))
        return {"object": "list", "total": page.total, "data": [vars(r) for r in page.rows]}

    @app.post("/v1/articles")
    def add(body: AddRequest) -> dict[str, Any]:
        items: list[Any] = []
        for i, record in enumerate(body.articles):
            try:
                items.append(article_from_record(record))
            except AssistantError as e:
                items.append(LoadFailure(f"articles[{i}]", str(e)))
        report = assistant.add(items, wait=WRITE_WAIT_S)
        return {
            "added": report.added,
            "replaced": [list(r) for r in report.replaced],
            "unchanged": report.unchanged,
            "failures": [{"location": f.location, "reason": f.reason} for f in report.failures],
            "passages": report.passages,
            "articles": assistant.info().articles,
        }

    @app.delete("/v1/articles/{ref:path}")
    def delete(ref: str) -> dict[str, Any]:
        removed = assistant.remove([ref], wait=WRITE_WAIT_S)
        if not removed:
            raise HTTPException(404, f"no article {ref!r} in the index")
        return {"removed": removed}

    return app


def serve_api(assistant: Assistant, host: str | None = None, port: int | None = None, block: bool = True) -> Server:
    """Run the API on ``host:port`` (default: the ``api`` settings). Beyond loopback it needs the
    bearer key in the environment variable ``api.api_key_env``, or it refuses to start."""
    settings = assistant.settings.api
    host = host or settings.host
    port = settings.port if port is None else port
    key = access_key(host, settings.api_key_env, "the API", "clients then send it as a bearer key")
    assistant.warm_up()  # the first client does not wait for the models to load
    app = create_api(assistant, key)
    harden(app, allowed_hosts(host, assistant.settings.ui.allowed_hosts))
    server = Server(app, host, port).start()
    if block:
        print(f"News assistant API at {server.url}v1 (Ctrl-C stops it)")
        server.wait()
    return server
