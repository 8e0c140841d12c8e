"""Both LLM backends against a real Qwen2.5 GGUF model run by llama.cpp: ``local`` (llama.cpp's
server inside the process) and ``openai`` (a real OpenAI-compatible llama.cpp server on 127.0.0.1,
started and stopped by a fixture). The model comes from ../shared/tools/test-models."""

from __future__ import annotations

import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Answer, Assistant, Finished, ModelBackendError, Settings, Token
from tests.conftest import SHARED
from tests.helpers.shared import needs_shared

pytestmark = [pytest.mark.slow, pytest.mark.model]
CHANNELS = "particularly in New York"


@pytest.fixture(scope="session")
def qwen_path() -> Path:
    tool = needs_shared(SHARED / "tools" / "test-models", "the test-models tool")
    done = subprocess.run([str(tool), "qwen-0.5b"], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"test-models could not provide qwen-0.5b: {done.stderr[-500:]}")
    return Path(done.stdout.strip().split("\t")[1])


@pytest.fixture(scope="module")
def local_bot(seed_bot: Assistant, qwen_path: Path) -> Iterator[Assistant]:
    settings = Settings(answer={"engine": "local"}, llm={"model_path": qwen_path, "threads": 2})
    bot = Assistant(seed_bot.index, settings)
    try:
        yield bot
    finally:
        bot.close()


