"""Saved conversations: SQLite in the user data folder, one row per turn holding the whole Answer.

A turn keeps the :class:`Answer` as JSON, so its citations, their passages and offsets come back
exactly as they were shown, whatever the index holds by then. A turn can be rated (👍 +1 / 👎 -1)
with a comment; :func:`feedback_testset` turns rated turns into a test set. The store is safe to use
from several threads (one connection under a lock) and several processes (SQLite's own locking,
WAL journal). Ids are random, titles and comments bounded; an unknown id is a clear
:class:`ConversationNotFoundError`.
"""

from __future__ import annotations

import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from assistant.answering.answer import Answer
from index import AssistantError

MAX_TITLE = 200
MAX_COMMENT = 2000
BUSY_TIMEOUT_S = 3.0  # a store locked by another program waits this long, then says so
_ID = re.compile(r"^[0-9a-f]{16}$")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, created REAL NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS turns (
    conversation TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, question TEXT NOT NULL, answer TEXT NOT NULL, created REAL NOT NULL,
    rating INTEGER, comment TEXT NOT NULL DEFAULT '', reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (conversation, position));
"""
# what was wrong with a 👎 answer (the chat asks): it decides what the test set makes of it
REASONS = ("wrong", "incomplete", "should_refuse", "should_answer")


class ConversationNotFoundError(AssistantError):
    """No conversation (or turn) has the given id."""

    http_status = 404


class ConversationStoreError(AssistantError):
    """The conversations file is damaged, unreadable or locked; the message says which, in one line."""


@dataclass(frozen=True)
class Turn:
    """One question and its answer, with the user's rating (+1, -1 or None) and comment."""

    position: int
    answer: Answer
    rating: int | None = None
    comment: str = ""
    reason: str = ""  # for a 👎: one of REASONS, or "" (not said)

    @property
    def question(self) -> str:
        return self.answer.question


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: float
    updated: float
    turns: list[Turn] = field(default_factory=list)

    def history(self) -> list[tuple[str, str]]:
        """(question, answer text) pairs, for follow-up questions."""
        return [(t.answer.question, t.answer.text) for t in self.turns]


SOURCES_LINE = "\n\nSources:"  # where a chat front end's copy of an answer starts listing its sources


def with_sources(answer: Answer) -> str:
    """The answer text and a numbered list of its sources, as a chat front end shows it (and as
    :func:`read_chat` reads it back: the list is cut off at :data:`SOURCES_LINE`)."""
    lines = [answer.text]
    if answer.citations:
        lines.append(SOURCES_LINE.removeprefix("\n"))
        lines += [f"[{c.marker}] {c.heading}" for c in answer.citations]
    return "\n".join(lines)


def message_text(content: object) -> str:
    """The text of an OpenAI-style message's ``content``: a string, or a list of parts of which the
    ``{"type": "text", "text": ...}`` ones count."""
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        ).strip()
    return content if isinstance(content, str) else ""


def read_chat(messages: list[dict[str, object]]) -> tuple[str, list[tuple[str, str]]]:
    """The question (the last message's text) and the earlier (question, answer) turns of an
    OpenAI-style chat (``{"role": "user" | "assistant" | "system", "content": ...}``); an answer's
    appended source list is cut off, system messages are skipped."""
    turns: list[tuple[str, str]] = []
    pending: str | None = None
    for m in messages[:-1]:
        if m.get("role") == "user":
            pending = message_text(m.get("content"))
        elif m.get("role") == "assistant" and pending is not None:
            turns.append((pending, message_text(m.get("content")).split(SOURCES_LINE)[0]))
            pending = None
    return (message_text(messages[-1].get("content")) if messages else ""), turns


