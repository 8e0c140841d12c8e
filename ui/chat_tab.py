"""The Chat tab's layout: saved conversations, the chat with its queue, stop, regenerate and edit,
👍/👎, filters, the sources panel, and adding article files; its events go to
:class:`ui.chat_handlers.ChatHandlers`."""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from assistant import Assistant
from ui.chat_handlers import (
    CLEAR_QUESTION,
    CONFIRM_DELETE,
    FEEDBACK_OPTIONS,
    ChatHandlers,
    conversation_choices,
    example_questions,
)
from ui.render import header_text, render_sources
from ui.stories_view import story_panel, wire_story_panel
from ui.uploads import add_files, holding

if TYPE_CHECKING:
    import gradio as gr


def chat_tab(gr: Any, demo: gr.Blocks, assistant: Assistant, header: Any) -> None:
    """The Chat tab's components and events, inside ``demo`` (``header``: the page's header, updated
    after an upload)."""
    handlers = ChatHandlers(gr, assistant)
    # Gradio passes a request or an event to a handler whose parameter is annotated with its class
    ChatHandlers.on_chat.__annotations__["request"] = gr.Request
    ChatHandlers.on_restore.__annotations__["request"] = gr.Request
    ChatHandlers.on_like.__annotations__["data"] = gr.LikeData
    ChatHandlers.on_example.__annotations__["data"] = gr.SelectData
    with gr.Tab("Chat"):
        c = _components(gr, assistant, handlers)
    _wire(gr, demo, assistant, header, handlers, c)


def _components(gr: Any, assistant: Assistant, handlers: ChatHandlers) -> SimpleNamespace:
    """The tab's components, laid out (called inside the tab), by name."""
    info = assistant.info()
    # inside the tab: a component between tabs splits them into two strips
    conversation = gr.BrowserState("", storage_key="news-assistant-conversation")
    with gr.Row(equal_height=False):
        with gr.Column(scale=3, elem_id="chat-column"):
            with gr.Row(elem_id="conversation-bar"):
                picker = gr.Dropdown(
                    conversation_choices(handlers.chats),
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
            story = story_panel(gr)
            # scrolls within itself (the page never scrolls to it): see render.CSS
            sources = gr.HTML(render_sources(None), elem_id="sources", autoscroll=False)
    api_chat = gr.Button("chat", visible=False)  # the /chat API endpoint (scripts), as before
    return SimpleNamespace(**{k: v for k, v in locals().items() if k not in ("gr", "assistant", "handlers", "info")})


def _wire(gr: Any, demo: Any, assistant: Assistant, header: Any, handlers: ChatHandlers, c: SimpleNamespace) -> None:
    """The tab's events: each component to its handler."""
    filter_boxes = [c.only_sources, c.since, c.until, c.engine, c.as_of]
    chat_outputs = [c.chatbot, c.sources, c.question, c.conversation, c.picker]

    def on_upload(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
        def step(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"Adding {name}", unit="files")

        def waiting(message: str) -> None:
            progress(0, desc=f"Waiting: {message}")

        return add_files(assistant, paths, step, waiting), header_text(assistant.info())

    editing = gr.State(False)
    chat_inputs = [c.question, c.conversation, *filter_boxes, editing]
    # "multiple": a question asked while an answer streams starts its own event, which waits in the
    # conversation's queue (ui/chat.py) instead of being ignored. The box is emptied in the browser
    # as the question leaves (CLEAR_QUESTION), never by the server: keys typed meanwhile are kept.
    sending = {"trigger_mode": "multiple", "api_visibility": "private", "js": CLEAR_QUESTION}
    asked = [
        c.question.submit(handlers.on_chat, chat_inputs, chat_outputs, **sending),  # type: ignore[arg-type]
        c.ask.click(handlers.on_chat, chat_inputs, chat_outputs, **sending),  # type: ignore[arg-type]
    ]
    c.api_chat.click(handlers.on_chat, chat_inputs, chat_outputs, api_name="chat")  # scripts: /chat, as before
    asked.append(
        c.regenerate.click(
            handlers.on_regenerate, [c.conversation, *filter_boxes], chat_outputs, api_visibility="private"
        )
    )

    picked = c.chatbot.example_select(handlers.on_example, None, c.question, api_visibility="private")
    asked.append(picked.then(handlers.on_chat, chat_inputs, chat_outputs, api_visibility="private", js=CLEAR_QUESTION))
    for event in asked[:2]:  # an edit is used once
        event.then(lambda: False, None, editing, api_visibility="private")
    c.edit.click(handlers.on_edit, c.conversation, [c.question, editing], api_visibility="private")
    c.stop.click(handlers.on_stop, c.conversation, None, api_visibility="private", queue=False)
    c.picker.input(handlers.on_open, c.picker, chat_outputs, api_visibility="private")
    c.new_chat.click(handlers.on_new, None, chat_outputs, api_visibility="private")
    c.chatbot.clear(handlers.on_new, None, chat_outputs, api_visibility="private")
    c.chatbot.like(handlers.on_like, [c.conversation, c.comment], [c.feedback, c.comment], api_visibility="private")
    c.rename.click(handlers.on_rename, [c.conversation, c.new_title], [c.picker, c.new_title], api_visibility="private")
    c.delete_chat.click(
        handlers.on_delete_chat, c.conversation, chat_outputs, api_visibility="private", js=CONFIRM_DELETE
    )
    # a reload (or a second tab) reopens the conversation this browser had open
    demo.load(handlers.on_restore, c.conversation, chat_outputs, api_visibility="private")

    c.files.upload(on_upload, c.files, [c.report, header], api_name="upload", concurrency_id="writes")
    wire_story_panel(gr, assistant, c.story, c.conversation, c.as_of)
