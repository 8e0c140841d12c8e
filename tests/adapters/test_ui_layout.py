"""Where things are, in real Chromium at 1280×800 and 390×844, light and dark: one tab strip, the
question box in view on load and after sending (the page does not scroll; the chat does), a sources
panel that scrolls within itself, [n] on a phone brings its card into view, Stop without an error
badge, keys typed after Enter kept. Screenshots are written to build/ui-screenshots/."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from tests.helpers.browser import chat_text, open_app, wait_for
from tests.helpers.engines import SlowEngine
from tests.helpers.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "ui-screenshots"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}
QUESTION = "How many homes has the Pine Ridge wildfire destroyed?"


@pytest.fixture(scope="module")
def layout_server(tmp_path_factory: pytest.TempPathFactory, sample_bot: Assistant) -> Iterator[str]:
    from assistant.answering.engines.extractive import ExtractiveEngine
    from ui.app import launch

    engine = SlowEngine(ExtractiveEngine(sample_bot.settings.answer, sample_bot.index.embedder.embed))
    chats = tmp_path_factory.mktemp("layout-chats") / "conversations.sqlite3"
    settings = sample_bot.settings.model_copy(
        update={"chat": sample_bot.settings.chat.model_copy(update={"history": chats})}
    )
    port = free_port()
    server = launch(Assistant(sample_bot.index, settings, engine), host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()


def ask_and_wait(page: Any) -> None:
    """Send QUESTION with Enter and wait for its checked answer."""
    page.locator("#question textarea").fill(QUESTION)
    page.locator("#question textarea").press("Enter")
    wait_for(page, lambda: "✓" in chat_text(page))


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not laid out"
    return dict(found)


def in_view(page: Any, selector: str) -> bool:
    b, (width, height) = box(page, selector), (page.viewport_size["width"], page.viewport_size["height"])
    return b["y"] >= 0 and b["y"] + b["height"] <= height and b["x"] >= 0 and b["x"] + b["width"] <= width


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


def open_page(chromium: Any, url: str, viewport: str, theme: str) -> Any:
    width, height = VIEWPORTS[viewport]
    page = chromium.new_page(viewport={"width": width, "height": height})
    open_app(page, f"{url}?__theme={theme}")
    page.locator("#new-chat").click()  # a new chat (the browser may have reopened one)
    wait_for(page, lambda: "?" not in chat_text(page))
    return page


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_tabs_question_box_and_sources_panel_are_where_people_look(
    layout_server: str, chromium: Any, viewport: str, theme: str
) -> None:
    page = open_page(chromium, layout_server, viewport, theme)
    try:
        assert page.locator("[role=tablist]").count() == 1, "one tab strip"
        tabs = [t.strip() for t in page.locator("[role=tablist] [role=tab]").all_inner_texts()]
        assert tabs == ["Chat", "Articles", "What's new", "Evaluate"]
        assert not page.locator("#article-table").is_visible(), "the Articles tab is closed on load"
        if viewport == "desktop" and theme == "light":  # each tab opens, and the strip stays as it was
            from tests.helpers.browser import open_tab

            for name, shown in (
                ("Articles", "#article-table"),
                ("What's new", "#digest-show"),
                ("Evaluate", "#run-eval"),
                ("Chat", "#question"),
            ):
                open_tab(page, name)
                page.locator(shown).first.wait_for(state="visible", timeout=10_000)
                assert [t.strip() for t in page.locator("[role=tablist] [role=tab]").all_inner_texts()] == tabs
        assert page.evaluate(
            "document.documentElement.classList.contains('dark') || document.body.classList.contains('dark')"
        ) == (theme == "dark")
        assert in_view(page, "#question"), f"question box out of view on load: {box(page, '#question')}"
        assert in_view(page, "#ask") and in_view(page, "#stop")
        chat, question = box(page, "#chat"), box(page, "#question")
        assert question["y"] >= chat["y"] + chat["height"] - 1, "the box is under the chat"
        shot(page, f"{viewport}-{theme}-load")

        ask_and_wait(page)
        page.wait_for_timeout(500)
        assert page.evaluate("window.scrollY") == 0, "the page did not scroll: the chat did"
        assert in_view(page, "#question"), f"question box out of view after sending: {box(page, '#question')}"
        answer = page.locator("#chat .message.bot").last
        assert answer.is_visible() and answer.bounding_box()["y"] >= box(page, "#chat")["y"] - 1
        panel = page.locator("#sources")
        assert panel.evaluate("e => getComputedStyle(e).overflowY") == "auto", "the panel scrolls within itself"
        if viewport == "desktop":
            assert in_view(page, "#sources"), f"sources panel past the viewport: {box(page, '#sources')}"
        # what comes after the panel in its column starts below it: nothing is painted over
        below = panel.evaluate(
            "e => { const n = e.closest('.block, .form')?.nextElementSibling;"
            " return n ? n.getBoundingClientRect().top : null }"
        )
        panel_box = box(page, "#sources")
        assert below is None or below >= panel_box["y"] + panel_box["height"] - 1
        shot(page, f"{viewport}-{theme}-answered")

        page.locator('#chat .message.bot a[href^="#src-"]').last.click()
        page.wait_for_timeout(400)
        picked = page.locator("#sources .source-card.picked")
        assert picked.count() == 1
        card, height = picked.bounding_box(), VIEWPORTS[viewport][1]
        assert card is not None and 0 <= card["y"] < height - 20, f"the card of [n] is off-screen: {card}"
        shot(page, f"{viewport}-{theme}-source")
    finally:
        page.close()


def test_stop_leaves_no_error_badge_and_keys_typed_after_enter_are_kept(layout_server: str, chromium: Any) -> None:
    page = open_page(chromium, layout_server, "desktop", "light")
    try:
        box_ = page.locator("#question textarea")
        box_.fill("What did the Harbourton council vote on?")
        box_.press("Enter")
        page.keyboard.type("and the cost", delay=20)  # typed at once, while the answer is written
        wait_for(page, lambda: len(chat_text(page).partition("vote on?")[2].strip()) > 5)
        page.locator("#stop").click()
        wait_for(page, lambda: "stopped before the answer was finished" in chat_text(page), timeout=10)
        time.sleep(1)
        assert box_.input_value() == "and the cost", "the keys typed after Enter are kept"
        assert "being written" not in chat_text(page) and "✓" not in chat_text(page)
        assert page.locator("#question .error, #chat .error").count() == 0, "no error badge after Stop"
        assert "Error" not in page.locator("#chat-column").inner_text()
        shot(page, "desktop-light-stopped")
    finally:
        page.close()


def test_a_thumbs_down_asks_what_was_wrong_and_a_reason_is_saved(layout_server: str, chromium: Any) -> None:
    """👎 alone used to turn the question into an unanswerable one in `testset from-feedback`."""
    page = open_page(chromium, layout_server, "desktop", "light")
    try:
        ask_and_wait(page)
        page.locator('#chat button[aria-label="Dislike"]').last.click()
        status = page.locator("#feedback-status")
        wait_for(page, lambda: "What was wrong?" in status.inner_text(), timeout=15)
        assert "Incomplete" in status.inner_text() and "Should have refused" in status.inner_text()
        flag = page.locator('#chat button[aria-label="Feedback"]').last  # ⚑: the other feedback options
        flag.hover()
        flag.click()
        page.locator("#chat .extra-feedback-option", has_text="Incomplete").last.click()
        wait_for(page, lambda: "(incomplete)" in status.inner_text(), timeout=15)
        shot(page, "desktop-light-feedback")
    finally:
        page.close()


def test_an_upload_shows_in_the_articles_tab_and_the_header_at_once(
    tmp_path_factory: pytest.TempPathFactory, chromium: Any, tmp_path: Path
) -> None:
    """After an upload the Articles table showed the old rows until a search."""
    from tests.conftest import SAMPLES
    from tests.helpers.browser import open_tab
    from ui.app import launch

    bot = Assistant.build([SAMPLES], tmp_path_factory.mktemp("upload-index") / "index")
    server = launch(bot, host="127.0.0.1", port=free_port(), block=False)
    page = chromium.new_page(viewport={"width": 1280, "height": 800})
    try:
        open_app(page, server.url)
        open_tab(page, "Articles")
        wait_for(page, lambda: "8 articles" in page.locator("#article-status").inner_text())
        open_tab(page, "Chat")
        page.get_by_text("Add articles").click()
        note = tmp_path / "orchard.txt"
        note.write_text("Orchard opens to the public\n\nThe old orchard on Mill Hill opens to the public in May.")
        page.locator("#upload input[type=file]").set_input_files(str(note))
        wait_for(page, lambda: "1 added" in page.locator("#upload-report").inner_text(), timeout=60)
        assert "9 articles" in page.locator("#header").inner_text()
        open_tab(page, "Articles")
        wait_for(page, lambda: "Orchard opens to the public" in page.locator("#article-table").inner_text())
        assert "9 articles" in page.locator("#article-status").inner_text()
    finally:
        page.close()
        server.close()


def test_deleting_a_conversation_asks_first(layout_server: str, chromium: Any) -> None:
    """Delete removed a conversation at once, with no way back."""
    page = open_page(chromium, layout_server, "desktop", "light")
    try:
        ask_and_wait(page)
        page.get_by_text("Rename or delete this conversation").click()
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.locator("#delete-chat").click()
        page.wait_for_timeout(1500)
        assert "✓" in chat_text(page), "said no: the conversation stays"
        page.once("dialog", lambda dialog: dialog.accept())
        page.locator("#delete-chat").click()
        wait_for(page, lambda: QUESTION not in chat_text(page), timeout=15)
    finally:
        page.close()
