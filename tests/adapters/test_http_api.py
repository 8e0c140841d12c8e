"""The OpenAI-compatible HTTP API, driven by the official ``openai`` client against the real server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, ConfigurationError
from tests.helpers.servers import free_port

pytestmark = pytest.mark.e2e
KEY = "test-key-123"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, seed_path: Path) -> Iterator[tuple[str, Assistant]]:
    from api import create_api
    from serving.hardening import allowed_hosts, harden
    from serving.server import Server

    bot = Assistant.build([seed_path], tmp_path_factory.mktemp("api") / "index")
    app = create_api(bot, api_key=KEY)
    harden(app, allowed_hosts("127.0.0.1"))
    server = Server(app, "127.0.0.1", free_port()).start()
    try:
        yield f"{server.url}v1", bot
    finally:
        server.close()


def request(url: str, method: str, path: str, body: Any = None) -> Any:
    """A JSON request with the key; the decoded reply (an HTTP error raises urllib's HTTPError)."""
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url + path, data, headers, method=method), timeout=60) as r:
        return json.loads(r.read())


def client(url: str, key: str = KEY) -> Any:
    from openai import OpenAI

    return OpenAI(base_url=url, api_key=key, max_retries=0, timeout=120)


def test_chat_completion_answers_with_citations(api: Any) -> None:
    url, _ = api
    reply = client(url).chat.completions.create(
        model="extractive", messages=[{"role": "user", "content": "What channels did the US use?"}]
    )
    content = reply.choices[0].message.content or ""
    assert "New York" in content and "[1]" in content and "Sources:" in content
    extra = reply.model_extra["news_assistant"]  # type: ignore[index]
    assert extra["answered"] and extra["citations"][0]["passage"] and extra["sentences"][0]["verified"]
    assert [m.id for m in client(url).models.list().data] == ["extractive"]


