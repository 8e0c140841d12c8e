"""The Gradio chat app: a thin adapter over the public ``assistant`` API.

``build_app(assistant)`` returns the ``gr.Blocks``; ``launch`` serves it on 127.0.0.1 with sharing
and analytics off, behind a Content-Security-Policy that loads nothing from another origin and a
check of the ``Host`` header (see :mod:`api.http`). Article text is never rendered: in the
chat every character that Markdown or HTML would act on is escaped, so the only links there are our
own citation links; the sources panel and the Articles tab escape it as HTML.
"""

from __future__ import annotations

import html
import math
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from api.http import PAGE_TOKEN_SCRIPT, BrowserGate, Server, access_key, allowed_hosts, harden
from assistant import (
    ArticlePage,
    Assistant,
    AssistantError,
    AssistantInfo,
    Filters,
    default_data_dir,
    evaluate,
    new_run_dir,
    parse_day,
    question_window,
    sample_testset_path,
    use_offline_environment,
)
from ui.chat import LiveChats, View
from ui.gradio_import import import_gradio
from ui.render import (
    CHAT_SCRIPT,
    CSS,
    escape_markdown,
    header_text,
    render_sources,
)

if TYPE_CHECKING:
    import gradio as gr

ARTICLES_PER_PAGE = 20


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
    """(title, id) of the saved conversations, newest first, for the conversation picker."""
    return [(c.title or "New conversation", c.id) for c in chats.store.list()]


def upload_folder() -> Path:
    """Where Gradio keeps the files users upload (``GRADIO_TEMP_DIR``, else ``<tmp>/gradio``)."""
    from gradio.utils import get_upload_folder

    return Path(get_upload_folder()).resolve()


def uploaded(file: str) -> bool:
    """Whether ``file`` is a regular file inside the upload folder (it came through the upload
    route): a handler never reads a path a client named (``FileData`` carries any path)."""
    path = Path(file).resolve()
    return path.is_relative_to(upload_folder()) and path.is_file()


