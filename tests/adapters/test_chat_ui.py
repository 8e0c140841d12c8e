"""The chat in a real browser: a question asked while an answer streams is queued and answered after
it, Stop ends an answer, a reload reopens the conversation with working [n] links. The engine writes
the extractive engine's real, verified answer a few characters every 0.4 s, so there is time to act
while it streams (what is under test is the chat, not a model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant
from assistant.answering.engines.base import Draft, DraftRequest
from assistant.answering.engines.extractive import ExtractiveEngine
from assistant.conversations import ConversationStore
from tests.helpers.browser import ask, chat_text, new_chat, open_app, wait_for
from tests.helpers.engines import SlowEngine
from tests.helpers.servers import free_port
from ui.chat import PageIds

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory, sample_bot: Assistant) -> Iterator[tuple[str, Path]]:
    """The app's address and its conversation file."""
    from ui.app import launch

    engine = SlowEngine(ExtractiveEngine(sample_bot.settings.answer, sample_bot.index.embedder.embed))
    chats = tmp_path_factory.mktemp("chats") / "conversations.sqlite3"
    settings = sample_bot.settings.model_copy(
        update={"chat": sample_bot.settings.chat.model_copy(update={"history": chats})}
    )
    bot = Assistant(sample_bot.index, settings, engine)
    port = free_port()
    server = launch(bot, host="127.0.0.1", port=port, block=False)
    try:
        yield f"http://127.0.0.1:{port}/", chats
    finally:
        server.close()


def test_a_question_asked_while_streaming_is_queued_then_answered_and_a_reload_keeps_both(
    slow_server: tuple[str, Path], chromium: Any, tmp_path: Path
) -> None:
    url, chats_file = slow_server
    page = chromium.new_page()
    try:
        open_app(page, url)
        ask(page, "How much will the Mill Street bike lanes cost?")
        wait_for(page, lambda: len(chat_text(page).partition("cost?")[2].strip()) > 5)  # its first words are in
        ask(page, "How many homes has the Pine Ridge wildfire destroyed?")  # while the first streams
        wait_for(page, lambda: "queued" in chat_text(page))
        wait_for(page, lambda: chat_text(page).count("✓") >= 2 and "queued" not in chat_text(page))
        text = chat_text(page)
        assert text.index("Mill Street") < text.index("Pine Ridge")  # answered in the order asked
        assert "3.2 million dollars" in text and "homes" in text.split("Pine Ridge", 1)[1]

        page.reload(wait_until="load")
        open_app(page, url)
        wait_for(page, lambda: "Pine Ridge" in chat_text(page) and chat_text(page).count("✓") >= 2)
        chat_top = page.locator("#chat").bounding_box()
        page.locator("#chat a[href='#src-1-1']").first.click()  # [1] of the first (folded) answer opens its card
        card = page.locator("#src-1-1")
        card.wait_for(state="visible", timeout=10_000)
        assert "3.2 million dollars" in card.inner_text()
        # the card is scrolled into view inside the sources panel; the chat stays where it was
        assert page.locator("#chat").bounding_box() == chat_top
        assert page.locator(".turn-sources[data-turn='2'][open]").count() == 1  # the newest stays open
        page.screenshot(path=str(tmp_path / "restored.png"), full_page=True)

        page.locator("#feedback-comment textarea").fill("the right figure")
        page.locator("#chat button[aria-label='Like']").first.click()  # 👍 on the first answer
        page.locator("#feedback-status", has_text="Saved 👍 for answer 1").wait_for(timeout=30_000)
        store = ConversationStore(chats_file)
        (chat,) = [c for c in store.list() if "Mill Street" in c.title]
        assert [(t.rating, t.comment) for t in store.get(chat.id).turns] == [(1, "the right figure"), (None, "")]
        store.close()
    finally:
        page.close()


def test_a_question_asked_before_the_page_loaded_and_the_load_agree_on_one_chat() -> None:
    """The load gives a page without a chat its id; a question sent before that arrived must land in
    the same chat, so the next question queues behind it (it once went to another one)."""
    fresh = iter(f"{n:016x}" for n in range(100))
    ids = PageIds(lambda: next(fresh))
    early = ids.on_question("page-1")  # the question first, then the load
    assert ids.on_load("page-1") == early
    loaded = ids.on_load("page-2")  # the load first, then a question still sent without the id
    assert ids.on_question("page-2") == loaded != early
    assert ids.on_question("api") != ids.on_question("api"), "a client that never loads the page: a chat each"
    assert ids.on_load(None) != ids.on_load(None)


def test_stop_ends_the_answer_being_written_and_saves_nothing(slow_server: tuple[str, Path], chromium: Any) -> None:
    url, _ = slow_server
    page = chromium.new_page()
    try:
        open_app(page, url)
        new_chat(page)  # the new chat is open (the page may have reopened one)
        ask(page, "What did the Harbourton council vote on?")
        wait_for(page, lambda: len(chat_text(page).partition("vote on?")[2].strip()) > 5)
        page.locator("#stop").click()
        page.wait_for_timeout(9000)  # unstopped, the answer (~15 pieces, 0.4 s each) would be done by now
        assert "✓" not in chat_text(page)  # the answer did not finish
        ask(page, "How many homes has the Pine Ridge wildfire destroyed?")  # the chat still answers
        wait_for(page, lambda: "✓" in chat_text(page))
    finally:
        page.close()


