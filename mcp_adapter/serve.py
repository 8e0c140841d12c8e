"""The MCP server's transports: stdio (what desktop AI clients start) and streamable HTTP on
loopback by default, with the HTTP API's rules: the access key required beyond loopback
(``mcp.api_key_env``… the API's ``api.api_key_env``), Host checks, body limits, slow clients cut off."""

from __future__ import annotations

import logging
import sys
from typing import Any

from assistant import Assistant
from mcp_adapter.tools import build_server
from serving.gate import RequestGate
from serving.hardening import access_key, allowed_hosts, harden
from serving.server import Server

PATH = "/mcp"


def run_stdio(assistant: Assistant) -> None:
    """Serve on stdin/stdout until the client closes them (logging goes to stderr, never stdout)."""
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    assistant.warm_up()
    build_server(assistant).run("stdio")


def http_app(assistant: Assistant, host: str, key: str | None) -> Any:
    """The streamable HTTP app: the gate (key, body size), Host checks and the SDK's own
    DNS-rebinding protection for the same host names."""
    from mcp.server.transport_security import TransportSecuritySettings

    settings = assistant.settings.api
    hosts = allowed_hosts(host, settings.allowed_hosts)
    security = TransportSecuritySettings(
        allowed_hosts=[f"{h}:*" for h in hosts] + hosts,
        allowed_origins=[f"http://{h}:*" for h in hosts],
    )
    app = build_server(assistant).streamable_http_app(
        streamable_http_path=PATH,
        json_response=True,
        transport_security=security,
        host=host,
        max_request_body_size=int(settings.max_request_kb * 1000),
    )
    app.add_middleware(RequestGate, key=key, limit=lambda _: int(settings.max_request_kb * 1000))
    harden(app, hosts)
    return app


def serve_http(assistant: Assistant, host: str | None = None, port: int | None = None, block: bool = True) -> Server:
    """Serve streamable HTTP at ``http://host:port/mcp`` (default: the API's host, port 8765).
    Beyond loopback it needs the key in ``api.api_key_env``, or it refuses to start."""
    settings = assistant.settings.api
    host = host or settings.host
    port = 8765 if port is None else port
    key = access_key(host, settings.api_key_env, "the MCP server", "clients then send it as a bearer key")
    assistant.warm_up()
    return Server(http_app(assistant, host, key), host, port).run(
        "MCP server (streamable HTTP)", block, PATH.lstrip("/")
    )