def add_files(
    assistant: Assistant,
    files: list[str] | None,
    step: Callable[[int, int, str], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> str:
    """Upload handler: add each file and report its result, one line per file. ``step`` hears
    (files done, files, name) before each file; ``on_wait`` that another writer holds the index."""
    limit = assistant.settings.ui.max_upload_mb
    lines = []
    files = files or []
    for i, file in enumerate(files):
        name = Path(file).name
        if step is not None:
            step(i, len(files), name)
        if not uploaded(file):
            lines.append(
                f"- ✗ {escape_markdown(name)}: not an uploaded file (only files sent through the upload are read)"
            )
            continue
        size = Path(file).stat().st_size / 1e6
        if size > limit:
            lines.append(f"- ✗ {escape_markdown(name)}: {size:,.1f} MB, over the upload limit of {limit:,.1f} MB")
            continue
        try:
            report = assistant.add_upload(file, name, on_wait=on_wait)
        except AssistantError as e:
            lines.append(f"- ✗ {escape_markdown(name)}: {escape_markdown(str(e))}")
            continue
        lines.extend(f"- ✗ {escape_markdown(name)}: {escape_markdown(f.reason)}" for f in report.failures)
        if report.added or report.replaced or report.unchanged or report.merged:
            merged = f"{len(report.merged)} kept as a copy of an indexed article, " if report.merged else ""
            lines.append(
                f"- ✓ {escape_markdown(name)}: {len(report.added)} added, {len(report.replaced)} replaced, "
                f"{merged}{len(report.unchanged)} already indexed ({report.passages} passages)"
            )
    lines.append(f"\n{holding(assistant.info())}")
    return "\n".join(lines)


def holding(info: AssistantInfo) -> str:
    """What the index holds, in words."""
    copies = f" (and {info.copies} near-identical copies listed with them)" if info.copies else ""
    return f"The index holds {info.articles} articles{copies}, {info.passages} passages."


def article_rows(page: ArticlePage) -> list[list[Any]]:
    """Table rows (id, title, source, date, passages, also from: its copies' sources); cells are
    shown as plain text."""
    return [[r.id, r.title, r.source, r.date, r.passages, ", ".join(r.copies)] for r in page.rows]


def list_articles(assistant: Assistant, query: str = "", page: float | None = 1) -> tuple[list[list[Any]], str, int]:
    """The Articles tab: (rows of the page, a status line, the page shown, clamped to the pages)."""
    number = max(int(page or 1), 1)
    shown = assistant.articles(query or "", (number - 1) * ARTICLES_PER_PAGE, ARTICLES_PER_PAGE)
    pages = max(1, math.ceil(shown.total / ARTICLES_PER_PAGE))
    if number > pages:  # past the end (after deletes, or a typed page number): show the last page
        number = pages
        shown = assistant.articles(query or "", (number - 1) * ARTICLES_PER_PAGE, ARTICLES_PER_PAGE)
    what = f"matching “{escape_markdown(query)}”" if query else "in the index"
    return article_rows(shown), f"{shown.total} articles {what} · page {number} of {pages}", number


def delete_articles(assistant: Assistant, ids: str) -> str:
    """Remove the articles named (ids, record ids, URLs or paths, separated by spaces, commas or lines)."""
    wanted = [x for x in re.split(r"[\s,]+", ids or "") if x]
    if not wanted:
        return "Type or pick the id of an article to delete."
    try:
        removed = assistant.remove(wanted)
    except AssistantError as e:
        return f"Could not delete: {escape_markdown(str(e))}"
    missing = len(wanted) - len(removed)
    return f"Deleted {len(removed)} article(s)." + (f" {missing} id(s) were not in the index." if missing else "")


def eval_runs_dir() -> Path:
    """Where the Evaluate tab writes its run folders (served to the browser, so allowed in launch)."""
    return default_data_dir() / "eval-runs"


def run_evaluation(assistant: Assistant, path: str | None) -> tuple[str, str, str | None]:
    """Evaluate a test set file: (Markdown summary, the report's body as HTML, report path)."""
    if not path:
        return "Choose a test set file first.", "", None
    source = Path(path)
    run_dir = new_run_dir(eval_runs_dir(), source)
    try:
        result = evaluate(assistant, source, run_dir, progress=True)  # its tqdm bar shows in the tab
    except AssistantError as e:
        return f"**Could not evaluate {html.escape(source.name)}:** {html.escape(str(e))}", "", None
    # the report below holds the metrics table: the line above it only says what ran and where
    n = result.summary
    line = (
        f"Evaluated **{html.escape(source.name)}**: {n['questions']} questions, {n['answered']} answered, "
        f"{n['errors']} errors. Run folder: `{run_dir}`"
    )
    return line, result.html(), str(result.report_path)


def build_app(assistant: Assistant) -> gr.Blocks:
    """The UI for ``assistant``: a Chat tab (chat, sources panel, article upload, filters) and an
    Evaluate tab (run a test set, show its report)."""
    use_offline_environment()
    gr = import_gradio()

    info = assistant.info()
    chats = LiveChats(assistant)
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        header = gr.Markdown(header_text(info), elem_id="header")
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    with gr.Row():
                        picker = gr.Dropdown(
                            conversation_choices(chats),
                            value=None,
                            label="Conversations (saved; a reload reopens the open one)",
                            elem_id="conversations",
                            scale=4,
                        )
                        new_chat = gr.Button("New chat", elem_id="new-chat", scale=1)
                    with gr.Accordion("Rename or delete this conversation", open=False):
                        with gr.Row():
                            new_title = gr.Textbox(label="New title", elem_id="new-title", scale=3)
                            rename = gr.Button("Rename", elem_id="rename", scale=1)
                            delete_chat = gr.Button(
                                "Delete conversation", variant="stop", elem_id="delete-chat", scale=1
                            )
                    chatbot = gr.Chatbot(
                        label="Chat",
                        height=460,
                        sanitize_html=True,
                        elem_id="chat",
                        examples=example_questions(assistant) or None,
                    )
                    with gr.Row():
                        comment = gr.Textbox(
                            label="Comment with your next 👍/👎 (optional; rated answers can become a test set)",
                            elem_id="feedback-comment",
                            scale=4,
                        )
                        feedback = gr.Markdown(elem_id="feedback-status")
                    question = gr.Textbox(
                        label="Question (one asked while an answer is being written is queued)",
                        placeholder="What channels did the US use?",
                        elem_id="question",
                    )
                    engine = gr.Radio(
                        assistant.engines,
                        value=assistant.engine.name,
                        label="Answer engine",
                        visible=len(assistant.engines) > 1,
                        elem_id="engine",
                    )
                    with gr.Row():
                        ask = gr.Button("Ask", variant="primary", elem_id="ask")
                        stop = gr.Button("Stop", elem_id="stop")
                        regenerate = gr.Button("Regenerate", elem_id="regenerate")
                        edit = gr.Button("Edit last question", elem_id="edit-last")
                with gr.Column(scale=2):
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
                    sources = gr.HTML(render_sources(None), elem_id="sources")
            with gr.Accordion("Add articles", open=False):
                files = gr.File(
                    label="Articles (txt, md, html, json, jsonl, pdf)",
                    file_count="multiple",
                    file_types=[".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"],
                )
                report = gr.Markdown(
                    holding(info),
                    elem_id="upload-report",
                )

        with gr.Tab("Articles"):
            with gr.Row():
                article_query = gr.Textbox(label="Search titles, sources, dates, ids", elem_id="article-query", scale=3)
                article_page = gr.Number(value=1, label="Page", precision=0, minimum=1, elem_id="article-page", scale=1)
            article_table = gr.Dataframe(
                headers=["id", "title", "source", "date", "passages", "also from"],
                datatype=["str", "str", "str", "str", "number", "str"],
                interactive=False,
                wrap=True,
                elem_id="article-table",
            )
            article_status = gr.Markdown(elem_id="article-status")
            with gr.Row():
                delete_ids = gr.Textbox(
                    label="Article ids to delete (click a row to pick it)", elem_id="delete-ids", scale=3
                )
                delete = gr.Button("Delete", variant="stop", elem_id="delete", scale=1)
            delete_status = gr.Markdown(elem_id="delete-status")

        with gr.Tab("Evaluate"):
            gr.Markdown(
                "Run a test set (JSONL or CSV: `question`, optional `reference_answer`, "
                "`reference_article_ids`, `answerable`) through the assistant and read the report."
            )
            testset = gr.File(label="Test set (.jsonl, .csv)", file_types=[".jsonl", ".csv"], elem_id="testset")
            with gr.Row():
                run_uploaded = gr.Button("Evaluate this test set", elem_id="run-eval")
                run_sample = gr.Button("Evaluate the sample test set", elem_id="run-sample-eval")
            eval_summary = gr.Markdown(elem_id="eval-summary")
            eval_report = gr.HTML(elem_id="eval-report")
            eval_file = gr.File(label="Report (HTML)", interactive=False)

        conversation = gr.BrowserState("", storage_key="news-assistant-conversation")
        filter_boxes = [only_sources, since, until, engine, as_of]
        chat_outputs = [chatbot, sources, question, conversation, picker]

        def shown(view: View, first: bool = False, last: bool = False, asked: bool = True) -> tuple[Any, ...]:
            """The outputs for a view; ``asked``: after a question (its box is emptied; otherwise what
            the user is typing stays). The conversation list is read at a stream's start and end only."""
            listed = (
                gr.update(choices=conversation_choices(chats), value=known(view.conversation_id) or None)
                if first or last
                else gr_noop()
            )
            return (
                view.messages,
                gr_noop() if view.sources is None else view.sources,
                "" if asked else gr_noop(),
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
                yield shown(chats.view(conversation_id), asked=False)
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
        ) -> Iterator[tuple[Any, ...]]:
            # after "Edit last question", the edited question takes the last turn's place
            replace = bool(replace and known(conversation_id) and chats.store.get(conversation_id).turns)
            boxes = (only, since, until, engine, as_of)
            yield from ask_with_filters(conversation_id or "", message, boxes, replace)

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
            return shown(chats.view(known(conversation_id)), last=True, asked=False)

        def on_restore(conversation_id: str | None) -> tuple[Any, ...]:
            """On page load: reopen the conversation this browser had open; with none, leave the page
            as it is (a question typed while the page loads must not be wiped)."""
            listed = gr.update(choices=conversation_choices(chats), value=known(conversation_id) or None)
            if not known(conversation_id):  # a new chat gets its id now, so every question of it is queued in it
                return gr_noop(), gr_noop(), gr_noop(), chats.store.new_id(), listed
            view = chats.view(known(conversation_id))
            return view.messages, view.sources, gr_noop(), view.conversation_id, listed

        def on_like(conversation_id: str, note: str, data: gr.LikeData) -> tuple[str, str]:
            index = data.index[0] if isinstance(data.index, list | tuple) else data.index
            position = int(index) // 2  # user and assistant messages alternate, saved turns first
            cid = known(conversation_id)
            if not cid or position >= len(chats.store.get(cid).turns):
                return "Only a finished answer can be rated.", note
            rating = 1 if data.liked is True else -1 if data.liked is False else None
            chats.store.rate(cid, position, rating, note or "")
            said = {1: "👍", -1: "👎", None: "no rating"}[rating]
            return f"Saved {said} for answer {position + 1}{' with your comment' if note else ''}.", ""

        on_like.__annotations__["data"] = gr.LikeData  # resolved, so Gradio passes the event

        def on_new() -> tuple[Any, ...]:
            return shown(chats.view(chats.store.new_id()), last=True, asked=False)

        def on_rename(conversation_id: str, title: str) -> tuple[Any, str]:
            if known(conversation_id):
                chats.store.rename(conversation_id, title)
            return gr.update(choices=conversation_choices(chats), value=known(conversation_id) or None), ""

        def on_delete_chat(conversation_id: str) -> tuple[Any, ...]:
            if known(conversation_id):
                chats.store.delete(conversation_id)
            return shown(chats.view(chats.store.new_id()), last=True, asked=False)

        def on_upload(paths: list[str] | None, progress: gr.Progress = gr.Progress()) -> tuple[str, str]:  # noqa: B008
            def step(done: int, total: int, name: str) -> None:
                progress((done, total), desc=f"Adding {name}", unit="files")

            def waiting(message: str) -> None:
                progress(0, desc=f"Waiting: {message}")

            return add_files(assistant, paths, step, waiting), header_text(assistant.info())

        def on_articles(query: str, page: float | None) -> tuple[list[list[Any]], str, int]:
            return list_articles(assistant, query, page)

        def on_delete(ids: str, query: str, page: float | None) -> tuple[str, list[list[Any]], str, int, str, str]:
            status = delete_articles(assistant, ids)
            rows, line, number = list_articles(assistant, query, page)
            return status, rows, line, number, "", header_text(assistant.info())

        def on_pick(rows: Any, event: gr.SelectData) -> str:
            row = event.index[0] if isinstance(event.index, list | tuple) else event.index
            try:
                return str(rows.iloc[row, 0]) if hasattr(rows, "iloc") else str(rows[row][0])
            except (IndexError, KeyError, TypeError):
                return ""

        on_pick.__annotations__["event"] = gr.SelectData  # resolved, so Gradio passes the event

        def ask_json(question: str) -> str:
            """Answer one question; returns the Answer as JSON."""
            return assistant.ask(question).to_json()

        editing = gr.State(False)
        chat_inputs = [question, conversation, *filter_boxes, editing]
        asked = [
            # "multiple": a question asked while an answer streams starts its own event, which waits
            # in the conversation's queue (ui/chat.py) instead of being ignored
            question.submit(on_chat, chat_inputs, chat_outputs, api_name="chat", trigger_mode="multiple"),
            ask.click(on_chat, chat_inputs, chat_outputs, api_visibility="private", trigger_mode="multiple"),
        ]
        asked.append(
            regenerate.click(on_regenerate, [conversation, *filter_boxes], chat_outputs, api_visibility="private")
        )

        def on_example(data: gr.SelectData) -> str:
            return str(data.value["text"] if isinstance(data.value, dict) else data.value)

        on_example.__annotations__["data"] = gr.SelectData  # resolved, so Gradio passes the event
        picked = chatbot.example_select(on_example, None, question, api_visibility="private")
        asked.append(picked.then(on_chat, chat_inputs, chat_outputs, api_visibility="private"))
        for event in asked[:2]:  # an edit is used once
            event.then(lambda: False, None, editing, api_visibility="private")
        edit.click(on_edit, conversation, [question, editing], api_visibility="private")
        stop.click(None, None, None, cancels=asked, api_visibility="private")
        picker.input(on_open, picker, chat_outputs, api_visibility="private")
        new_chat.click(on_new, None, chat_outputs, api_visibility="private")
        chatbot.clear(on_new, None, chat_outputs, api_visibility="private")
        chatbot.like(on_like, [conversation, comment], [feedback, comment], api_visibility="private")
        rename.click(on_rename, [conversation, new_title], [picker, new_title], api_visibility="private")
        delete_chat.click(on_delete_chat, conversation, chat_outputs, api_visibility="private")
        # a reload (or a second tab) reopens the conversation this browser had open
        demo.load(on_restore, conversation, chat_outputs, api_visibility="private")

        def on_evaluate(
            path: str | None,
            progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 (a question at a time)
        ) -> tuple[str, str, str | None]:
            if path and not uploaded(path):
                return "Only a test set sent through the upload is read.", "", None
            return run_evaluation(assistant, path)

        run_uploaded.click(on_evaluate, testset, [eval_summary, eval_report, eval_file], api_name="evaluate")

        def on_sample_evaluate(
            progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
        ) -> tuple[str, str, str | None]:
            return run_evaluation(assistant, str(sample_testset_path()))

        run_sample.click(
            on_sample_evaluate,
            None,
            [eval_summary, eval_report, eval_file],
            api_visibility="private",
        )
        files.upload(on_upload, files, [report, header], api_name="upload", concurrency_id="writes")
        listing = [article_query, article_page]
        listed = [article_table, article_status, article_page]
        article_query.submit(lambda q: on_articles(q, 1), article_query, listed, api_visibility="private")
        article_page.submit(on_articles, listing, listed, api_visibility="private")
        delete.click(
            on_delete,
            [delete_ids, *listing],
            [delete_status, article_table, article_status, article_page, delete_ids, header],
            api_visibility="private",
            concurrency_id="writes",
        )
        article_table.select(on_pick, article_table, delete_ids, api_visibility="private")
        # every page load shows the collection as it is now (another process may have changed it)
        demo.load(
            lambda: (header_text(assistant.info()), *on_articles("", 1)),
            None,
            [header, *listed],
            api_visibility="private",
        )
        gr.api(ask_json, api_name="ask")
    return demo


def launch(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> Server:
    """Serve the app on ``host:port`` (never shared publicly), hardened as :func:`harden` and
    :class:`BrowserGate` say: no other web page can call it, uploads are read only from the upload
    folder, and beyond loopback every visitor logs in with the API key (``api.api_key_env``; any
    user name, the key as password). With ``block`` False, return the running :class:`Server`."""
    from fastapi import FastAPI
    from starlette.middleware.cors import CORSMiddleware

    gr = import_gradio()

    settings = assistant.settings.ui
    key_env = assistant.settings.api.api_key_env
    key = access_key(host, key_env, "the web UI", "visitors then log in with it as the password")
    assistant.warm_up()  # the first user does not wait for the models to load
    demo = build_app(assistant)
    # questions run side by side: each reads its own generation of the index, writers make a new one
    demo.queue(default_concurrency_limit=4)
    parent = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    # a CORS policy of our own that allows no other origin: Gradio then adds none of its own (it
    # would reflect any localhost origin, with credentials)
    parent.add_middleware(CORSMiddleware, allow_origins=[])
    app = gr.mount_gradio_app(
        parent,
        demo,
        path="",
        server_name=host,
        server_port=port,
        allowed_paths=[str(eval_runs_dir())],  # the report file offered for download
        css=CSS,
        head=PAGE_TOKEN_SCRIPT + CHAT_SCRIPT,
        show_error=True,
        max_file_size=int(settings.max_upload_mb * 1_000_000),
        auth=(lambda _user, password: secrets.compare_digest(password.encode(), key.encode())) if key else None,
        auth_message=f"Log in with the key in {key_env} as the password (any user name).",
    )
    # mount_gradio_app never marks the Blocks launched, and Gradio skips its own checks of a
    # FileData path (only files in the upload folder) until it is: turned on here
    demo.has_launched = True
    app.add_middleware(BrowserGate)
    harden(app, allowed_hosts(host, settings.allowed_hosts))
    server = Server(app, host, port).start()
    if block:
        print(f"News assistant at {server.url} (Ctrl-C stops it)")
        server.wait()
    return server
