"""The HTTP API checks the key, then the body's size, before it reads or parses anything: big and
chunked bodies are refused without the server's memory growing; errors are OpenAI-shaped for every
status; the schema is behind the key; the bearer scheme is matched in any case."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from tests.helpers.servers import free_port

pytestmark = pytest.mark.e2e
KEY = "limits-key-9"
UPLOAD_MB = 5  # api.max_upload_mb for this server: /v1/articles bodies
MB = 1_000_000


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, seed_path: Path) -> Iterator[tuple[int, subprocess.Popen, Assistant]]:
    """``assistant api`` in its own process (so its memory is its own), over the seed article."""
    directory = tmp_path_factory.mktemp("limits") / "index"
    bot = Assistant.build([seed_path], directory)
    port = free_port()
    env = {**os.environ, "ASSISTANT_API_KEY": KEY, "ASSISTANT_API__MAX_UPLOAD_MB": str(UPLOAD_MB)}
    command = ["api", "--index", str(directory), "--port", str(port)]
    proc = subprocess.Popen(
        [sys.executable, "-c", "from assistant.cli import main; main()", *command], env=env, stderr=subprocess.PIPE
    )
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else "the API exited"
        assert time.monotonic() < deadline, "the API did not start"
        try:
            with urllib.request.urlopen(
                urllib.request.Request(
                    f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {KEY}"}
                ),
                timeout=5,
            ):
                break
        except OSError:
            time.sleep(0.2)
    try:
        yield port, proc, bot
    finally:
        proc.terminate()
        proc.wait(10)


def push(port: int, path: str, megabytes: int, headers: str = "", chunked: bool = True) -> tuple[int, int]:
    """Send a POST with a body of ``megabytes`` MB (chunked, or with a true Content-Length), stopping
    as soon as the server answers; (status, bytes of body sent)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {megabytes * MB}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"{headers}{framing}\r\n\r\n"
    )
    sock.sendall(head.encode())
    block, sent, answer = b"x" * MB, 0, b""
    try:
        for _ in range(megabytes):
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block)
            sent += len(block)
        else:
            sock.sendall(b"0\r\n\r\n" if chunked else b"")
    except (BrokenPipeError, ConnectionResetError):
        pass
    try:
        answer = sock.recv(65536)
    except ConnectionResetError:
        pass
    sock.close()
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split()[1]), sent


def call(port: int, method: str, path: str, body: Any = None, auth: str | None = f"Bearer {KEY}") -> tuple[int, Any]:
    headers = {"Content-Type": "application/json", **({"Authorization": auth} if auth else {})}
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=60) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_an_unauthenticated_huge_body_is_refused_before_it_is_read(api: Any) -> None:
    port, proc, _ = api
    before = peak_rss_mb(proc.pid)
    status, sent = push(port, "/v1/articles", 400)
    assert status == 401 and sent < 400 * MB, "answered before the body was read"
    status, sent = push(port, "/v1/articles", 400, chunked=False)
    assert status == 401 and sent < 400 * MB
    assert peak_rss_mb(proc.pid) - before < 50, "the body was never held"


def test_a_chunked_body_over_the_limit_is_refused_at_the_limit(api: Any) -> None:
    port, proc, bot = api
    before, articles = peak_rss_mb(proc.pid), bot.info().articles
    status, sent = push(port, "/v1/articles", 200, f"Authorization: Bearer {KEY}\r\n")
    assert status == 413 and sent < 200 * MB
    status, sent = push(port, "/v1/articles", 200, f"Authorization: bearer {KEY}\r\n", chunked=False)
    assert status == 413 and sent < 200 * MB, "a declared length over the limit is refused at once"
    for path in ("/v1/chat/completions", "/v1/search"):  # these have a limit too (api.max_request_kb)
        assert push(port, path, 50, f"Authorization: Bearer {KEY}\r\n")[0] == 413
    assert peak_rss_mb(proc.pid) - before < 3 * UPLOAD_MB + 30
    assert bot.info().articles == articles