class UnitSwapEngine:
    """Writes what the local model once wrote: the passage's cost with pounds for dollars, then a
    sentence of the article as it stands (read from the retrieved passage at answer time)."""

    name, model, prompt = "scripted", "scripted", "none"

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        from index import sentence_spans

        passage = next(h.passage.text for h in request.hits if "3.2 million dollars" in h.passage.text)
        vote = next(passage[s:e] for s, e in sentence_spans(passage) if "voted" in passage[s:e]).rstrip(".")
        text = f"The bike lanes will cost 3.2 million pounds [1]. {vote} [1]."
        yield text
        yield Draft(text, list(request.hits))


def test_a_unit_swapped_sentence_shows_unverified_beside_a_checked_one(
    sample_bot: Assistant, chromium: Any, tmp_path: Path
) -> None:
    from ui.app import launch

    settings = sample_bot.settings.model_copy(
        update={"chat": sample_bot.settings.chat.model_copy(update={"history": tmp_path / "c.sqlite3"})}
    )
    port = free_port()
    server = launch(Assistant(sample_bot.index, settings, UnitSwapEngine()), "127.0.0.1", port, block=False)
    page = chromium.new_page()
    try:
        open_app(page, f"http://127.0.0.1:{port}/")
        ask(page, "How much will the Mill Street bike lanes cost?")
        page.locator("#chat .verified").first.wait_for(timeout=60_000)
        swapped = page.locator("#chat .unverified-text")
        assert swapped.count() == 1 and "3.2 million pounds" in swapped.inner_text()
        assert "not found in the sources" in chat_text(page)
        assert page.locator("#chat .verified").count() == 1  # the vote sentence keeps its ✓
    finally:
        page.close()
        server.close()


def test_copy_gives_clean_text_and_a_numbered_source_list(slow_server: tuple[str, Path], chromium: Any) -> None:
    url, _ = slow_server
    context = chromium.new_context(permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    try:
        open_app(page, url)
        new_chat(page)
        ask(page, "How much will the Mill Street bike lanes cost?")
        page.locator("#chat .verified").first.wait_for(timeout=60_000)
        page.locator("#chat button[aria-label='Copy message']").last.click()
        page.wait_for_timeout(800)
        copied = page.evaluate("navigator.clipboard.readText()")
        assert "3.2 million dollars" in copied and "[1]" in copied
        for markup in ("\\", "<span", "✓", "](#src"):
            assert markup not in copied, copied
        assert "\n\nSources:\n[1] " in copied and "https://example.org/" in copied
        # what a screen reader reads of the answer: its text as shown, not its Markdown
        label = page.locator('#chat [aria-label^="bot\'s message:"]').last.get_attribute("aria-label")
        assert "3.2 million dollars" in label and "\\" not in label and "](#src" not in label and "<span" not in label
    finally:
        context.close()


def test_an_example_question_on_an_empty_chat_is_asked_when_clicked(
    chromium: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bundled sample index shows questions of the sample test set on an empty chat."""
    from ui.app import launch

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))  # the sample index and the chats live here
    bot = Assistant.open()
    port = free_port()
    server = launch(bot, "127.0.0.1", port, block=False)
    page = chromium.new_page()
    try:
        open_app(page, f"http://127.0.0.1:{port}/")
        page.locator("#new-chat").click()
        example = page.locator("#chat button.example").first
        example.wait_for(timeout=30_000)
        asked = example.inner_text().strip()
        example.click()
        page.locator("#chat .verified").first.wait_for(timeout=60_000)
        assert asked in chat_text(page)
    finally:
        page.close()
        server.close()
        bot.close()


def test_the_last_question_can_be_edited_and_sent_again_in_its_place(
    slow_server: tuple[str, Path], chromium: Any
) -> None:
    url, chats_file = slow_server
    page = chromium.new_page()
    try:
        open_app(page, url)
        new_chat(page)
        ask(page, "How many homes has the Pine Ridge fire destroyed?")
        wait_for(page, lambda: "✓" in chat_text(page))
        page.locator("#edit-last").click()
        box = page.locator("#question textarea")
        wait_for(page, lambda: box.input_value() == "How many homes has the Pine Ridge fire destroyed?")
        box.fill("How many homes has the Pine Ridge wildfire destroyed?")
        box.press("Enter")
        wait_for(page, lambda: "wildfire destroyed?" in chat_text(page) and "being written" not in chat_text(page))
        assert "Pine Ridge fire destroyed?" not in chat_text(page)  # replaced, not added
        store = ConversationStore(chats_file)
        (chat,) = [c for c in store.list() if "Pine Ridge fire" in c.title]  # named after its first question
        assert [t.question for t in store.get(chat.id).turns] == [
            "How many homes has the Pine Ridge wildfire destroyed?"
        ]
        store.close()
    finally:
        page.close()
