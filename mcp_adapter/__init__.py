"""The MCP server: the assistant's tools (ask, search, articles, sources, digest) for AI clients over
the Model Context Protocol (the official ``mcp`` SDK), on stdio or streamable HTTP. An adapter beside
``api/`` and ``ui/``: it uses the facade's public names only."""

from mcp_adapter.serve import run_stdio, serve_http
from mcp_adapter.tools import build_server

__all__ = ["build_server", "run_stdio", "serve_http"]
