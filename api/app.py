"""The API's FastAPI app: its routes, its limits and key, its error replies, and its server."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import conversations, routes, stories
from api.http import openai_error
from assistant import (
    Assistant,
    AssistantError,
)
from serving.gate import RequestGate
from serving.hardening import access_key, allowed_hosts, harden
from serving.server import Server


def _error(status: int, message: str, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse(openai_error(message, kind), status)


async def _http_error(request: Request, e: StarletteHTTPException) -> JSONResponse:
    return _error(e.status_code, str(e.detail))


async def _invalid_request(request: Request, e: RequestValidationError) -> JSONResponse:
    problems = [
        f"{'.'.join(str(x) for x in p.get('loc', ()) if x != 'body') or 'body'}: {p.get('msg', '')}"
        for p in e.errors()[:5]
    ]
    return _error(400, "invalid request: " + "; ".join(problems))


async def _assistant_error(request: Request, e: AssistantError) -> JSONResponse:
    status = e.http_status  # each error class says its status (index/errors.py draws the tree)
    return _error(status, str(e), "invalid_request_error" if status < 500 and status != 409 else "assistant_error")


async def _internal_error(request: Request, e: Exception) -> JSONResponse:
    return _error(500, f"internal error ({type(e).__name__})", "server_error")


def create_api(assistant: Assistant, api_key: str | None = None) -> Any:
    """The FastAPI app over ``assistant``. ``api_key``: the bearer key clients must send (None: no
    key needed). Bodies are limited by the ``api`` settings before they are read."""
    settings = assistant.settings.api
    app = FastAPI(title="News assistant API", version="1", docs_url=None, redoc_url=None)
    app.state.assistant = assistant
    upload_limit, request_limit = int(settings.max_upload_mb * 1_000_000), int(settings.max_request_kb * 1000)
    app.add_middleware(
        RequestGate,
        key=api_key,
        limit=lambda path: upload_limit if path == "/v1/articles" else request_limit,
        error=openai_error,
    )
    app.add_exception_handler(StarletteHTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _invalid_request)  # type: ignore[arg-type]
    app.add_exception_handler(AssistantError, _assistant_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _internal_error)
    app.include_router(conversations.router)
    app.include_router(routes.router)
    app.include_router(stories.router)
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
    harden(app, allowed_hosts(host, settings.allowed_hosts))
    return Server(app, host, port).run("News assistant API", block, "v1")