@pytest.fixture(scope="module")
def openai_server(qwen_path: Path) -> Iterator[str]:
    """A real OpenAI-compatible server (llama.cpp's, from xllamacpp) on a port we choose."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import xllamacpp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    params = xllamacpp.CommonParams()
    params.model.path = str(qwen_path)
    params.n_ctx = 4096
    params.cpuparams.n_threads = 2
    params.cpuparams_batch.n_threads = 2
    params.port = port
    params.model_alias = "qwen-test"
    params.verbosity = -1
    server = xllamacpp.Server(params)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        del server


@pytest.fixture(scope="module")
def openai_bot(seed_bot: Assistant, openai_server: str) -> Assistant:
    settings = Settings(answer={"engine": "openai"}, llm={"base_url": openai_server, "model": "qwen-test"})
    return Assistant(seed_bot.index, settings)


def assert_verified_channels(answer: Answer) -> None:
    assert answer.answered, answer.text
    assert "New York" in answer.text, answer.text
    assert answer.sentences and all(s.verified for s in answer.sentences), answer.sentences
    assert any(CHANNELS in c.passage for c in answer.citations)
    for s in answer.sentences:
        assert s.markers and all(answer.citation(n) is not None for n in s.markers)


@pytest.mark.parametrize("backend", ["local_bot", "openai_bot"])
def test_channels_question_gets_a_written_cited_verified_answer(backend: str, request: pytest.FixtureRequest) -> None:
    bot: Assistant = request.getfixturevalue(backend)
    events = list(bot.stream("What channels did the US use?"))
    tokens = [e for e in events if isinstance(e, Token)]
    answer = events[-1].answer
    assert isinstance(events[-1], Finished) and len(tokens) > 3  # streamed, piece by piece
    assert_verified_channels(answer)
    assert answer.engine == backend.removesuffix("_bot") and answer.model and answer.prompt == "short_answer.v1"
    assert bot.info().prompt == "short_answer.v1"  # the model reads the selector's sentences

    follow = bot.ask("And what did Kim Yo-jong say?", history=[(answer.question, answer.text)])
    assert follow.answered, follow.text
    assert "Kim Yo-jong" in follow.query
    assert any("Kim Yo-jong" in c.passage for c in follow.citations), follow.citations
    assert all(s.markers for s in follow.sentences if s.verified)


def test_local_model_refuses_what_the_articles_do_not_say(local_bot: Assistant) -> None:
    answer = local_bot.ask("Who won the 2022 World Cup?")
    assert not answer.answered or all(not s.verified for s in answer.sentences), answer.text


def test_a_generation_timeout_is_a_clear_error(seed_bot: Assistant, openai_server: str) -> None:
    settings = Settings(
        answer={"engine": "openai"}, llm={"base_url": openai_server, "model": "qwen-test", "timeout_s": 0.05}
    )
    with pytest.raises(ModelBackendError, match="timeout"):
        Assistant(seed_bot.index, settings).ask("What channels did the US use?")


@pytest.mark.e2e
def test_browser_sees_tokens_stream_in_before_the_verified_answer(local_bot: Assistant, chromium: Any) -> None:
    from ui.app import launch

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo = launch(local_bot, port=port, block=False)
    page = chromium.new_page()
    try:
        page.goto(f"http://127.0.0.1:{port}/", wait_until="load")
        box = page.locator("#question textarea")
        box.wait_for(timeout=30_000)
        assert "local" in page.content() and "extractive" in page.locator("#engine").inner_text()
        # record every text the answer bubble shows, as it changes
        page.evaluate(
            """() => { window.seen = []; new MutationObserver(() => {
                 const bots = document.querySelectorAll('.message.bot, [data-testid=bot]');
                 if (bots.length) window.seen.push(bots[bots.length - 1].innerText); })
               .observe(document.body, {subtree: true, childList: true, characterData: true}); }"""
        )
        box.fill("What channels did the US use?")
        box.press("Enter")
        page.locator("#sources h3", has_text="Retrieved for").wait_for(timeout=60_000)  # sources before the answer
        page.locator("#sources mark").first.wait_for(timeout=120_000)  # the verified answer's sources
        seen = [t.strip() for t in page.evaluate("window.seen") if t.strip() and t.strip() != "…"]
        final = seen[-1]
        assert "New York" in final and "[1]" in final
        partial = [t for t in seen if t != final and "New York" not in t]
        assert len(set(partial)) >= 2, seen  # text grew piece by piece before the answer was complete
        link = page.locator(".message.bot a[href^='#src-'], [data-testid=bot] a[href^='#src-']").first
        target = link.get_attribute("href")
        assert target and page.locator(target).count() == 1 and "New York" in page.locator(target).inner_text()
    finally:
        page.close()
        demo.close()


def test_cli_answers_with_the_local_engine(seed_bot: Assistant, qwen_path: Path) -> None:
    from tests.helpers.cli import cli_in_process

    engine = ["--engine", "local", "--model", str(qwen_path), "--index", str(seed_bot.index.directory)]
    out = cli_in_process("ask", "What channels did the US use?", *engine, "--json")
    assert out.exit_code == 0, out.output
    answer = Answer.from_json(out.stdout)
    assert answer.engine == "local" and answer.model == qwen_path.name
    assert_verified_channels(answer)


def test_a_second_question_is_answered_while_a_model_is_writing(local_bot: Assistant) -> None:
    """Reads share the lock: while one answer is being generated, another user's question (here
    an extractive one) is answered, and an article can still be added afterwards."""
    import threading

    stream = local_bot.stream("What channels did the US use?")
    events = []
    for event in stream:  # stop in the middle of the model's answer
        events.append(event)
        if isinstance(event, Token):
            break
    done = threading.Event()
    other: list[Answer] = []

    def ask_other() -> None:
        other.append(local_bot.ask("Who issued a statement about the joint drills?", engine="extractive"))
        done.set()

    threading.Thread(target=ask_other).start()
    assert done.wait(60), "the second question waited for the first answer to finish"
    assert other[0].answered and other[0].engine == "extractive"
    final = [e for e in stream if isinstance(e, Finished)]
    assert final and final[0].answer.engine == "local"


@pytest.mark.e2e
def test_the_http_api_streams_a_local_models_words_then_the_checked_answer(local_bot: Assistant) -> None:
    from openai import OpenAI

    from api import create_api
    from serving.server import Server

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = Server(create_api(local_bot), "127.0.0.1", port).start()
    try:
        client = OpenAI(base_url=f"{server.url}v1", api_key="none", max_retries=0, timeout=180)
        assert {m.id for m in client.models.list().data} == {"extractive", "local"}
        chunks = list(
            client.chat.completions.create(
                model="local", messages=[{"role": "user", "content": "What channels did the US use?"}], stream=True
            )
        )
        words = [c.choices[0].delta.content for c in chunks if c.choices[0].delta.content]
        assert len(words) > 3, "the model's words arrive as they are written"
        last = chunks[-1].model_extra["news_assistant"]  # type: ignore[index]
        assert chunks[-1].choices[0].finish_reason == "stop" and last["engine"] == "local"
        assert last["answered"] and any(s["verified"] for s in last["sentences"])
        assert "New York" in "".join(words)
    finally:
        server.close()


def test_the_llm_judge_reads_a_real_openai_compatible_server(
    seed_bot: Assistant, openai_server: str, tmp_path: Path
) -> None:
    """answer.judge = llm against llama.cpp's OpenAI-compatible server: replies parse, a contradicted
    claim is refused, a stated one kept; an evaluation with it records the judge and scores faithfulness."""
    from assistant.answering.judges.judge import FaithfulnessJudge
    from assistant.evaluation import evaluate

    settings = Settings(
        answer={"engine": "openai", "judge": "llm"}, llm={"base_url": openai_server, "model": "qwen-test"}
    )
    bot = Assistant(seed_bot.index, settings)
    judge = FaithfulnessJudge("llm", client=bot.engine.client)  # type: ignore[attr-defined]
    passage = (
        "HARBOURTON - The city council voted 7 to 2 on Tuesday to build protected bike lanes along Mill Street. "
        "The project will cost 3.2 million dollars, most of it covered by a regional transport grant."
    )
    assert judge.judge(passage, "The project will cost 3.2 million dollars.").supported
    assert not judge.judge(passage, "The council voted 9 to 0 against the bike lanes.").supported
    assert judge.llm is not None and judge.llm.unknown == 0
    testset = tmp_path / "one.jsonl"
    testset.write_text(
        '{"question": "What channels did the US use to contact North Korea?", "reference_answer": "New York"}\n'
    )
    result = evaluate(bot, testset, tmp_path / "run")
    config = (tmp_path / "run" / "run.json").read_text()
    assert '"method": "llm"' in config and "judge_claims.v1" in config
    assert "faithfulness" in result.summary["metrics"], result.summary
