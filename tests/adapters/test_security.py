"""The web UI in Chromium with hostile article text: no request leaves, nothing executes, the text
reads as written; unknown Host headers are refused; the Articles tab lists, searches and deletes."""

from __future__ import annotations

import http.server
import threading
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from assistant import Article, Assistant
from tests.helpers.browser import open_app, open_tab
from tests.helpers.servers import free_port

pytestmark = pytest.mark.e2e


class Listener:
    """An HTTP server standing for "any address a news page names": it records every request."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.paths.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def payload(port: int) -> str:
    base = f"http://127.0.0.1:{port}"
    return (
        f'The Zorblatt poster read ![chart]({base}/image.png) and <img src="{base}/tag.png"> and '
        f"<script>window.pwned=1</script> and <style>body{{display:none}}</style> and "
        f"[click](javascript:window.pwned=2) and {base}/autolink in red letters."
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Listener, Assistant]]:
    from ui.app import launch

    listener = Listener()
    bot = Assistant.build([], tmp_path_factory.mktemp("hostile") / "index")
    text = payload(listener.port) + "\n\nThe festival drew large crowds to the harbour on Sunday."
    title = f"Zorblatt <img src=http://127.0.0.1:{listener.port}/title.png> festival"
    others = [
        Article(text=f"The valley council approved bus plan {i} on Monday.", title=f"Bus plan {i}", key=f"bus-{i}")
        for i in range(23)
    ]
    bot.add([Article(text=text, title=title, key="zorblatt", source="Gazette", date="2026-11-01"), *others])
    port = free_port()
    server = launch(bot, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", listener, bot
    finally:
        server.close()
        listener.server.shutdown()


def ask_in_browser(page: Any, url: str, question: str, shown: str) -> None:
    """Open the app, ask ``question`` in the chat box, wait until the sources panel shows ``shown``."""
    open_app(page, url)
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    page.locator("#sources .source-card").first.wait_for(timeout=60_000)
    page.wait_for_function(f"document.querySelector('#sources').innerText.includes({shown!r})", timeout=60_000)


def test_hostile_article_text_fetches_nothing_and_runs_nothing(hostile: Any, chromium: Any) -> None:
    url, listener, _ = hostile
    page = chromium.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if f":{listener.port}" in r.url else None)
    try:
        ask_in_browser(page, url, "What did the Zorblatt poster read?", "Sources")
        chat = page.locator(".message-wrap, [role=log]").first
        text = chat.inner_text()
        assert "<script>window.pwned=1</script>" in text, "a quoted <script> reads as text"
        assert "![chart](" in text and "[click](javascript:window.pwned=2)" in text
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert chat.locator("img").count() == 0 and chat.locator("a[href^='javascript']").count() == 0
        links = chat.locator("a").evaluate_all("as => as.map(a => a.getAttribute('href') || '')")
        assert all(h.startswith("#src-") for h in links), f"only our citation links in the chat: {links}"
        assert chat.locator("style, script").count() == 0, "an article's <style> or <script> became an element"
        open_tab(page, "Articles")
        page.wait_for_function("document.querySelector('#article-table').innerText.includes('Zorblatt <img')")
        page.wait_for_timeout(500)
        assert outside == [] and listener.paths == [], f"requests left the app: {outside or listener.paths}"
    finally:
        page.close()


def test_unknown_host_headers_are_refused_and_pages_carry_a_csp(hostile: Any) -> None:
    url, _, _ = hostile
    with urllib.request.urlopen(url, timeout=30) as ok:
        policy = ok.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "img-src 'self' data: blob:" in policy
    rebound = urllib.request.Request(url, headers={"Host": "attacker.example:7860"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(rebound, timeout=30)
    assert refused.value.code == 400


def test_the_articles_tab_lists_searches_pages_and_deletes(hostile: Any, chromium: Any) -> None:
    url, _, bot = hostile
    page = chromium.new_page()
    try:
        open_app(page, url)
        assert "24 articles loaded" in page.locator("#header").inner_text()
        open_tab(page, "Articles")
        status = page.locator("#article-status")
        page.wait_for_function("document.querySelector('#article-status').innerText.includes('page 1 of 2')")
        assert "24 articles in the index" in status.inner_text()
        page.locator("#article-page input").fill("2")
        page.locator("#article-page input").press("Enter")
        page.wait_for_function("document.querySelector('#article-status').innerText.includes('page 2 of 2')")
        query = page.locator("#article-query textarea, #article-query input").first
        query.fill("bus plan 7")
        query.press("Enter")
        page.wait_for_function("document.querySelector('#article-status').innerText.includes('1 article matching')")
        page.locator("#article-table .cell-wrap:visible", has_text="Bus plan 7").first.click()
        page.wait_for_function("document.querySelector('#delete-ids textarea, #delete-ids input').value.length > 0")
        page.locator("#delete").click()
        page.wait_for_function("document.querySelector('#delete-status').innerText.includes('Deleted 1 article')")
        page.wait_for_function("document.querySelector('#header').innerText.includes('23 articles loaded')")
        assert bot.index.article("bus-7") is None and bot.index.article("bus-6") is not None
    finally:
        page.close()


def test_a_6000_character_word_stays_inside_its_source_card(hostile: Any, chromium: Any) -> None:
    url, _, bot = hostile
    word = "Zorblattmegaword" * 375  # 6,000 characters with no place to break
    bot.add([Article(text=f"The Quorvex signal was {word} according to the harbour office.", title="Quorvex signal")])
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    try:
        ask_in_browser(page, url, "What was the Quorvex signal?", "Zorblattmegaword")
        widths = page.evaluate(
            "[...document.querySelectorAll('#sources .source-card')].map(c => [c.scrollWidth, c.clientWidth])"
        )
        assert widths and all(scroll <= client + 1 for scroll, client in widths), widths
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), "the page scrolls sideways"
    finally:
        page.close()