class ConversationStore:
    """The conversations in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                if self._db is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    db = sqlite3.connect(self.path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
                    try:
                        db.execute("PRAGMA journal_mode=WAL")
                        db.execute("PRAGMA foreign_keys=ON")
                        db.executescript(_SCHEMA)
                        columns = {row[1] for row in db.execute("PRAGMA table_info(turns)")}
                        if "reason" not in columns:  # a store made before 👎 asked what was wrong
                            db.execute("ALTER TABLE turns ADD COLUMN reason TEXT NOT NULL DEFAULT ''")
                    except BaseException:
                        db.close()
                        raise
                    self._db = db
                with self._db:  # one transaction
                    yield self._db
            except sqlite3.OperationalError as e:
                if "locked" in str(e) or "busy" in str(e):
                    raise ConversationStoreError(
                        f"the conversations store {self.path} is locked by another program ({e}); try again"
                    ) from None
                raise ConversationStoreError(f"the conversations store {self.path} cannot be used: {e}") from None
            except (sqlite3.DatabaseError, OSError) as e:
                raise ConversationStoreError(
                    f"the conversations store {self.path} is damaged or unreadable ({e}); move it aside "
                    "(a new one is made) or set chat.history"
                ) from None

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    @staticmethod
    def valid_id(conversation_id: object) -> bool:
        """Whether ``conversation_id`` has the shape of an id (16 hex digits)."""
        return isinstance(conversation_id, str) and bool(_ID.match(conversation_id))

    @classmethod
    def _check(cls, conversation_id: str) -> str:
        if not cls.valid_id(conversation_id):
            raise ConversationNotFoundError(f"no conversation {conversation_id!r}")
        return conversation_id

    @staticmethod
    def new_id() -> str:
        """A fresh conversation id (a client may hold one before the conversation is saved)."""
        return secrets.token_hex(8)

    def create(self, title: str = "", conversation_id: str | None = None) -> Conversation:
        """A new conversation (with ``conversation_id``, one from :meth:`new_id`, when given)."""
        now = time.time()
        ident = self._check(conversation_id) if conversation_id else self.new_id()
        conversation = Conversation(ident, _title(title), now, now)
        with self._connection() as db:
            db.execute(
                "INSERT INTO conversations VALUES (?, ?, ?, ?)",
                (conversation.id, conversation.title, conversation.created, conversation.updated),
            )
        return conversation

    def updated(self, conversation_id: str) -> float | None:
        """When the conversation last got a turn (None: no such conversation); one small query."""
        if not self.valid_id(conversation_id):
            return None
        with self._connection() as db:
            row = db.execute("SELECT updated FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
        return None if row is None else float(row[0])

    def exists(self, conversation_id: str) -> bool:
        return self.updated(conversation_id) is not None

    def list(self) -> list[Conversation]:
        """Every conversation, most recently updated first (without their turns)."""
        with self._connection() as db:
            rows = db.execute("SELECT id, title, created, updated FROM conversations ORDER BY updated DESC").fetchall()
        return [Conversation(*row) for row in rows]

    def get(self, conversation_id: str) -> Conversation:
        """A conversation with its turns, in order."""
        self._check(conversation_id)
        with self._connection() as db:
            row = db.execute(
                "SELECT id, title, created, updated FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if row is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id!r}")
            turns = db.execute(
                "SELECT position, answer, rating, comment, reason FROM turns WHERE conversation = ? ORDER BY position",
                (conversation_id,),
            ).fetchall()
        return Conversation(*row, [Turn(p, Answer.from_json(a), r, c, why) for p, a, r, c, why in turns])

    def add(self, conversation_id: str, answer: Answer) -> Turn:
        """Append a turn; a conversation without a title is named after its first question."""
        self._check(conversation_id)
        now = time.time()
        with self._connection() as db:
            row = db.execute("SELECT title FROM conversations WHERE id = ?", (conversation_id,)).fetchone()
            if row is None:
                raise ConversationNotFoundError(f"no conversation {conversation_id!r}")
            (last,) = db.execute(
                "SELECT COALESCE(MAX(position), -1) FROM turns WHERE conversation = ?", (conversation_id,)
            ).fetchone()
            db.execute(
                "INSERT INTO turns (conversation, position, question, answer, created) VALUES (?, ?, ?, ?, ?)",
                (conversation_id, last + 1, answer.question, answer.to_json(), now),
            )
            title = row[0] or _title(answer.question)
            db.execute("UPDATE conversations SET updated = ?, title = ? WHERE id = ?", (now, title, conversation_id))
        return Turn(last + 1, answer)

    def replace_last(self, conversation_id: str, answer: Answer) -> Turn:
        """Put ``answer`` in place of the last turn (regenerate, or edit and resend the last question)."""
        self._check(conversation_id)
        with self._connection() as db:
            (last,) = db.execute(
                "SELECT MAX(position) FROM turns WHERE conversation = ?", (conversation_id,)
            ).fetchone()
            if last is None:
                raise ConversationNotFoundError(f"conversation {conversation_id!r} has no turn to replace")
            db.execute(
                "UPDATE turns SET question = ?, answer = ?, created = ?, rating = NULL, comment = '' "
                "WHERE conversation = ? AND position = ?",
                (answer.question, answer.to_json(), time.time(), conversation_id, last),
            )
            db.execute("UPDATE conversations SET updated = ? WHERE id = ?", (time.time(), conversation_id))
        return Turn(last, answer)

    def rename(self, conversation_id: str, title: str) -> None:
        self._check(conversation_id)
        with self._connection() as db:
            done = db.execute("UPDATE conversations SET title = ? WHERE id = ?", (_title(title), conversation_id))
        if done.rowcount == 0:
            raise ConversationNotFoundError(f"no conversation {conversation_id!r}")

    def delete(self, conversation_id: str) -> None:
        self._check(conversation_id)
        with self._connection() as db:
            done = db.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,))
        if done.rowcount == 0:
            raise ConversationNotFoundError(f"no conversation {conversation_id!r}")

    def rate(
        self, conversation_id: str, position: int, rating: int | None, comment: str = "", reason: str = ""
    ) -> None:
        """Rate a turn: +1 (good), -1 (bad) or None (no rating), with an optional comment and, for
        -1, what was wrong (one of :data:`REASONS`)."""
        self._check(conversation_id)
        if rating not in (1, -1, None):
            raise ValueError("a rating is +1, -1 or None")
        if reason and (rating != -1 or reason not in REASONS):
            raise ValueError(f"a reason goes with a -1 rating and is one of {', '.join(REASONS)}")
        with self._connection() as db:
            done = db.execute(
                "UPDATE turns SET rating = ?, comment = ?, reason = ? WHERE conversation = ? AND position = ?",
                (rating, comment[:MAX_COMMENT], reason, conversation_id, int(position)),
            )
        if done.rowcount == 0:
            raise ConversationNotFoundError(f"conversation {conversation_id!r} has no turn {position}")

    def rated(self) -> list[Turn]:
        """Every rated turn, oldest first."""
        with self._connection() as db:
            rows = db.execute(
                "SELECT position, answer, rating, comment, reason FROM turns WHERE rating IS NOT NULL ORDER BY created"
            ).fetchall()
        return [Turn(p, Answer.from_json(a), r, c, why) for p, a, r, c, why in rows]


def _title(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1].rstrip() + "…"
