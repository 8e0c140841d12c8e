"""The Chat tab: saved conversations, the chat with its queue, stop, regenerate and edit, 👍/👎,
filters, the sources panel, and adding article files."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from assistant import Assistant, Filters, parse_day, question_window, sample_testset_path
from ui.chat import LiveChats, PageIds, View
from ui.gradio_import import import_gradio
from ui.render import header_text, render_sources
from ui.uploads import add_files, holding

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
    from assistant import load_testset

    cases = [c for c in load_testset(sample_testset_path()) if c.answerable]
    return [{"text": c.question} for c in cases[:count]]


def conversation_choices(chats: LiveChats) -> list[tuple[str, str]]:
    """(title · when, id) of the saved conversations, newest first, for the conversation picker
    (the time tells two of one title apart)."""
    return [
        (f"{c.title or 'New conversation'} · {datetime.fromtimestamp(c.updated):%Y-%m-%d %H:%M}", c.id)
        for c in chats.store.list()
    ]


def chat_tab(gr: Any, demo: gr.Blocks, assistant: Assistant, header: Any) -> None:
    """The Chat tab's components and events, inside ``demo`` (``header``: the page's header, updated
    after an upload)."""
    info = assistant.info()
    chats = LiveChats(assistant)
    page_ids = PageIds(chats.store.new_id)
    with gr.Tab("Chat"):
        # inside the tab: a component between tabs splits them into two strips
        conversation = gr.BrowserState("", storage_key="news-assistant-conversation")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, elem_id="chat-column"):
                with gr.Row(elem_id="conversation-bar"):
                    picker = gr.Dropdown(
                        conversation_choices(chats),
                        value=None,
                        label="Conversation (saved; a reload reopens it)",
                        show_label=False,
                        container=False,
                        elem_id="conversations",
                        scale=4,
                        min_width=160,
                    )
                    new_chat = gr.Button("New chat", elem_id="new-chat", scale=1, min_width=90)
                chatbot = gr.Chatbot(
                    label="Chat",
                    show_label=False,
                    sanitize_html=True,
                    elem_id="chat",
                    examples=example_questions(assistant) or None,
                    feedback_options=FEEDBACK_OPTIONS,
                )
                with gr.Row(elem_id="ask-row", equal_height=True):
                    question = gr.Textbox(
                        label="Question",
                        show_label=False,
                        container=False,
                        placeholder="Ask about the articles",
                        elem_id="question",
                        scale=6,
                        min_width=150,
                        max_lines=4,
                    )
                    ask = gr.Button("Ask", variant="primary", elem_id="ask", scale=0, min_width=64)
                    stop = gr.Button("Stop", elem_id="stop", scale=0, min_width=64)
                with gr.Row():
                    regenerate = gr.Button("Regenerate", elem_id="regenerate", size="sm")
                    edit = gr.Button("Edit last question", elem_id="edit-last", size="sm")
                engine = gr.Radio(
                    assistant.engines,
                    value=assistant.engine.name,
                    label="Answer engine",
                    visible=len(assistant.engines) > 1,
                    elem_id="engine",
                )
                with gr.Row():
                    comment = gr.Textbox(
                        label="Comment with your next 👍/👎 (optional; rated answers can become a test set: "
                        "👎 asks what was wrong)",
                        elem_id="feedback-comment",
                        scale=4,
                    )
                    feedback = gr.Markdown(elem_id="feedback-status")
                with gr.Accordion("Rename or delete this conversation", open=False):
                    with gr.Row():
                        new_title = gr.Textbox(label="New title", elem_id="new-title", scale=3)
                        rename = gr.Button("Rename", elem_id="rename", scale=1)
                        delete_chat = gr.Button("Delete conversation", variant="stop", elem_id="delete-chat", scale=1)
            with gr.Column(scale=2, elem_id="side-column"):
                with gr.Accordion("Filters", open=False):
                    only_sources = gr.Textbox(label="Sources (comma-separated)", elem_id="filter-sources")
                    since = gr.Textbox(label="Since (YYYY-MM-DD, or “last week”)", elem_id="filter-since")
                    until = gr.Textbox(label="Until (YYYY-MM-DD, or words)", elem_id="filter-until")
                    as_of = gr.DateTime(
                        label="As of (default: today; later articles are not used)",
                        include_time=False,
                        type="string",
                        elem_id="filter-as-of",
                    )
                with gr.Accordion("Add articles", open=False):
                    files = gr.File(
                        label="Articles (txt, md, html, json, jsonl, pdf)",
                        file_count="multiple",
                        file_types=[".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"],
                        elem_id="upload",
                    )
                    report = gr.Markdown(
                        holding(info),
                        elem_id="upload-report",
                    )
                # scrolls within itself (the page never scrolls to it): see render.CSS
                sources = gr.HTML(render_sources(None), elem_id="sources", autoscroll=False)
        api_chat = gr.Button("chat", visible=False)  # the /chat API endpoint (scripts), as before

    filter_boxes = [only_sources, since, until, engine, as_of]
    chat_outputs = [chatbot, sources, question, conversation, picker]

    def shown(view: View, first: bool = False, last: bool = False, box: str | None = None) -> tuple[Any, ...]:
        """The outputs for a view. The question box is left as it is (the browser emptied it when
        the question was sent, so what the user typed since is kept), or set to ``box``. The
        conversation list is read at a stream's start and end only."""
        listed = (
            gr.update(choices=conversation_choices(chats), value=known(view.conversation_id) or None)
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

    def stream_views(views: Iterator[View]) -> Iterator[tuple[Any, ...]]:
        """Each view as it comes (no look-ahead: a queued question must show at once), then the
        last again with the conversation list brought up to date."""
        last = None
        for n, view in enumerate(views):
            last = view
            yield shown(view, first=n == 0)
        if last is not None:
            yield shown(last, last=True)

    def ask_with_filters(
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
            gr.Warning(str(e))
            yield shown(chats.view(conversation_id), box=question)  # to ask again
            return
        yield from stream_views(chats.ask(conversation_id, question, filters, engine, replace_last=replace))

    def on_chat(
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
        replace = bool(replace and known(conversation_id) and chats.store.get(conversation_id).turns)
        boxes = (only, since, until, engine, as_of)
        if not conversation_id and message.strip():  # asked before the page's load gave it an id
            conversation_id = page_ids.on_question(request.session_hash if request else None)
        yield from ask_with_filters(conversation_id or "", message, boxes, replace)

    on_chat.__annotations__["request"] = gr.Request  # resolved, so Gradio passes the request

    def on_edit(conversation_id: str) -> tuple[Any, bool]:
        """Put the last question back in the box; the next question sent replaces that turn."""
        cid = known(conversation_id)
        turns = chats.store.get(cid).turns if cid else []
        return (turns[-1].question, True) if turns else (gr_noop(), False)

    def on_regenerate(
        conversation_id: str,
        only: str = "",
        since: str = "",
        until: str = "",
        engine: str | None = None,
        as_of: str | None = None,
    ) -> Iterator[tuple[Any, ...]]:
        conversation_id = known(conversation_id)
        turns = chats.store.get(conversation_id).turns if conversation_id else []
        if not turns:
            yield shown(chats.view(conversation_id))
            return
        boxes = (only, since, until, engine, as_of)
        yield from ask_with_filters(conversation_id, turns[-1].question, boxes, replace=True)

    def known(conversation_id: str | None) -> str:
        """The id if such a conversation is saved (a browser may remember a deleted one), else ""."""
        return conversation_id if conversation_id and chats.store.exists(conversation_id) else ""

    def on_open(conversation_id: str | None) -> tuple[Any, ...]:
        return shown(chats.view(known(conversation_id)), last=True)

    def on_restore(conversation_id: str | None, request: gr.Request | None = None) -> tuple[Any, ...]:
        """On page load: reopen the conversation this browser had open; with none, leave the page
        as it is (a question typed while the page loads must not be wiped)."""
        listed = gr.update(choices=conversation_choices(chats), value=known(conversation_id) or None)
        if not known(conversation_id):  # a new chat gets its id now, so every question of it is queued in it
            if chats.store.valid_id(conversation_id):  # the page's own new chat: a question may be saving it now
                return gr_noop(), gr_noop(), gr_noop(), gr_noop(), listed
            fresh = page_ids.on_load(request.session_hash if request else None)  # or an early question's
            return gr_noop(), gr_noop(), gr_noop(), fresh, listed
        view = chats.view(known(conversation_id))
        return view.messages, view.sources, gr_noop(), view.conversation_id, listed

    on_restore.__annotations__["request"] = gr.Request

    def on_like(conversation_id: str, note: str, data: gr.LikeData) -> tuple[str, str]:
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        position = int(index) // 2  # user and assistant messages alternate, saved turns first
        cid = known(conversation_id)
        if not cid or position >= len(chats.store.get(cid).turns):
            return "Only a finished answer can be rated.", note
        reason = FEEDBACK_REASONS.get(str(data.liked), "")
        rating = 1 if data.liked is True else None if data.liked is None else -1
        chats.store.rate(cid, position, rating, note or "", reason)
        said = {1: "👍", -1: "👎", None: "no rating"}[rating]
        done = f"Saved {said} for answer {position + 1}{' with your comment' if note else ''}"
        if rating == -1 and not reason and chats.store.get(cid).turns[position].answer.answered:
            return (
                f"{done}. What was wrong? Pick it under the ⚑ beside 👎: "
                + ", ".join(f"*{r}*" for r in FEEDBACK_REASONS)
                + " (a 👎 alone is left out of test sets made from ratings).",
                "",
            )
        return f"{done}{f' ({data.liked.lower()})' if reason else ''}.", ""

    on_like.__annotations__["data"] = gr.LikeData  # resolved, so Gradio passes the event

    def on_new() -> tuple[Any, ...]:
        return shown(chats.view(chats.store.new_id()), last=True)

    def on_rename(conversation_id: str, title: str) -> tuple[Any, str]:
        if known(conversation_id):
            chats.store.rename(conversation_id, title)
        return gr.update(choices=conversation_choices(chats), value=known(conversation_id) or None), ""

    def on_delete_chat(conversation_id: str) -> tuple[Any, ...]:
        if not known(conversation_id):  # nothing saved, or the user said no: the chat stays as it is
            return gr_noop(), gr_noop(), gr_noop(), gr_noop(), gr_noop()
        chats.store.delete(conversation_id)
        return shown(chats.view(chats.store.new_id()), last=True)

    def on_upload(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        def step(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Adding {name}", unit="files")

        def waiting(message: str) -> None:
            progress(0, desc=f"Waiting: {message}")

        return add_files(assistant, paths, step, waiting), header_text(assistant.info())

    def on_stop(conversation_id: str) -> None:
        """End the answer being written (the stream says so in the chat and saves nothing)."""
        if known(conversation_id):
            chats.stop(conversation_id)

    editing = gr.State(False)
    chat_inputs = [question, conversation, *filter_boxes, editing]
    # "multiple": a question asked while an answer streams starts its own event, which waits in the
    # conversation's queue (ui/chat.py) instead of being ignored. The box is emptied in the browser
    # as the question leaves (CLEAR_QUESTION), never by the server: keys typed meanwhile are kept.
    sending = {"trigger_mode": "multiple", "api_visibility": "private", "js": CLEAR_QUESTION}
    asked = [
        question.submit(on_chat, chat_inputs, chat_outputs, **sending),  # type: ignore[arg-type]
        ask.click(on_chat, chat_inputs, chat_outputs, **sending),  # type: ignore[arg-type]
    ]
    api_chat.click(on_chat, chat_inputs, chat_outputs, api_name="chat")  # scripts: /chat, as before
    asked.append(regenerate.click(on_regenerate, [conversation, *filter_boxes], chat_outputs, api_visibility="private"))

    def on_example(data: gr.SelectData) -> str:
        return str(data.value["text"] if isinstance(data.value, dict) else data.value)

    on_example.__annotations__["data"] = gr.SelectData  # resolved, so Gradio passes the event
    picked = chatbot.example_select(on_example, None, question, api_visibility="private")
    asked.append(picked.then(on_chat, chat_inputs, chat_outputs, api_visibility="private", js=CLEAR_QUESTION))
    for event in asked[:2]:  # an edit is used once
        event.then(lambda: False, None, editing, api_visibility="private")
    edit.click(on_edit, conversation, [question, editing], api_visibility="private")
    stop.click(on_stop, conversation, None, api_visibility="private", queue=False)
    picker.input(on_open, picker, chat_outputs, api_visibility="private")
    new_chat.click(on_new, None, chat_outputs, api_visibility="private")
    chatbot.clear(on_new, None, chat_outputs, api_visibility="private")
    chatbot.like(on_like, [conversation, comment], [feedback, comment], api_visibility="private")
    rename.click(on_rename, [conversation, new_title], [picker, new_title], api_visibility="private")
    delete_chat.click(on_delete_chat, conversation, chat_outputs, api_visibility="private", js=CONFIRM_DELETE)
    # a reload (or a second tab) reopens the conversation this browser had open
    demo.load(on_restore, conversation, chat_outputs, api_visibility="private")

    files.upload(on_upload, files, [report, header], api_name="upload", concurrency_id="writes")
