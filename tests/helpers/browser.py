"""Driving the web UI in a real browser (Playwright over Debian's Chromium)."""

from __future__ import annotations

import time
from typing import Any


def open_app(page: Any, url: str) -> None:
    """Load the app and wait until the question box is there. (Not "networkidle": the session state
    keeps a heartbeat connection open for as long as the page is.)"""
    page.goto(url, wait_until="load")
    page.locator("#question textarea").wait_for(timeout=30_000)


def open_tab(page: Any, name: str) -> None:
    """Open the tab ``name`` from the one tab strip (Gradio also keeps a copy of each tab's button
    for its overflow menu, hence the first)."""
    page.locator("[role=tablist] [role=tab]", has_text=name).first.click()


def ask(page: Any, question: str) -> None:
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")


def chat_text(page: Any) -> str:
    return str(page.locator("#chat").inner_text())


def new_chat(page: Any) -> None:
    """Start a new chat and wait until it is open (the page may have reopened an earlier one)."""
    page.locator("#new-chat").click()
    wait_for(page, lambda: "?" not in chat_text(page))


def wait_for(page: Any, condition: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, chat_text(page)
        page.wait_for_timeout(200)


def contrast(foreground: str, background: str) -> float:
    """WCAG contrast ratio of two CSS rgb()/rgba() colours."""

    def luminance(css: str) -> float:
        r, g, b = (int(float(x)) / 255 for x in css[css.index("(") + 1 : css.index(")")].split(",")[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)
