"""Saved conversations: the SQLite store, the Python API, ratings and test sets made from them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from assistant import Assistant, ConversationNotFoundError
from assistant.conversations import ConversationStore
from assistant.evaluation.feedback import feedback_testset
from assistant.settings import ChatSettings


@pytest.mark.slow
def test_a_conversation_comes_back_exactly_after_a_restart(sample_bot: Assistant, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "chats.sqlite3")
    chat = store.create()
    first = sample_bot.ask("How much will the Mill Street bike lanes cost?")
    follow = sample_bot.ask("When will construction start?", history=[(first.question, first.text)])
    store.add(chat.id, first)
    store.add(chat.id, follow)
    other = store.create("Another")
    store.close()

    again = ConversationStore(tmp_path / "chats.sqlite3")  # a new process would see the same
    listed = again.list()
    assert [c.id for c in listed] == [chat.id, other.id] or [c.id for c in listed] == [other.id, chat.id]
    saved = again.get(chat.id)
    assert saved.title == first.question  # named after its first question
    assert [t.answer for t in saved.turns] == [first, follow]  # citations, passages, offsets: all of it
    assert saved.history() == [(first.question, first.text), (follow.question, follow.text)]
    again.rename(chat.id, "  Bike   lanes ")
    again.rate(chat.id, 1, -1, "wrong date")
    assert again.get(chat.id).title == "Bike lanes" and again.get(chat.id).turns[1].rating == -1
    redo = sample_bot.ask("When will construction on Mill Street start?")
    again.replace_last(chat.id, redo)
    last = again.get(chat.id).turns[-1]
    assert last.answer == redo and last.rating is None and len(again.get(chat.id).turns) == 2
    again.delete(other.id)
    assert [c.id for c in again.list()] == [chat.id]
    for bad in ("nope", other.id, "../../etc/passwd", "0" * 16):
        with pytest.raises(ConversationNotFoundError):
            again.get(bad)
    with pytest.raises(ValueError):
        again.rate(chat.id, 0, 5)


@pytest.mark.slow
def test_turns_added_from_many_threads_are_all_kept_in_order(sample_bot: Assistant, tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    chat = store.create("busy")
    answer = sample_bot.ask("How many homes has the Pine Ridge wildfire destroyed?")
    threads = [threading.Thread(target=lambda: [store.add(chat.id, answer) for _ in range(5)]) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [t.position for t in store.get(chat.id).turns] == list(range(20))


@pytest.mark.slow
def test_ratings_become_a_test_set_by_the_written_rules(sample_bot: Assistant, tmp_path: Path) -> None:
    settings = sample_bot.settings.model_copy(update={"chat": ChatSettings(history=tmp_path / "h.db")})
    bot = Assistant(sample_bot.index, settings)
    store = bot.conversations
    chat = store.create()
    good = bot.ask("How many homes has the Pine Ridge wildfire destroyed?")
    refused = bot.ask("Who won the 1966 World Cup?")
    assert good.answered and not refused.answered
    for answer in (good, refused, good, refused):
        store.add(chat.id, answer)
    store.rate(chat.id, 0, 1)
    store.rate(chat.id, 1, 1)  # right to refuse
    cases = {c.question: c for c in feedback_testset(store)}
    assert cases[good.question].answerable and cases[good.question].reference_answer
    assert set(cases[good.question].reference_article_ids) == {c.article_id for c in good.citations}
    assert not cases[refused.question].answerable
    store.rate(chat.id, 2, -1, "it says more")  # 👎 alone on an answer: left out, the 👍 case stays
    assert feedback_testset(store)[0].answerable and feedback_testset(store)[0].reference_answer
    store.rate(chat.id, 2, -1, "that is not what the article says", "should_refuse")  # rated again: latest wins
    store.rate(chat.id, 3, -1)  # the articles do answer it, says the user
    cases = {c.question: c for c in feedback_testset(store)}
    assert len(cases) == 2
    assert not cases[good.question].answerable and cases[good.question].metadata["comment"].startswith("that is")
    assert cases[refused.question].answerable and cases[refused.question].reference_answer == []
    store.rate(chat.id, 2, -1, "", "incomplete")  # right article, not all of it: answerable, not refused
    case = {c.question: c for c in feedback_testset(store)}[good.question]
    assert (
        case.answerable
        and case.reference_answer == []
        and set(case.reference_article_ids) == {c.article_id for c in good.citations}
    )
    store.rate(chat.id, 2, -1, "", "wrong")
    case = {c.question: c for c in feedback_testset(store)}[good.question]
    assert case.answerable and case.metadata["wrong_answer"] == good.text and case.reference_article_ids == []
    with pytest.raises(ValueError, match="reason goes with a -1"):
        store.rate(chat.id, 2, 1, "", "wrong")
    store.rate(chat.id, 2, -1, "that is not what the article says", "should_refuse")

    out = tmp_path / "feedback.jsonl"
    env = {**os.environ, "ASSISTANT_CHAT__HISTORY": str(tmp_path / "h.db")}
    bot.close()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "assistant"), "testset", "from-feedback", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "made 2 questions (1 unanswerable)" in done.stdout
    assert len([json.loads(line) for line in out.read_text().splitlines()]) == 2


def test_a_damaged_or_locked_store_is_a_one_line_error_everywhere(tmp_path: Path) -> None:
    """A damaged file gave `testset from-feedback` a 61-line traceback and the API a 500; a locked
    one a 500 after 10 s."""
    import sqlite3
    import time

    from assistant import ConversationStoreError

    damaged = tmp_path / "damaged.sqlite3"
    damaged.write_bytes(b"this is not a database " * 200)
    with pytest.raises(ConversationStoreError, match="is damaged or unreadable .* move it aside"):
        ConversationStore(damaged).list()
    done = subprocess.run(
        [str(Path(sys.executable).parent / "assistant"), "testset", "from-feedback", str(tmp_path / "out.jsonl")],
        capture_output=True,
        text=True,
        env={**os.environ, "ASSISTANT_CHAT__HISTORY": str(damaged)},
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "damaged" in done.stderr

    locked = tmp_path / "locked.sqlite3"
    store = ConversationStore(locked)
    store.create("kept")
    holder = sqlite3.connect(locked)
    holder.execute("BEGIN EXCLUSIVE")
    other = ConversationStore(locked)
    started = time.monotonic()
    with pytest.raises(ConversationStoreError, match="is locked by another program"):
        other.create("blocked")
    assert time.monotonic() - started < 6
    holder.rollback()
    holder.close()
    assert [c.title for c in other.list()] == ["kept"]
