"""The chat's conversations, kept on the server: saved turns, the answer being written, the questions
waiting for it.

A question is never dropped: one asked while an answer is being written waits in its
conversation's queue (shown as "queued" in the chat) and is answered after it, with the finished
answer as history. Every view of a conversation is rendered from the saved turns
(:class:`~assistant.ConversationStore`) plus what is in flight, so a reload, a second tab or a second
question's stream all show the same chat.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant import Answer, Assistant, AssistantError, Filters, Finished, Retrieved, Rewritten, Token
from ui.render import escape_markdown, render_all_sources, render_answer, render_retrieved, render_writing

QUEUED = "*(queued: answered after the answer being written)*"
STOPPED = "(stopped before the answer was finished; nothing was saved: ask again or regenerate)"


@dataclass
class Room:
    """What is in flight in one conversation."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    queued: list[str] = field(default_factory=list)
    writing: tuple[str, str] | None = None  # the question being answered and the text so far
    failed: tuple[str, str] | None = None  # the last question that could not be answered, and why
    replacing: bool = False  # the answer being written takes the last saved turn's place
    stopping: bool = False  # the user pressed Stop: the answer being written ends at its next step
    saved: tuple[float, list[Answer]] | None = None  # the saved answers, as of the conversation's last update


@dataclass(frozen=True)
class View:
    """A conversation as the UI shows it: chat messages, the sources panel, its id."""

    messages: list[dict[str, Any]]
    sources: str | None  # None: leave the panel as it is (while words stream in)
    conversation_id: str


class LiveChats:
    """The conversations of one assistant, with their in-flight state."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant
        self.store = assistant.conversations
        self._guard = threading.Lock()
        self._rooms: dict[str, Room] = {}

    def room(self, conversation_id: str) -> Room:
        with self._guard:
            return self._rooms.setdefault(conversation_id, Room())

    def answers(self, conversation_id: str) -> list[Answer]:
        """The saved answers, read from the store only when the conversation changed (a view is
        rendered for every streamed word)."""
        stamp = self.store.updated(conversation_id)
        if stamp is None:
            return []
        room = self.room(conversation_id)
        with self._guard:
            saved = room.saved
        if saved is not None and saved[0] == stamp:
            return saved[1]
        answers = [t.answer for t in self.store.get(conversation_id).turns]
        with self._guard:
            room.saved = (stamp, answers)
        return answers

    def messages(self, conversation_id: str, answers: list[Answer]) -> list[dict[str, Any]]:
        """The chat: saved turns, then the answer being written, then the queued questions."""
        out: list[dict[str, Any]] = []
        with self._guard:  # a view never makes a room (a page load holds a fresh id it may never use)
            room = self._rooms.get(conversation_id)
            replacing = room is not None and room.replacing
        if answers and replacing:
            answers = answers[:-1]  # regenerated or edited: shown as the answer being written
        for n, answer in enumerate(answers, start=1):
            out.append({"role": "user", "content": escape_markdown(answer.question)})
            out.append({"role": "assistant", "content": render_answer(answer, n)})
        if room is not None:
            with self._guard:
                writing, queued, failed = room.writing, list(room.queued), room.failed
            if failed is not None:
                out.append({"role": "user", "content": escape_markdown(failed[0])})
                out.append({"role": "assistant", "content": escape_markdown(failed[1])})
            if writing is not None:
                out.append({"role": "user", "content": escape_markdown(writing[0])})
                out.append({"role": "assistant", "content": render_writing(writing[1])})
            for question in queued:
                out.append({"role": "user", "content": escape_markdown(question)})
                out.append({"role": "assistant", "content": QUEUED})
        return out

    def view(self, conversation_id: str, sources: str | None = None, keep_sources: bool = False) -> View:
        """The conversation now; the sources panel shows ``sources``, or every answer's sources."""
        answers = self.answers(conversation_id)
        if not keep_sources and sources is None:
            sources = render_all_sources(answers)
        return View(self.messages(conversation_id, answers), sources, conversation_id)

    def stop(self, conversation_id: str) -> bool:
        """Stop the answer being written in the conversation (queued questions stay queued); its
        stream ends at its next step, shows that it was stopped and saves nothing. False when no
        answer is being written."""
        with self._guard:
            room = self._rooms.get(conversation_id)
            if room is None or room.writing is None:
                return False
            room.stopping = True
            return True

    def ask(
        self,
        conversation_id: str,
        question: str,
        filters: Filters | None = None,
        engine: str | None = None,
        replace_last: bool = False,
    ) -> Iterator[View]:
        """Answer ``question`` in the conversation (a new one when the id is empty), after any answer
        being written; yields the view as it changes, and saves the turn (in place of the last one
        with ``replace_last``: regenerate)."""
        question = question.strip()
        if not question:
            yield self.view(conversation_id)
            return
        if not self.store.exists(conversation_id):  # a new chat: the id the page holds, or a fresh one
            fresh = conversation_id if self.store.valid_id(conversation_id) else None
            conversation_id = self.store.create(conversation_id=fresh).id
        room = self.room(conversation_id)
        with self._guard:
            room.queued.append(question)
        try:
            yield self.view(conversation_id)
            with room.lock:
                with self._guard:
                    room.queued.remove(question)
                    room.writing, room.failed, room.replacing = (question, ""), None, replace_last
                    room.stopping = False
                yield from self._answer(conversation_id, room, question, filters, engine, replace_last)
        finally:  # also when the user stops it (the generator is closed)
            with self._guard:
                if question in room.queued:
                    room.queued.remove(question)
                if room.writing is not None and room.writing[0] == question:
                    room.writing, room.replacing = None, False

    def _answer(
        self,
        conversation_id: str,
        room: Room,
        question: str,
        filters: Filters | None,
        engine: str | None,
        replace_last: bool,
    ) -> Iterator[View]:
        turns = self.store.get(conversation_id).history()
        history = turns[:-1] if replace_last else turns
        query, written = question, ""
        events = self.assistant.stream(question, history, filters, engine=engine or None)
        try:
            for event in events:
                with self._guard:
                    stopped, room.stopping = room.stopping, False
                if stopped:
                    with self._guard:
                        room.writing, room.replacing = None, False
                        room.failed = (question, STOPPED)
                    yield self.view(conversation_id)
                    return
                if isinstance(event, Rewritten):
                    query = event.query
                elif isinstance(event, Retrieved):
                    yield self.view(conversation_id, render_retrieved(query, event.passages))
                elif isinstance(event, Token):
                    written += event.text
                    with self._guard:
                        room.writing = (question, written)
                    yield self.view(conversation_id, keep_sources=True)
                elif isinstance(event, Finished):
                    save = self.store.replace_last if replace_last else self.store.add
                    save(conversation_id, event.answer)
                    with self._guard:
                        room.writing, room.replacing = None, False
                    yield self.view(conversation_id)
        except AssistantError as e:  # a misconfigured, unreachable or slow model: say so in the chat
            with self._guard:
                room.writing, room.replacing = None, False
                room.failed = (question, f"Could not answer: {e}")
            yield self.view(conversation_id)
        finally:
            events.close()


