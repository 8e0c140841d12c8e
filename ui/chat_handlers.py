"""What the Chat tab does: its filters read, questions asked and streamed, conversations opened, made,
renamed, deleted, answers rated, answers stopped. :mod:`ui.chat_tab` lays the tab out and wires its
events to these handlers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from assistant import Assistant, Filters, parse_day, question_window
from assistant.samples_index import sample_testset_path
from ui.chat import LiveChats, PageIds, View
from ui.gradio_import import import_gradio

if TYPE_CHECKING:
    import gradio as gr


def parse_filters(sources: str = "", since: str = "", until: str = "", as_of: str | None = "") -> Filters:
    """Filters from the UI's boxes: comma-separated sources, the as-of day (the date picker's value;
    empty: today), and Since / Until as YYYY-MM-DD or as words read against the as-of day ("last
    week", "in March 2021", "this year": Since takes the window's first day, Until its last).
    Anything else is a ValueError that says what to write."""
    names = tuple(s.strip() for s in (sources or "").split(",") if s.strip())
    day = str(as_of or "").strip()[:10] or None
    try:
        reference = parse_day(day) if day else date.today()
    except ValueError as e:
        raise ValueError(f"As of: {e}") from None

    def read(label: str, text: str | None, end: int) -> str | None:
        text = (text or "").strip()
        if not text:
            return None
        try:
            return parse_day(text).isoformat()
        except ValueError:
            window = question_window(text, reference)
            if window is None:
                raise ValueError(
                    f"{label}: “{text}” is not a date; write YYYY-MM-DD, or words like “last week”, “this month”, "
                    "“in March 2021”"
                ) from None
            return window[end].isoformat()

    return Filters(sources=names, since=read("Since", since, 0), until=read("Until", until, 1), as_of=day)


# Run in the browser as a question is sent: take the sent question out of the box (Gradio sees an
# input event) and pass it on; keys typed after Enter, even before this ran, stay in the box.
CLEAR_QUESTION = """(question, ...rest) => {
  const box = document.querySelector("#question textarea");
  question = window.newsAssistantSent ?? question;  // the box as Enter was pressed (render.CHAT_SCRIPT)
  window.newsAssistantSent = undefined;
  if (box) {
    box.value = box.value.startsWith(question) ? box.value.slice(question.length).trimStart() : box.value;
    box.dispatchEvent(new Event("input", {bubbles: true}));
  }
  return [question, ...rest];
}"""
# A conversation is deleted only when the user confirms (its id is withheld otherwise).
CONFIRM_DELETE = '(id) => confirm("Delete this conversation and its rated answers? This cannot be undone.") ? id : ""'
# 👍 and 👎, and what was wrong (under Gradio's ⚑ beside them): each a rule of `testset from-feedback`
FEEDBACK_REASONS = {
    "Wrong": "wrong",
    "Incomplete": "incomplete",
    "Should have refused": "should_refuse",
    "Should have answered": "should_answer",
}
FEEDBACK_OPTIONS = ("Like", "Dislike", *FEEDBACK_REASONS)


def gr_noop() -> Any:
    """Leave an output as it is (Gradio's "no change" update)."""
    return import_gradio().skip()


def example_questions(assistant: Assistant, count: int = 3) -> list[dict[str, str]]:
    """Questions to click on an empty chat: for the bundled sample index, answerable questions of the
    sample test set (they fit its articles); for any other index none (a question written for other
    articles would be refused)."""
    if assistant.settings.index.directory is not None:
        return []
    from assistant.evaluation import load_testset

    cases = [c for c in load_testset(sample_testset_path()) if c.answerable]
    return [{"text": c.question} for c in cases[:count]]


def conversation_choices(chats: LiveChats) -> list[tuple[str, str]]:
    """(title · when, id) of the saved conversations, newest first, for the conversation picker
    (the time tells two of one title apart)."""
    return [
        (f"{c.title or 'New conversation'} · {datetime.fromtimestamp(c.updated):%Y-%m-%d %H:%M}", c.id)
        for c in chats.store.list()
    ]


class ChatHandlers:
    """What the Chat tab's events do, over one assistant: each event's handler is a method (the
    components are wired to them in :func:`chat_tab`)."""

    def __init__(self, gr: Any, assistant: Assistant) -> None:
        self.gr = gr
        self.assistant = assistant
        self.chats = LiveChats(assistant)
        self.page_ids = PageIds(self.chats.store.new_id)

    def shown(self, view: View, first: bool = False, last: bool = False, box: str | None = None) -> tuple[Any, ...]:
        """The outputs for a view. The question box is left as it is (the browser emptied it when
        the question was sent, so what the user typed since is kept), or set to ``box``. The
        conversation list is read at a stream's start and end only."""
        listed = (
            self.gr.update(choices=conversation_choices(self.chats), value=self.known(view.conversation_id) or None)
            if first or last
            else gr_noop()
        )
        return (
            view.messages,
            gr_noop() if view.sources is None else view.sources,
            gr_noop() if box is None else box,
            view.conversation_id,
            listed,
        )

    def stream_views(self, views: Iterator[View]) -> Iterator[tuple[Any, ...]]:
        """Each view as it comes (no look-ahead: a queued question must show at once), then the
        last again with the conversation list brought up to date."""
        last = None
        for n, view in enumerate(views):
            last = view
            yield self.shown(view, first=n == 0)
        if last is not None:
            yield self.shown(last, last=True)

    def ask_with_filters(
        self,
        conversation_id: str,
        question: str,
        boxes: tuple[str, str, str, str | None, str | None],
        replace: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """Answer ``question`` with the filter boxes read; one they can't read is said at once and
        the question stays in its box to ask again."""
        only, since, until, engine, as_of = boxes
        try:
            filters = parse_filters(only, since, until, as_of)
        except ValueError as e:
            self.gr.Warning(str(e))
            yield self.shown(self.chats.view(conversation_id), box=question)  # to ask again
            return
        yield from self.stream_views(self.chats.ask(conversation_id, question, filters, engine, replace_last=replace))

    def on_chat(
        self,
        message: str,
        conversation_id: str,
        only: str = "",
        since: str = "",
        until: str = "",
        engine: str | None = None,
        as_of: str | None = None,
        replace: bool = False,
        request: gr.Request | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        # after "Edit last question", the edited question takes the last turn's place
        replace = bool(replace and self.known(conversation_id) and self.chats.store.get(conversation_id).turns)
        boxes = (only, since, until, engine, as_of)
        if not conversation_id and message.strip():  # asked before the page's load gave it an id
            conversation_id = self.page_ids.on_question(request.session_hash if request else None)
        yield from self.ask_with_filters(conversation_id or "", message, boxes, replace)

    def on_edit(self, conversation_id: str) -> tuple[Any, bool]:
        """Put the last question back in the box; the next question sent replaces that turn."""
        cid = self.known(conversation_id)
        turns = self.chats.store.get(cid).turns if cid else []
        return (turns[-1].question, True) if turns else (gr_noop(), False)

    def on_regenerate(
        self,
        conversation_id: str,
        only: str = "",
        since: str = "",
        until: str = "",
        engine: str | None = None,
        as_of: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        conversation_id = self.known(conversation_id)
        turns = self.chats.store.get(conversation_id).turns if conversation_id else []
        if not turns:
            yield self.shown(self.chats.view(conversation_id))
            return
        boxes = (only, since, until, engine, as_of)
        yield from self.ask_with_filters(conversation_id, turns[-1].question, boxes, replace=True)

    def known(self, conversation_id: str | None) -> str:
        """The id if such a conversation is saved (a browser may remember a deleted one), else ""."""
        return conversation_id if conversation_id and self.chats.store.exists(conversation_id) else ""

    def on_open(self, conversation_id: str | None) -> tuple[Any, ...]:
        return self.shown(self.chats.view(self.known(conversation_id)), last=True)

    def on_restore(self, conversation_id: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """On page load: reopen the conversation this browser had open; with none, leave the page
        as it is (a question typed while the page loads must not be wiped)."""
        listed = self.gr.update(choices=conversation_choices(self.chats), value=self.known(conversation_id) or None)
        if not self.known(conversation_id):  # a new chat gets its id now, so every question of it is queued in it
            if self.chats.store.valid_id(conversation_id):  # the page's own new chat: a question may be saving it now
                return gr_noop(), gr_noop(), gr_noop(), gr_noop(), listed
            fresh = self.page_ids.on_load(request.session_hash if request else None)  # or an early question's
            return gr_noop(), gr_noop(), gr_noop(), fresh, listed
        view = self.chats.view(self.known(conversation_id))
        return view.messages, view.sources, gr_noop(), view.conversation_id, listed

    def on_like(self, conversation_id: str, note: str, data: gr.LikeData) -> tuple[str, str]:
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        position = int(index) // 2  # user and self.assistant messages alternate, saved turns first
        cid = self.known(conversation_id)
        if not cid or position >= len(self.chats.store.get(cid).turns):
            return "Only a finished answer can be rated.", note
        reason = FEEDBACK_REASONS.get(str(data.liked), "")
        rating = 1 if data.liked is True else None if data.liked is None else -1
        self.chats.store.rate(cid, position, rating, note or "", reason)
        said = {1: "👍", -1: "👎", None: "no rating"}[rating]
        done = f"Saved {said} for answer {position + 1}{' with your comment' if note else ''}"
        if rating == -1 and not reason and self.chats.store.get(cid).turns[position].answer.answered:
            return (
                f"{done}. What was wrong? Pick it under the ⚑ beside 👎: "
                + ", ".join(f"*{r}*" for r in FEEDBACK_REASONS)
                + " (a 👎 alone is left out of test sets made from ratings).",
                "",
            )
        return f"{done}{f' ({data.liked.lower()})' if reason else ''}.", ""

    def on_new(self) -> tuple[Any, ...]:
        return self.shown(self.chats.view(self.chats.store.new_id()), last=True)

    def on_rename(self, conversation_id: str, title: str) -> tuple[Any, str]:
        if self.known(conversation_id):
            self.chats.store.rename(conversation_id, title)
        return self.gr.update(choices=conversation_choices(self.chats), value=self.known(conversation_id) or None), ""

    def on_delete_chat(self, conversation_id: str) -> tuple[Any, ...]:
        if not self.known(conversation_id):  # nothing saved, or the user said no: the chat stays as it is
            return gr_noop(), gr_noop(), gr_noop(), gr_noop(), gr_noop()
        self.chats.store.delete(conversation_id)
        return self.shown(self.chats.view(self.chats.store.new_id()), last=True)

    def on_stop(self, conversation_id: str) -> None:
        """End the answer being written (the stream says so in the chat and saves nothing)."""
        if self.known(conversation_id):
            self.chats.stop(conversation_id)

    def on_example(self, data: Any) -> str:
        return str(data.value["text"] if isinstance(data.value, dict) else data.value)
