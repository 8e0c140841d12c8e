"""What the servers (the web UI, the HTTP API, the MCP server) share before any route runs: refused unknown
``Host`` headers (no DNS rebinding), a Content-Security-Policy that lets a page load nothing from
elsewhere, the access key beyond loopback, and whole JSON answers sent without reading a request.
The gates: the browser's is the UI's own (:mod:`ui.browser_gate`), the key-and-size gate the API's
and the MCP server's (:mod:`serving.gate`); the server itself is :mod:`serving.server`."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")

# Scripts and styles inline: Gradio's page bootstraps that way. Everything else only from this origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; connect-src 'self'; "
    "frame-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def access_key(host: str, env: str, server: str, how: str) -> str | None:
    """The access key from the environment variable ``env``; None on loopback when it is unset.
    Beyond loopback a server without one would let anyone on the network in: ConfigurationError."""
    import os

    from assistant import ConfigurationError

    key = os.environ.get(env) or None
    if key is None and not is_loopback(host):
        raise ConfigurationError(
            f"{server} would listen on {host} with no key: set the environment variable {env} ({how}), "
            "or bind to 127.0.0.1"
        )
    return key


def allowed_hosts(bind: str, extra: Iterable[str] = ()) -> list[str]:
    """Host header names a server bound to ``bind`` answers: the loopback names, the bind address
    itself unless it is a wildcard, and ``extra`` (a setting)."""
    hosts = [*LOOPBACK_NAMES, *extra]
    if bind not in ("0.0.0.0", "::", ""):
        hosts.append(bind)
    return sorted(set(hosts))


class SecurityHeaders:
    """ASGI middleware: the CSP, no-sniff and no-referrer headers on every HTTP response (kept when
    a route set its own)."""

    ADDED = (
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                have = {bytes(k).lower() for k, _ in message.get("headers", ())}
                message["headers"] = [*message.get("headers", ()), *((k, v) for k, v in self.ADDED if k not in have)]
            await send(message)

        await self.app(scope, receive, with_headers)


def harden(app: Any, hosts: list[str]) -> None:
    """Refuse requests whose ``Host`` is not in ``hosts`` (400) and send the CSP and no-sniff
    headers with every response (any Starlette app: FastAPI's, Gradio's, the MCP SDK's)."""
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    app.add_middleware(SecurityHeaders)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


async def send_json(send: Send, status: int, body: dict[str, Any], headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    """A whole JSON response, sent without reading the request (its body stays unread)."""
    data = json.dumps(body).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
                (b"connection", b"close"),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})
