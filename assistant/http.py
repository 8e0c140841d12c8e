"""What every HTTP server of the assistant shares: refused unknown ``Host`` headers (no DNS
rebinding), a Content-Security-Policy that lets a page load nothing from elsewhere, and a uvicorn
server run in a thread that can be stopped."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Iterable
from typing import Any

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


class Server:
    """A uvicorn server in a background thread: ``url``, ``close()``."""

    def __init__(self, app: Any, host: str, port: int) -> None:
        import uvicorn

        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="http-server", daemon=True)
        self.host = host

    def start(self, timeout: float = 30.0) -> Server:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server could not start on {self.host}:{self.config.port}")
            time.sleep(0.05)
        return self

    @property
    def port(self) -> int:
        sockets = [s for server in self.server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1]) if sockets else self.config.port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    def wait(self) -> None:
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            self.close()

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
