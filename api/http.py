"""The HTTP API's errors in OpenAI's shape (its gate, the key then the body's size, is
:class:`serving.gate.RequestGate`, shared with the MCP server)."""

from __future__ import annotations

from typing import Any


def openai_error(message: str, kind: str = "invalid_request_error") -> dict[str, Any]:
    """An error body in OpenAI's shape."""
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}
