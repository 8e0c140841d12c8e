"""The Articles tab: the collection (search, page, delete) and the feeds and pages to fetch."""

from __future__ import annotations

import math
import re
from typing import Any

from assistant import ArticlePage, Assistant, AssistantError, is_url
from assistant.wording import counted
from ui.render import escape_markdown, header_text
from ui.uploads import holding, report_lines

ARTICLES_PER_PAGE = 20


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
    return article_rows(shown), f"{counted(shown.total, 'article')} {what} · page {number} of {pages}", number


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
    return f"Deleted {counted(len(removed), 'article')}." + (
        f" {counted(missing, 'id')} not in the index." if missing else ""
    )


def add_source(assistant: Assistant, url: str) -> str:
    """Fetch a feed or page a user typed and remember it as a source. The server fetches it, so the
    address guard applies (no loopback, private or metadata address unless ``sources.allow_private``)."""
    url = (url or "").strip()
    if not is_url(url) or len(url) > 2048:
        return "Type the http(s) address of a feed (RSS, Atom) or a page."
    try:
        report = assistant.web.add([url])
    except AssistantError as e:
        return f"Could not fetch: {escape_markdown(str(e))}"
    lines = report_lines(url, report.ingest)
    lines.append(f"\n{holding(assistant.info())}")
    return "\n".join(lines)


def forget_source(assistant: Assistant, url: str, with_articles: bool) -> str:
    """Forget a remembered feed or page (it is refreshed no more); with ``with_articles`` also delete
    the articles it brought (asked, not assumed: they may be worth keeping)."""
    url = (url or "").strip()
    if not url:
        return "Type the address of a feed or page from the list below."
    try:
        removed = assistant.web.remove(url, articles=with_articles)
    except AssistantError as e:
        return f"Could not forget it: {escape_markdown(str(e))}"
    kept = (
        f" and deleted its {counted(len(removed), 'article')}" if with_articles else " (its articles stay in the index)"
    )
    return f"Forgot {escape_markdown(url)}{kept}.\n\n{holding(assistant.info())}"


def sources_text(assistant: Assistant) -> str:
    """The remembered feeds and pages, one line each (plain text: every field escaped)."""
    rows = assistant.web.list()
    if not rows:
        return "No feeds or pages yet."
    return "\n".join(
        f"- {escape_markdown(r.title or r.url)} ({escape_markdown(r.url)}): {r.kind or '?'}, "
        f"{counted(r.articles, 'article')}, "
        f"{escape_markdown(r.status)}"
        for r in rows
    )


def articles_tab(gr: Any, demo: Any, assistant: Assistant, header: Any) -> None:
    """The Articles tab's components and events, inside ``demo``; a delete updates ``header`` (the
    article count), and every page load lists the collection as it is now."""
    with gr.Tab("Articles") as tab:
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
        with gr.Row():
            source_url = gr.Textbox(
                label="Add a feed or URL", placeholder="https://…/feed.xml", elem_id="source-url", scale=3
            )
            fetch = gr.Button("Fetch", elem_id="fetch-source", scale=1)
        source_status = gr.Markdown(elem_id="source-status")
        source_list = gr.Markdown(elem_id="source-list")
        with gr.Row():
            forget_url = gr.Textbox(label="Feed or page to forget (its address)", elem_id="forget-url", scale=3)
            forget_articles = gr.Checkbox(label="and delete its articles", elem_id="forget-articles", scale=1)
            forget = gr.Button("Forget", variant="stop", elem_id="forget-source", scale=1)
        forget_status = gr.Markdown(elem_id="forget-status")

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

    def on_fetch(url: str, query: str, page: float | None) -> tuple[str, list[list[Any]], str, int, str, str, str]:
        status = add_source(assistant, url)
        rows, line, number = list_articles(assistant, query, page)
        return status, rows, line, number, "", header_text(assistant.info()), sources_text(assistant)

    def on_forget(
        url: str, with_articles: bool, query: str, page: float | None
    ) -> tuple[str, list[list[Any]], str, int, str, str, str]:
        status = forget_source(assistant, url, bool(with_articles))
        rows, line, number = list_articles(assistant, query, page)
        return status, rows, line, number, "", header_text(assistant.info()), sources_text(assistant)

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
    fetched = [source_status, article_table, article_status, article_page, source_url, header, source_list]
    for trigger in (fetch.click, source_url.submit):
        trigger(on_fetch, [source_url, *listing], fetched, api_visibility="private", concurrency_id="writes")
    forgotten = [forget_status, article_table, article_status, article_page, forget_url, header, source_list]
    forget.click(
        on_forget,
        [forget_url, forget_articles, *listing],
        forgotten,
        api_visibility="private",
        concurrency_id="writes",
    )
    # opening the tab lists the collection as it is now (an upload in the Chat tab, another process)
    tab.select(
        lambda q, n: (header_text(assistant.info()), *on_articles(q, n), sources_text(assistant)),
        listing,
        [header, *listed, source_list],
        api_visibility="private",
    )
    # every page load shows the collection as it is now (another process may have changed it)
    demo.load(
        lambda: (header_text(assistant.info()), *on_articles("", 1), sources_text(assistant)),
        None,
        [header, *listed, source_list],
        api_visibility="private",
    )
