"""The servers' HTTP layer: uvicorn in a background thread (``Server``), cutting off clients that
send their requests too slowly (``guarded_protocol``)."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

HEADER_TIMEOUT_S = 15.0  # a request's headers must be complete this long after the connection (or last response)
READ_TIMEOUT_S = 30.0  # a request's body must keep arriving: at most this long between two pieces


class Server:
    """A uvicorn server in a background thread: ``url``, ``close()``. Slow clients are cut off: see
    :func:`guarded_protocol`."""

    def __init__(
        self,
        app: Any,
        host: str,
        port: int,
        header_timeout: float = HEADER_TIMEOUT_S,
        read_timeout: float = READ_TIMEOUT_S,
    ) -> None:
        import uvicorn

        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="warning",
            lifespan="on",
            http=guarded_protocol(header_timeout, read_timeout),
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="http-server", daemon=True)
        self.host = host

    def start(self, timeout: float = 30.0) -> Server:
        self.check_port()
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server could not start on {self.host}:{self.config.port}")
            time.sleep(0.05)
        return self

    def check_port(self) -> None:
        """A port another program holds is one clear line, not uvicorn's traceback in a thread."""
        import socket

        from assistant import ConfigurationError

        if not self.config.port:
            return
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((self.host, self.config.port))
            except OSError:
                raise ConfigurationError(
                    f"port {self.config.port} on {self.host} is in use (another server?): choose another with --port"
                ) from None

    @property
    def port(self) -> int:
        sockets = [s for server in self.server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1]) if sockets else self.config.port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}/"

    def run(self, label: str, block: bool, path: str = "") -> Server:
        """Start; with ``block``, print where ``label`` is served and wait until Ctrl-C."""
        self.start()
        if block:
            print(f"{label} at {self.url}{path} (Ctrl-C stops it)")
            self.wait()
        return self

    def wait(self) -> None:
        try:
            while self.thread.is_alive():
                self.thread.join(0.5)
        except KeyboardInterrupt:
            self.close()

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def guarded_protocol(header_timeout: float, read_timeout: float) -> type:
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete within
    ``header_timeout`` seconds (of its start, or of the response before) or whose body stops
    arriving for ``read_timeout`` seconds: 1,000 idle connections held the servers for as long as
    their clients liked (a slow-loris)."""
    import h11
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class Guarded(H11Protocol):
        _headers: asyncio.TimerHandle | None = None
        _body: asyncio.TimerHandle | None = None

        def _cut(self) -> None:
            self._headers = self._body = None
            if not self.transport.is_closing():
                self.transport.close()

        def _wait_for_headers(self) -> None:
            if self._headers is not None:
                self._headers.cancel()
            self._headers = self.loop.call_later(header_timeout, self._cut)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._wait_for_headers()

        def handle_events(self) -> None:
            super().handle_events()
            state = self.conn.their_state
            if state is not h11.IDLE and self._headers is not None:  # the headers are in
                self._headers.cancel()
                self._headers = None
            if self._body is not None:
                self._body.cancel()
                self._body = None
            if state is h11.SEND_BODY:  # more of the body must come, and soon
                self._body = self.loop.call_later(read_timeout, self._cut)

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._wait_for_headers()

        def connection_lost(self, exc: Exception | None) -> None:
            for timer in (self._headers, self._body):
                if timer is not None:
                    timer.cancel()
            self._headers = self._body = None
            super().connection_lost(exc)

    return Guarded
