"""The gate in front of both HTTP servers' routes (the API's and the MCP server's):
:class:`RequestGate` checks the key, then the body's size, before any route or parser runs."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

from serving.hardening import Receive, Scope, Send, header, send_json


class RequestGate:
    """ASGI middleware in front of the HTTP API, in this order, before any route or parser runs:
    the bearer key (scheme in any case; every path, ``/openapi.json`` and ``/docs`` included, when a
    key is set), then the body's size: a ``Content-Length`` over ``limit(path)`` is refused at once,
    and a body without one (chunked) is read only up to the limit, then refused (413) without
    reading the rest. Refusals are JSON bodies made by ``error(message, kind)`` (the HTTP API's are
    in OpenAI's shape)."""

    def __init__(
        self,
        app: Any,
        key: str | None,
        limit: Callable[[str], int],
        error: Callable[[str, str], dict[str, Any]] = lambda message, kind: {
            "error": {"message": message, "type": kind}
        },
    ) -> None:
        self.app, self.key, self.limit = app, key, limit
        self.error = error or (lambda message, kind: {"error": {"message": message, "type": kind}})

    def authorized(self, scope: Scope) -> bool:
        if self.key is None:
            return True
        scheme, _, given = (header(scope, b"authorization") or "").strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.key.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.authorized(scope):
            message = "a valid bearer key is required (Authorization: Bearer …)"
            headers = [(b"www-authenticate", b"Bearer")]
            await send_json(send, 401, self.error(message, "authentication_error"), headers)
            return
        limit = self.limit(scope["path"])
        length = header(scope, b"content-length")
        too_big = self.error(f"the request body is over the limit of {limit:,} bytes", "invalid_request_error")
        if length is not None and (not length.strip().isdigit() or int(length) > limit):
            await send_json(send, 413 if length.strip().isdigit() else 400, too_big)
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            size += len(chunks[-1])
            if size > limit:
                await send_json(send, 413, too_big)
                return
            if not message.get("more_body", False):
                break
        body, replayed = b"".join(chunks), False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)