def test_errors_are_openai_shaped_the_schema_needs_the_key_and_long_questions_are_refused(api: Any) -> None:
    port, _, _ = api
    status, body = call(port, "POST", "/v1/chat/completions", {"model": "extractive"})  # no messages
    assert status == 400 and "messages" in body["error"]["message"] and body["error"]["type"]
    status, body = call(port, "POST", "/v1/search", b"{not json")
    assert status == 400 and "error" in body
    assert call(port, "GET", "/v1/nowhere")[1]["error"]["message"]
    assert call(port, "GET", "/openapi.json", auth=None)[0] == 401
    assert call(port, "GET", "/openapi.json", auth=f"bearer {KEY}")[0] == 200, "the scheme in any case"
    assert call(port, "GET", "/v1/models", auth=f"BEARER  {KEY}")[0] == 200
    status, body = call(port, "GET", "/v1/models", auth=f"Basic {KEY}")
    assert status == 401 and body["error"]["type"] == "authentication_error"
    question = "What channels did the US use? " * 20_000  # 600 KB: under the body limit, over the question limit
    started = time.monotonic()
    status, body = call(
        port,
        "POST",
        "/v1/chat/completions",
        {"model": "extractive", "messages": [{"role": "user", "content": question}]},
    )
    assert status == 400 and "answer.max_question_chars" in body["error"]["message"]
    assert time.monotonic() - started < 5, "refused at once, not after searching"
    status, body = call(port, "POST", "/v1/search", {"query": question})
    assert status == 400 and "answer.max_question_chars" in body["error"]["message"]


def test_records_without_ids_never_replace_each_other(api: Any) -> None:
    port, _, bot = api
    first = {"title": "Ferry", "text": "The harbour council approved a new ferry on Monday."}
    second = {"title": "Bakery", "text": "The old bakery on the square reopened on Tuesday."}
    one = call(port, "POST", "/v1/articles", {"articles": [first]})[1]
    two = call(port, "POST", "/v1/articles", {"articles": [second]})[1]
    assert len(one["added"]) == 1 and len(two["added"]) == 1 and two["replaced"] == []
    again = call(port, "POST", "/v1/articles", {"articles": [first]})[1]
    assert again["added"] == [] and len(again["unchanged"]) == 1, "the same record again changes nothing"
    listed = call(port, "GET", "/v1/articles?q=")[1]
    titles = {row["title"] for row in listed["data"]}
    assert {"Ferry", "Bakery"} <= titles


def test_a_body_of_a_million_empty_records_is_refused_cheaply(api: Any) -> None:
    """4.8 MB of ``{}`` records raised peak RSS by 1.2 GB and sent back a 173 MB response; now the
    parse stops at the record limit, and failures come back as a count plus the first few."""
    port, proc, bot = api
    before, articles = peak_rss_mb(proc.pid), bot.info().articles
    body = b'{"articles": [' + b",".join([b"{}"] * 1_600_000) + b"]}"
    status, answer = call(port, "POST", "/v1/articles", body)
    assert status == 413 and "api.max_records" in answer["error"]["message"]
    assert peak_rss_mb(proc.pid) - before < 3 * UPLOAD_MB + 30
    status, answer = call(port, "POST", "/v1/articles", {"articles": [{}] * 100})
    assert status == 200 and answer["failed"] == 100 and len(answer["failures"]) == 20
    assert call(port, "POST", "/v1/articles", {"articles": "no"})[0] == 422
    assert bot.info().articles == articles


def test_slow_clients_are_cut_off_and_others_still_answered() -> None:
    """Connections that never finished their headers (or their body) were held open as long as the
    client liked: 1,000 kept for 40 s."""
    from serving.server import Server

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]})
        await send({"type": "http.response.body", "body": b"ok"})

    server = Server(app, "127.0.0.1", free_port(), header_timeout=1.0, read_timeout=1.0).start()
    try:
        slow_headers = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        slow_headers.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
        slow_body = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        slow_body.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n0123456789")
        idle = socket.create_connection(("127.0.0.1", server.port), timeout=10)  # says nothing at all
        started = time.monotonic()
        with urllib.request.urlopen(server.url, timeout=10) as r:
            assert r.read() == b"ok", "others are answered meanwhile"
        for sock in (slow_headers, slow_body, idle):
            assert sock.recv(100) == b"", "the server closed it"
            sock.close()
        assert time.monotonic() - started < 5
    finally:
        server.close()
