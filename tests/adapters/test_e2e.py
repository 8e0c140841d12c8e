"""The real Gradio server, asked through gradio_client and through headless Chromium."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from tests.helpers.browser import contrast, open_app, open_tab
from tests.helpers.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
CHANNELS = "various channels since mid-February, particularly in New York"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, seed_path: Path) -> Iterator[str]:
    from ui.app import launch

    bot = Assistant.build([seed_path], tmp_path_factory.mktemp("e2e") / "index")
    port = free_port()
    demo = launch(bot, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()


def test_server_binds_loopback_and_answers_through_gradio_client(server: str) -> None:
    from gradio_client import Client

    client = Client(server, verbose=False)
    answer = json.loads(client.predict("What channels did the US use?", api_name="/ask"))
    assert answer["answered"] and any(CHANNELS in c["passage"] for c in answer["citations"])
    history, sources, box, conversation, _ = client.predict(
        "What channels did the US use?", "", "", "", "", api_name="/chat"
    )
    assert "<mark>" in sources and "New York" in sources and len(conversation) == 16
    assert box == {"__type__": "update"}, "the server leaves the question box alone (the browser empties it)"
    _, filtered, *_ = client.predict("What channels did the US use?", "", "Some Other Outlet", "", "", api_name="/chat")
    assert "Nearest passages" in filtered and "<mark>" not in filtered
    refusal = json.loads(client.predict("Who won the 2022 World Cup?", api_name="/ask"))
    assert not refusal["answered"]


def test_browser_types_the_question_and_sees_the_cited_source(
    server: str, chromium: Any, tmp_path: Path, seed_path: Path
) -> None:
    title = seed_path.read_text(encoding="utf-8").splitlines()[0].strip()  # read here, never copied
    page = chromium.new_page()
    try:
        open_app(page, server)
        box = page.locator("#question textarea")
        box.fill("What channels did the US use?")
        box.press("Enter")
        mark = page.locator("#sources mark").first
        mark.wait_for(timeout=60_000)
        assert "particularly in New York" in mark.inner_text()
        assert title in page.locator("#sources").inner_text()
        assert "[1]" in page.locator(".message-wrap, [role=log]").first.inner_text()
        box.fill("Since when has the US tried to contact the North Korean government?")
        box.press("Enter")  # a typed question: its short answer shows in bold above the cited sentence
        chat = page.locator(".message-wrap, [role=log]").first
        chat.locator("strong", has_text="mid-February").wait_for(timeout=60_000)
        page.screenshot(path=str(tmp_path / "answer.png"), full_page=True)
    finally:
        page.close()


def test_browser_runs_a_test_set_in_the_evaluate_tab_and_opens_the_report(
    server: str, chromium: Any, tmp_path: Path
) -> None:
    testset = tmp_path / "seed-questions.jsonl"
    testset.write_text(
        # a reference the answer lacks: the report lists it under "went wrong" (a perfect one isn't)
        json.dumps({"id": "channels", "question": "What channels did the US use?", "reference_answer": "Stockholm"})
        + "\n"
        + json.dumps({"id": "cup", "question": "Who won the 2022 World Cup?", "answerable": False})
        + "\n"
    )
    page = chromium.new_page()
    try:
        open_app(page, server)
        open_tab(page, "Evaluate")
        page.locator("#testset input[type=file]").set_input_files(str(testset))
        page.locator("#run-eval").click()
        table = page.locator("#eval-report #metrics")
        table.wait_for(timeout=120_000)
        text = table.inner_text()
        assert "faithfulness" in text and "refusal_rate" in text and "contains_reference" in text
        assert "2 questions (1 answerable, 1 not)" in page.locator("#eval-report #counts").inner_text()
        assert page.locator("#eval-report svg").count() >= 1
        summary = page.locator("#eval-summary").inner_text()
        assert "faithfulness" not in summary, "the metrics are shown once, in the report"
        run_dir = Path(summary.split("Run folder:")[1].strip().split()[0])
        report = chromium.new_page()
        report.goto((run_dir / "report.html").as_uri())
        assert report.locator("h1").inner_text().startswith("Evaluation of seed-questions.jsonl")
        worst = report.locator("#worst").inner_text()
        assert "What channels did the US use?" in worst and "the answer lacks the reference" in worst
        assert "World Cup" not in worst, "a correct refusal did not go wrong"
        report.close()
    finally:
        page.close()


def test_the_evaluate_api_serves_its_report_from_the_user_data_folder(
    seed_bot: Assistant, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data folder is usually neither the working directory nor the temp folder, which Gradio
    serves by default; launch allows the eval-runs folder explicitly."""
    import tempfile

    from gradio_client import Client, handle_file

    from assistant.samples_index import sample_testset_path
    from ui.app import launch

    outside = Path(tempfile.mkdtemp(prefix="assistant-data-", dir="/var/tmp"))
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(outside))
    port = free_port()
    demo = launch(seed_bot, host="127.0.0.1", port=port, block=False)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        summary, report, report_file = client.predict(handle_file(str(sample_testset_path())), api_name="/evaluate")
        assert "36 questions" in summary and 'id="metrics"' in report
        assert Path(report_file).read_text(encoding="utf-8").startswith("<!doctype html>")
    finally:
        demo.close()
        shutil.rmtree(outside, ignore_errors=True)


def test_dark_mode_keeps_the_supporting_sentence_and_the_check_readable(server: str, chromium: Any) -> None:
    page = chromium.new_page(color_scheme="dark")
    try:
        open_app(page, server + "?__theme=dark")
        box = page.locator("#question textarea")
        box.fill("What channels did the US use?")
        box.press("Enter")
        mark = page.locator("#sources mark").first
        mark.wait_for(timeout=60_000)
        assert page.evaluate("document.body.classList.contains('dark')"), "the page is not in dark mode"
        colours = mark.evaluate("m => [getComputedStyle(m).color, getComputedStyle(m).backgroundColor]")
        assert contrast(*colours) >= 4.5, colours
        check = page.locator("#chat .verified").first
        fg = check.evaluate("e => getComputedStyle(e).color")
        bg = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert contrast(fg, bg) >= 4.5, (fg, bg)
        assert "Answers: sentences from the articles (no model)" in page.locator("#header").inner_text()
    finally:
        page.close()
