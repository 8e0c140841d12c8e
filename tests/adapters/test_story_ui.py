"""The time answers in real Chromium (issue 36), desktop and phone, light and dark: a development question's dated
lines with the time tag and the note in the chat, the What's new tab's stories, and "This story" from
a source of the latest answer; each where people look (inside the viewport's width, below the tabs).
Screenshots are written to build/ui-screenshots/."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from tests.helpers.browser import ask, chat_text, contrast, open_app, open_tab, wait_for
from tests.helpers.servers import free_port

pytestmark = [pytest.mark.slow, pytest.mark.e2e]
SHOTS = Path(__file__).resolve().parents[2] / "build" / "ui-screenshots"
VIEWPORTS = {"desktop": (1280, 800), "phone": (390, 844)}


@pytest.fixture(scope="module")
def story_server(tmp_path_factory: pytest.TempPathFactory, stories_bot: Assistant) -> Iterator[str]:
    from ui.app import launch

    chats = tmp_path_factory.mktemp("story-chats") / "conversations.sqlite3"
    settings = stories_bot.settings.model_copy(
        update={"chat": stories_bot.settings.chat.model_copy(update={"history": chats})}
    )
    port = free_port()
    server = launch(Assistant(stories_bot.index, settings), host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.close()


def within_width(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} is not laid out"
    width = page.viewport_size["width"]
    assert found["x"] >= 0 and found["x"] + found["width"] <= width + 1, (selector, found, width)
    return dict(found)


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_timeline_digest_and_this_story_are_shown_where_people_look(
    story_server: str, chromium: Any, viewport: str, theme: str
) -> None:
    width, height = VIEWPORTS[viewport]
    page = chromium.new_page(viewport={"width": width, "height": height}, color_scheme=theme)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        open_app(page, f"{story_server}?__theme={theme}")
        ask(page, "How has the Elm River bridge story developed?")
        wait_for(page, lambda: "12 Mar 2026" in chat_text(page))
        text = chat_text(page)
        assert "development" in text and "5 reports, 3 Mar 2026 to 12 Mar 2026." in text
        lines = [line for line in text.splitlines() if " — " in line]
        assert [line.split(" — ")[0] for line in lines[:5]] == [
            "3 Mar 2026", "4 Mar 2026", "6 Mar 2026", "9 Mar 2026", "12 Mar 2026",
        ]  # fmt: skip
        within_width(page, "#chat .time-tag")
        for selector, behind in (("#chat .time-tag", "#chat .time-tag"), ("#chat .time-note", "body")):
            fg = page.locator(selector).first.evaluate("e => getComputedStyle(e).color")
            bg = page.locator(behind).first.evaluate("e => getComputedStyle(e).backgroundColor")
            assert contrast(fg, bg) >= 4.5, (theme, selector, fg, bg)  # readable, light and dark
        note, chat = within_width(page, "#chat .time-note"), within_width(page, "#chat")
        assert chat["y"] <= note["y"] and note["y"] + note["height"] <= chat["y"] + chat["height"] + 1, (note, chat)
        page.screenshot(path=str(SHOTS / f"story-timeline-{viewport}-{theme}.png"))

        # This story: a source of the latest answer → its story's timeline
        page.locator("#story-panel").first.click()
        page.locator("#story-pick input").first.click()
        page.locator("[role=option]", has_text="Hospital raises").first.click()
        page.locator("#story-show").first.click()
        page.locator("#story ol.timeline li").nth(4).wait_for(timeout=30_000)
        days = page.locator("#story ol.timeline li").evaluate_all("els => els.map(e => e.dataset.day)")
        assert days == ["2026-03-03", "2026-03-04", "2026-03-06", "2026-03-09", "2026-03-12"]
        within_width(page, "#story ol.timeline")
        page.screenshot(path=str(SHOTS / f"story-panel-{viewport}-{theme}.png"))

        open_tab(page, "What's new")
        page.locator("#digest-since textarea, #digest-since input").first.fill("2026-03-05")
        page.locator("#digest-as-of textarea, #digest-as-of input").first.fill("2026-03-12")
        page.locator("#digest-show").first.click()
        page.locator("#digest .digest-story").nth(1).wait_for(timeout=30_000)
        cards = page.locator("#digest .digest-story").all_inner_texts()
        assert cards[0].startswith("1. Rebuilding the Elm River bridge") and "3 new of 5 reports" in cards[0]
        assert cards[1].startswith("2. Riverton library")
        card = within_width(page, "#digest .digest-story")
        assert card["y"] < height, "the first story is on the first screen"
        page.locator("#digest-story-show").first.click()
        page.locator("#digest-story ol.timeline li").nth(4).wait_for(timeout=30_000)
        page.screenshot(path=str(SHOTS / f"whats-new-{viewport}-{theme}.png"))
    finally:
        page.close()
