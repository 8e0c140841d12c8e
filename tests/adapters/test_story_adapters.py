"""The time questions through the adapters (issue 36): `assistant digest` / `assistant story` and
`ask`'s note in the CLI, GET /v1/digest and /v1/story and the chat answer's fields over HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from assistant import Assistant
from tests.helpers.cli import cli_in_process
from tests.helpers.servers import free_port

KEY = "story-key-1"


@pytest.fixture(scope="module")
def api(stories_bot: Assistant) -> Iterator[str]:
    from api import create_api
    from serving.hardening import allowed_hosts, harden
    from serving.server import Server

    app = create_api(stories_bot, api_key=KEY)
    harden(app, allowed_hosts("127.0.0.1"))
    server = Server(app, "127.0.0.1", free_port()).start()
    try:
        yield f"{server.url}v1"
    finally:
        server.close()


def get(url: str, key: str = KEY) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    with urllib.request.urlopen(request, timeout=60) as r:
        return json.loads(r.read())


def test_the_digest_and_a_story_over_http(api: str, stories_bot: Assistant) -> None:
    digest = get(f"{api}/digest?since=2026-03-05&as_of=2026-03-12")
    assert digest["object"] == "digest" and digest["since"] == "2026-03-05"
    first = digest["stories"][0]
    assert first["reports"] == 5 and first["new_reports"] == 3
    assert first["line"] in first["citation"]["passage"] and first["citation"]["date"] == "2026-03-12"
    story = get(f"{api}/story?article=vote-2&as_of=2026-12-01")
    assert story["object"] == "story" and [line["day"] for line in story["timeline"]][0] == "2026-09-28"
    assert len(story["citations"]) == 4 and story["answered"]
    with pytest.raises(urllib.error.HTTPError) as bad:
        get(f"{api}/digest?since=soon")
    assert bad.value.code == 400 and "since" in json.loads(bad.value.read())["error"]["message"]
    with pytest.raises(urllib.error.HTTPError) as missing:
        get(f"{api}/story?article=no-such-article")
    assert missing.value.code == 404
    with pytest.raises(urllib.error.HTTPError) as unauthorised:
        get(f"{api}/digest", key="wrong")
    assert unauthorised.value.code == 401


def test_a_chat_answer_carries_the_time_its_note_and_the_values_that_differ(api: str) -> None:
    from openai import OpenAI

    reply = OpenAI(base_url=api, api_key=KEY, max_retries=0, timeout=120).chat.completions.create(
        model="extractive",
        messages=[{"role": "user", "content": "How many people were injured in the collapse?"}],
        extra_body={"filters": {"as_of": "2026-03-19"}},
    )
    extra = reply.model_extra["news_assistant"]  # type: ignore[index]
    assert extra["time"] == "plain" and extra["note"].startswith("Reports differ:")
    assert [d["latest"] for d in extra["disagreements"]] == [True, False]


def test_the_cli_digest_story_and_a_time_questions_note(stories_bot: Assistant) -> None:
    index = str(stories_bot.index.directory)
    digest = cli_in_process("digest", "--index", index, "--since", "2026-03-05", "--as-of", "2026-03-12")
    assert digest.exit_code == 0, digest.output
    assert "What's new since 2026-03-05 (2 stories)" in digest.output and "3 new of 5 reports" in digest.output
    story = cli_in_process("story", "bridge-2", "--index", index, "--as-of", "2026-03-19")
    assert story.exit_code == 0 and story.output.startswith("3 Mar 2026 — A section of the Elm River bridge")
    asked = cli_in_process(
        "ask", "What happened with the Elm River bridge since March 5?", "--index", index, "--as-of", "2026-03-19"
    )
    assert asked.exit_code == 0 and "Only reports since 5 Mar 2026: 2 earlier reports left out." in asked.output
    wrong = cli_in_process("digest", "--index", index, "--since", "soon")
    assert wrong.exit_code == 2 and "'yesterday', 'N days' or 'last refresh'" in wrong.output