class PageIds:
    """The id of a new chat on a page that holds none yet, agreed between the page's load (which
    gives it one) and a question asked before that load answered: whichever comes first picks it,
    and the other uses it. (A question asked in the first moment after a page appeared went to one
    conversation and the next question to the one the load picked: it was never queued behind the
    first, and the chat showed only one of them.) Sessions that never load the page (API clients)
    get a fresh conversation for every question asked without an id, as before."""

    LIMIT = 10_000  # sessions remembered (oldest forgotten first)

    def __init__(self, fresh: Callable[[], str]) -> None:
        self._fresh = fresh
        self._lock = threading.Lock()
        self._loaded: OrderedDict[str, str] = OrderedDict()  # session -> id the page's load gave
        self._asked: OrderedDict[str, str] = OrderedDict()  # session -> id an early question took

    def on_load(self, session: str | None) -> str:
        """The id for a page loading with none: an early question's, else a fresh one."""
        if not session:
            return self._fresh()
        with self._lock:
            chosen = self._asked.get(session) or self._loaded.get(session) or self._fresh()
            self._remember(self._loaded, session, chosen)
            return chosen

    def on_question(self, session: str | None) -> str:
        """The id for a question asked without one: the page's, if its load picked one already."""
        if not session:
            return self._fresh()
        with self._lock:
            chosen = self._loaded.get(session) or self._fresh()
            self._remember(self._asked, session, chosen)
            return chosen

    def _remember(self, table: OrderedDict[str, str], session: str, chosen: str) -> None:
        table[session] = chosen
        table.move_to_end(session)
        while len(table) > self.LIMIT:
            table.popitem(last=False)
