"""What every HTTP server of the assistant shares: refused unknown ``Host`` headers (no DNS
rebinding), a Content-Security-Policy that lets a page load nothing from elsewhere, the gates that
run before any route reads a request (:class:`BrowserGate` for the web UI, :class:`RequestGate`
for the HTTP API), and a uvicorn server run in a thread that can be stopped."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
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


def harden(app: Any, hosts: list[str]) -> None:
    """Refuse requests whose ``Host`` is not in ``hosts`` (400) and send the CSP and no-sniff
    headers with every response."""
    from starlette.middleware.trustedhost import TrustedHostMiddleware

    @app.middleware("http")
    async def security_headers(request: Any, call_next: Any) -> Any:
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts)


def _header(scope: Scope, name: bytes) -> str | None:
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


class PageTokens:
    """Anti-CSRF tokens for the web page: each is a random nonce and its HMAC under a secret made
    when the server starts, so any token this server gave out checks without being stored, and no
    other page can make one."""

    HEADER = "x-assistant-token"

    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def new(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()}"

    def valid(self, token: str | None) -> bool:
        nonce, _, mac = (token or "").partition(".")
        expected = hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()
        return bool(nonce) and hmac.compare_digest(mac, expected)


TOKEN_PATH = "/assistant-token"

# Run in the page before Gradio's own scripts send anything: every same-origin request that changes
# state (not GET/HEAD) carries the page's token. The token comes from TOKEN_PATH, which a page of
# another origin can neither read (no CORS) nor even fetch (BrowserGate refuses it).
PAGE_TOKEN_SCRIPT = """<script>(() => {
  const header = "X-Assistant-Token", plain = window.fetch.bind(window);
  let token = null;
  const ready = plain("@TOKEN_PATH@", {credentials: "same-origin", cache: "no-store"})
    .then((r) => r.text()).then((t) => { token = t; return t; });
  const changes = (url, method) => new URL(url, location.href).origin === location.origin
    && !["GET", "HEAD"].includes((method || "GET").toUpperCase());
  window.fetch = async (input, init = {}) => {
    const url = input instanceof Request ? input.url : String(input);
    const method = init.method || (input instanceof Request ? input.method : "GET");
    if (!changes(url, method)) return plain(input, init);
    const headers = new Headers(init.headers || (input instanceof Request ? input.headers : undefined));
    headers.set(header, await ready);
    return plain(input, {...init, headers});
  };
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this._assistantChanges = changes(url, method);
    return open.call(this, method, url, ...rest);
  };
  XMLHttpRequest.prototype.send = function (body) {
    if (this._assistantChanges && token) this.setRequestHeader(header, token);
    return send.call(this, body);
  };
})();</script>""".replace("@TOKEN_PATH@", TOKEN_PATH)


class BrowserGate:
    """ASGI middleware in front of the web UI, so that no other web page can use it:

    - a request a browser marks as coming from another origin (``Origin`` other than this server's,
      ``Sec-Fetch-Site`` other than ``same-origin``/``none``; another port on 127.0.0.1 is another
      origin) gets 403 before anything reads it, preflights included, so no CORS header is ever
      sent (a page elsewhere can neither call nor read the UI's endpoints, private ones included);
      only following a link to the page itself (a top-level navigation) is let through;
    - a browser's request that changes state (not GET/HEAD/OPTIONS) must carry a page token
      (:class:`PageTokens`, header ``X-Assistant-Token``) that only this server's own page can get,
      from ``GET /assistant-token`` (anti-CSRF);
    - requests without those browser headers (scripts, ``gradio_client``, curl) are let through:
      they are programs on this machine, or beyond loopback must log in (see ``ui.app.launch``);
    - beyond loopback, the routes the web framework serves without its login (the page token, an
      event's cancel) need that login too (``logged_in``).
    """

    SAFE = ("GET", "HEAD", "OPTIONS")
    # routes the web framework answers without its login: beyond loopback they need it too
    LOGIN_ALSO = (TOKEN_PATH, "/gradio_api/cancel")

    def __init__(
        self, app: Any, tokens: PageTokens | None = None, logged_in: Callable[[Scope], bool] | None = None
    ) -> None:
        """``logged_in``: whether a request carries a login (None: no login, as on loopback)."""
        self.app = app
        self.tokens = tokens or PageTokens()
        self.logged_in = logged_in

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        site = _header(scope, b"sec-fetch-site")
        host = _header(scope, b"host") or ""
        browser = origin is not None or site is not None
        if origin is not None and origin.split("://", 1)[-1].lower() != host.lower():
            await self._refuse(scope, send, "requests from other web pages are refused")
            return
        # a link followed from elsewhere opens the page itself (a top-level GET of a document) and
        # nothing else: the page's own requests are then same-origin
        navigation = (
            scope["type"] == "http"
            and scope["method"] == "GET"
            and scope["path"] != TOKEN_PATH
            and _header(scope, b"sec-fetch-mode") == "navigate"
            and _header(scope, b"sec-fetch-dest") == "document"
        )
        if site is not None and site not in ("same-origin", "none") and not navigation:
            await self._refuse(scope, send, "requests from other web pages are refused")
            return
        path = scope.get("path", "").rstrip("/") or "/"
        if self.logged_in is not None and path in self.LOGIN_ALSO and not self.logged_in(scope):
            await send_json(send, 401, {"error": "log in first (the key is the password)"})
            return
        if scope["type"] == "http" and scope["path"] == TOKEN_PATH:
            token = self.tokens.new().encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [(b"content-type", b"text/plain"), (b"cache-control", b"no-store")],
                }
            )
            await send({"type": "http.response.body", "body": token})
            return
        changes = scope["type"] == "http" and scope["method"] not in self.SAFE
        if browser and changes and not self.tokens.valid(_header(scope, PageTokens.HEADER.encode())):
            await self._refuse(scope, send, "a request that changes something needs this server's page token")
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_json(send, 403, {"error": message})


def openai_error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """An error body in OpenAI's shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class RequestGate:
    """ASGI middleware in front of the HTTP API, in this order, before any route or parser runs:
    the bearer key (scheme in any case; every path, ``/openapi.json`` and ``/docs`` included, when a
    key is set), then the body's size: a ``Content-Length`` over ``limit(path)`` is refused at once,
    and a body without one (chunked) is read only up to the limit, then refused (413) without
    reading the rest. Refusals are JSON in OpenAI's error shape."""

    def __init__(self, app: Any, key: str | None, limit: Callable[[str], int]) -> None:
        self.app, self.key, self.limit = app, key, limit

    def authorized(self, scope: Scope) -> bool:
        if self.key is None:
            return True
        scheme, _, given = (_header(scope, b"authorization") or "").strip().partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.key.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.authorized(scope):
            message = "a valid bearer key is required (Authorization: Bearer …)"
            headers = [(b"www-authenticate", b"Bearer")]
            await send_json(send, 401, openai_error(message, "authentication_error"), headers)
            return
        limit = self.limit(scope["path"])
        length = _header(scope, b"content-length")
        too_big = openai_error(f"the request body is over the limit of {limit:,} bytes")
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
