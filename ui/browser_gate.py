"""The web UI's gate, in front of every request (see :class:`BrowserGate`): no other web page can
call the UI, and a request that changes something carries this server's page token."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from serving.hardening import Receive, Scope, Send, header, send_json


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
        origin = header(scope, b"origin")
        site = header(scope, b"sec-fetch-site")
        host = header(scope, b"host") or ""
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
            and header(scope, b"sec-fetch-mode") == "navigate"
            and header(scope, b"sec-fetch-dest") == "document"
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
        if browser and changes and not self.tokens.valid(header(scope, PageTokens.HEADER.encode())):
            await self._refuse(scope, send, "a request that changes something needs this server's page token")
            return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, message: str) -> None:
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send_json(send, 403, {"error": message})