def test_streaming_chat_sends_chunks_and_the_answer_last(api: Any) -> None:
    url, _ = api
    stream = client(url).chat.completions.create(
        model="extractive",
        messages=[
            {"role": "user", "content": "What channels did the US use?"},
            {"role": "assistant", "content": "Through New York. [1]"},
            {"role": "user", "content": "And who said so?"},
        ],
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop" and text.strip()
    assert "news_assistant" in (chunks[-1].model_extra or {})


def test_errors_are_openai_shaped_and_a_key_is_required(api: Any) -> None:
    import openai

    url, _ = api
    with pytest.raises(openai.AuthenticationError):
        client(url, "wrong").models.list()
    with pytest.raises(openai.NotFoundError, match="choose one of"):
        client(url).chat.completions.create(model="gpt-9", messages=[{"role": "user", "content": "Hi?"}])


def test_search_and_the_article_collection(api: Any) -> None:
    url, bot = api

    def call(method: str, path: str, body: Any = None) -> Any:
        return request(url, method, path, body)

    found = call("POST", "/search", {"query": "channels New York", "k": 2})
    assert len(found["data"]) >= 1 and "New York" in " ".join(h["text"] for h in found["data"])
    record = {"id": "ferry-1", "title": "Ferry", "text": "The harbour council approved a new ferry on Monday."}
    added = call("POST", "/articles", {"articles": [record, {"title": "no text"}]})
    assert len(added["added"]) == 1 and added["failures"][0]["location"] == "articles[1]"
    listed = call("GET", "/articles?q=ferry")
    assert listed["total"] == 1 and listed["data"][0]["title"] == "Ferry" and listed["data"][0]["passages"] == 1
    assert call("DELETE", "/articles/ferry-1")["removed"] == [added["added"][0]]
    assert bot.index.article("ferry-1") is None
    with pytest.raises(urllib.error.HTTPError) as missing:
        call("DELETE", "/articles/ferry-1")
    assert missing.value.code == 404


def test_the_api_will_not_listen_beyond_loopback_without_a_key(seed_bot: Assistant, monkeypatch: Any) -> None:
    from api import serve_api

    monkeypatch.delenv("ASSISTANT_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="ASSISTANT_API_KEY"):
        serve_api(seed_bot, host="0.0.0.0", port=free_port(), block=False)


def test_a_write_while_another_process_writes_is_a_409(api: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from api import routes
    from index.disk.writelock import WriteLock

    url, bot = api
    monkeypatch.setattr(routes, "WRITE_WAIT_S", 0.5)
    record = {"id": "late-1", "title": "Late", "text": "The late ferry left the harbour at midnight."}
    request = urllib.request.Request(
        url + "/articles",
        json.dumps({"articles": [record]}).encode(),
        {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        method="POST",
    )
    with WriteLock(bot.index.directory), pytest.raises(urllib.error.HTTPError) as busy:  # held as an ingest would
        urllib.request.urlopen(request, timeout=60)
    assert busy.value.code == 409 and "being written by" in json.loads(busy.value.read())["error"]["message"]
    assert bot.index.article("late-1") is None


def test_a_typed_question_carries_its_short_answer_and_a_bad_as_of_is_a_400(api: Any) -> None:
    import openai

    url, _ = api
    question = "Since when has the US tried to contact the North Korean government?"
    reply = client(url).chat.completions.create(model="extractive", messages=[{"role": "user", "content": question}])
    short = reply.model_extra["news_assistant"]["short"]  # type: ignore[index]
    assert short["text"] == "mid-February" and short["label"] == "DATE" and short["marker"] == 1
    with pytest.raises(openai.BadRequestError, match="YYYY-MM-DD"):
        client(url).chat.completions.create(
            model="extractive",
            messages=[{"role": "user", "content": question}],
            extra_body={"filters": {"as_of": "next week"}},
        )


def test_conversations_are_saved_asked_rated_and_deleted_over_http(api: Any) -> None:
    url, bot = api

    def call(method: str, path: str, body: Any = None) -> Any:
        return request(url, method, path, body)

    chat = call("POST", "/conversations", {})
    first = call("POST", f"/conversations/{chat['id']}/messages", {"question": "What channels did the US use?"})
    assert first["position"] == 0 and "New York" in first["answer"]["text"]
    follow = call("POST", f"/conversations/{chat['id']}/messages", {"question": "And since when?"})
    assert follow["position"] == 1 and follow["answer"]["query"] != "And since when?"  # asked with the history
    call("PUT", f"/conversations/{chat['id']}/turns/0/rating", {"rating": 1, "comment": "right"})
    call("PATCH", f"/conversations/{chat['id']}", {"title": "US channels"})
    saved = call("GET", f"/conversations/{chat['id']}")
    assert saved["title"] == "US channels" and [t["rating"] for t in saved["turns"]] == [1, None]
    assert saved["turns"][0]["answer"] == first["answer"]  # citations and all, as answered
    assert [c["id"] for c in call("GET", "/conversations")["data"]][0] == chat["id"]
    assert bot.conversations.get(chat["id"]).turns[0].comment == "right"  # the Python API sees the same store
    assert call("DELETE", f"/conversations/{chat['id']}")["deleted"]
    for method, path in (("GET", f"/conversations/{chat['id']}"), ("GET", "/conversations/..%2F..%2Fetc")):
        with pytest.raises(urllib.error.HTTPError) as gone:
            call(method, path)
        assert gone.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as bad:
        call("PUT", f"/conversations/{chat['id']}/turns/0/rating", {"rating": 7})
    assert bad.value.code == 400


def test_web_sources_over_http_refuse_private_addresses(api: Any) -> None:
    from tests.helpers.news_site import NewsSite

    url, bot = api
    with NewsSite() as site:
        refused = request(url, "POST", "/sources", {"urls": [f"{site.base}/rss.xml"]})
        assert not refused["added"] and "loopback address" in refused["failures"][0]["reason"]
        assert sum(site.requests.values()) == 0  # nothing was fetched from the private host
        with pytest.raises(urllib.error.HTTPError) as bad:
            request(url, "POST", "/sources", {"urls": ["file:///etc/passwd"]})
        assert bad.value.code == 422
        listed = request(url, "GET", "/sources")["data"]
        assert [s["url"] for s in listed] == [f"{site.base}/rss.xml"] and listed[0]["status"].startswith("failed")
        assert request(url, "DELETE", f"/sources?url={site.base}/rss.xml")["removed"] == []
        assert request(url, "GET", "/sources")["data"] == []
