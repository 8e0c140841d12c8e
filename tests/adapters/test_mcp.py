"""The MCP server (issue 37) through the official ``mcp`` client: over stdio (`assistant mcp`, a real
process) the tools are listed with their schemas, the seed question is answered over the sample
articles with a verified, cited answer naming New York, search and the article resources work, and a
bad argument is a clean tool error; over streamable HTTP the key is enforced and Host is checked, and
beyond loopback the server will not start without a key."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from assistant import Assistant, ConfigurationError
from tests.helpers.servers import free_port

pytestmark = pytest.mark.e2e
BIN = Path(sys.executable).parent
KEY = "mcp-key-7"
TOOLS = {"ask", "search", "get_article", "list_articles", "list_sources", "add_source", "digest"}


def run(coroutine: Any) -> Any:
    """Run the client in a thread of its own: the browser tests' Playwright keeps an event loop
    running in the main thread for the whole session."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def test_over_stdio_an_ai_client_asks_searches_and_reads_articles(sample_bot: Assistant) -> None:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=str(BIN / "assistant"), args=["mcp", "--index", str(sample_bot.index.directory)]
    )

    async def session() -> dict[str, Any]:
        async with Client(params, read_timeout_seconds=120) as client:
            tools = {t.name: t for t in (await client.list_tools()).tools}
            answer = await client.call_tool("ask", {"question": "What channels did the US use?", "as_of": "2021-03-20"})
            found = await client.call_tool("search", {"query": "wildfire Pine Ridge", "k": 2})
            bad = await client.call_tool("search", {"query": "wildfire", "k": 0})
            missing = await client.call_tool("get_article", {"id": "no-such-article"})
            article_id = answer.structured_content["citations"][0]["article_id"]
            resource = await client.read_resource(f"article://{article_id}")
            listed = await client.call_tool("list_sources", {})
            assert not listed.is_error and listed.structured_content == {"sources": []}
            page = await client.call_tool("list_articles", {"page_size": 3})
            assert page.structured_content["total"] == 8 and len(page.structured_content["articles"]) == 3
            return {
                "tools": tools,
                "answer": answer,
                "found": found,
                "bad": bad,
                "missing": missing,
                "resource": resource,
            }

    out = run(session())
    assert TOOLS <= set(out["tools"])
    schema = out["tools"]["ask"].input_schema
    assert schema["required"] == ["question"] and "as_of" in schema["properties"]
    assert out["tools"]["ask"].output_schema["properties"]["citations"]
    answer = out["answer"].structured_content
    assert not out["answer"].is_error and answer["answered"]
    assert "New York" in answer["text"] and all(s["verified"] for s in answer["sentences"])
    cited = answer["citations"][0]
    assert cited["sentence"] and cited["sentence"] in cited["passage"] and cited["date"] == "2021-03-16"
    assert [p["title"] for p in out["found"].structured_content["passages"]][0].startswith("Thousands evacuated")
    for bad in (out["bad"], out["missing"]):  # one line, no traceback
        assert bad.is_error
        message = bad.content[0].text
        assert "Traceback" not in message and len(message.splitlines()) == 1, message
    assert out["bad"].content[0].text == "invalid arguments for search: k: Input should be greater than or equal to 1"
    assert "no article 'no-such-article'" in out["missing"].content[0].text
    assert "New York" in out["resource"].contents[0].text


@pytest.fixture(scope="module")
def mcp_http(sample_bot: Assistant) -> Iterator[str]:
    from mcp_adapter.serve import PATH, http_app
    from serving.server import Server

    server = Server(http_app(sample_bot, "127.0.0.1", KEY), "127.0.0.1", free_port()).start()
    try:
        yield f"{server.url.rstrip('/')}{PATH}"
    finally:
        server.close()


def test_over_http_the_key_is_required_and_the_host_checked(mcp_http: str) -> None:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    assert httpx.post(mcp_http, json=hello, headers=headers).status_code == 401
    wrong = httpx.post(mcp_http, json=hello, headers={**headers, "Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    rebinding = httpx.post(
        mcp_http, json=hello, headers={**headers, "Authorization": f"Bearer {KEY}", "Host": "evil.example"}
    )
    assert rebinding.status_code in (400, 421)

    keyed = {**headers, "Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    too_big = httpx.post(mcp_http, content=b"x" * 2_000_000, headers=keyed)
    assert too_big.status_code == 413  # the size is checked before anything is parsed

    async def session() -> Any:
        http = create_mcp_http_client(headers={"Authorization": f"Bearer {KEY}"})
        async with Client(streamable_http_client(mcp_http, http_client=http), read_timeout_seconds=120) as client:
            return await client.call_tool("ask", {"question": "How many homes has the Pine Ridge wildfire destroyed?"})

    answer = run(session()).structured_content
    assert answer["answered"] and answer["citations"][0]["title"].startswith("Thousands evacuated")


def test_beyond_loopback_the_http_server_needs_a_key(sample_bot: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
    from mcp_adapter import serve_http

    monkeypatch.delenv(sample_bot.settings.api.api_key_env, raising=False)
    with pytest.raises(ConfigurationError, match="MCP server would listen on 0.0.0.0 with no key"):
        serve_http(sample_bot, "0.0.0.0", free_port(), block=False)
