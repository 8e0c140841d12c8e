"""The Gradio chat app: a thin adapter over the public ``assistant`` API.

``build_app(assistant)`` returns the ``gr.Blocks``; ``launch`` serves it on 127.0.0.1 with sharing
and analytics off. Article text always goes through ``html.escape`` before it reaches the page.
"""

from __future__ import annotations

import dataclasses
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import Answer, Assistant, AssistantError, Citation
from assistant.core import sample_testset_path
from assistant.settings import use_offline_environment
from index import Article, Filters, LoadFailure, load_paths

if TYPE_CHECKING:
    import gradio as gr

_CSS = """
.source-card {border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px;}
.source-card .meta {font-size: 0.85em; color: #57606a; margin-bottom: 6px;}
.source-card .passage {white-space: pre-wrap; font-size: 0.92em; line-height: 1.45;}
.source-card mark {background: #fff3b0; padding: 0 1px;}
"""


def _meta(c: Citation) -> str:
    parts = [html.escape(x) for x in (c.source, c.date) if x]
    if c.url.startswith(("http://", "https://")):
        parts.append(f'<a href="{html.escape(c.url, quote=True)}" target="_blank" rel="noopener">link</a>')
    return " · ".join(parts)


def _passage_html(c: Citation) -> str:
    """The passage, escaped, with its supporting sentences in <mark>."""
    out, pos = [], 0
    for start, end in sorted(c.highlights()):
        out.append(html.escape(c.passage[pos:start]))
        out.append(f"<mark>{html.escape(c.passage[start:end])}</mark>")
        pos = end
    out.append(html.escape(c.passage[pos:]))
    return "".join(out)


def render_sources(answer: Answer | None) -> str:
    """HTML for the sources panel: numbered cited passages, or the nearest ones after a refusal."""
    if answer is None:
        return "<p><em>Sources of the latest answer appear here.</em></p>"
    cards = answer.citations if answer.answered else answer.related
    heading = "Sources" if answer.answered else "Nearest passages (they don't answer the question)"
    rows = [f"<h3>{heading}</h3>"]
    for i, c in enumerate(cards, start=1):
        label = f"[{c.marker}]" if answer.answered else f"{i}."
        rows.append(
            f'<div class="source-card" data-marker="{c.marker}"><div><strong>{label} '
            f'{html.escape(c.title or "Untitled")}</strong></div><div class="meta">{_meta(c)}</div>'
            f'<div class="passage">{_passage_html(c)}</div></div>'
        )
    if len(rows) == 1:
        rows.append("<p><em>No passages.</em></p>")
    return "\n".join(rows)


def _message_text(content: Any) -> str:
    """Text of a chat message: Gradio 6 sends a list of parts like {"type": "text", "text": ...}."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text", ""))
    if isinstance(content, list):
        return " ".join(_message_text(part) for part in content).strip()
    return ""


def history_pairs(history: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(question, answer) pairs from Gradio's messages-style chat history."""
    pairs: list[tuple[str, str]] = []
    question = None
    for message in history:
        text = _message_text(message.get("content"))
        if message.get("role") == "user":
            question = text
        elif message.get("role") == "assistant" and question is not None:
            pairs.append((question, text))
            question = None
    return pairs


def parse_filters(sources: str = "", since: str = "", until: str = "") -> Filters:
    """Filters from the UI's text boxes: comma-separated sources, YYYY-MM-DD dates."""
    names = tuple(s.strip() for s in (sources or "").split(",") if s.strip())
    return Filters(sources=names, since=(since or "").strip() or None, until=(until or "").strip() or None)


def respond(
    assistant: Assistant, message: str, history: list[dict[str, Any]] | None, filters: Filters | None = None
) -> tuple[list, str, str]:
    """Chat handler: returns the new history, the sources panel and an empty input box."""
    history = list(history or [])
    if not message or not message.strip():
        return history, render_sources(None), ""
    answer = assistant.ask(message, history_pairs(history), filters)
    history += [{"role": "user", "content": message}, {"role": "assistant", "content": answer.text}]
    return history, render_sources(answer), ""


def add_files(assistant: Assistant, files: list[str] | None) -> str:
    """Upload handler: add each file and report its result, one line per file."""
    lines = []
    for file in files or []:
        name = Path(file).name
        items: list[Article | LoadFailure] = []
        for item in load_paths([file]):
            if isinstance(item, Article) and item.key == str(Path(file).resolve()):
                item = dataclasses.replace(item, key=f"upload:{name}")  # the temp path means nothing
            items.append(item)
        report = assistant.add(items)
        if report.failures:
            lines.extend(f"- ✗ {html.escape(name)}: {html.escape(f.reason)}" for f in report.failures)
        if report.added or report.replaced or report.unchanged:
            lines.append(
                f"- ✓ {html.escape(name)}: {len(report.added)} added, {len(report.replaced)} replaced, "
                f"{len(report.unchanged)} already indexed ({report.passages} passages)"
            )
    info = assistant.info()
    lines.append(f"\nThe index holds {info['articles']} articles, {info['passages']} passages.")
    return "\n".join(lines)


def eval_runs_dir() -> Path:
    """Where the Evaluate tab writes its run folders (served to the browser, so allowed in launch)."""
    from assistant.settings import default_data_dir

    return default_data_dir() / "eval-runs"


def run_evaluation(assistant: Assistant, path: str | None) -> tuple[str, str, str | None]:
    """Evaluate a test set file: (Markdown summary, the report's body as HTML, report path)."""

    from assistant.evaluation import evaluate, new_run_dir
    from assistant.report import markdown

    if not path:
        return "Choose a test set file first.", "", None
    source = Path(path)
    run_dir = new_run_dir(eval_runs_dir(), source)
    try:
        result = evaluate(assistant, source, run_dir)
    except AssistantError as e:
        return f"**Could not evaluate {html.escape(source.name)}:** {html.escape(str(e))}", "", None
    page = (run_dir / "report.html").read_text(encoding="utf-8")
    body = page[page.index("<body>") + len("<body>") : page.rindex("</body>")]
    return markdown(result.config, result.summary) + f"\n\nRun folder: `{run_dir}`", body, str(run_dir / "report.html")


def build_app(assistant: Assistant) -> gr.Blocks:
    """The UI for ``assistant``: a Chat tab (chat, sources panel, article upload, filters) and an
    Evaluate tab (run a test set, show its report)."""
    use_offline_environment()
    try:
        import gradio as gr
    except ImportError as e:  # pragma: no cover
        raise ImportError("the web UI needs gradio: pip install 'gradio>=6'") from e

    info = assistant.info()
    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        gr.Markdown(
            "## News assistant\nAsk about the loaded articles. Every sentence of an answer "
            "cites its passage; open the sources on the right to check it."
        )
        with gr.Tab("Chat"):
            with gr.Row():
                with gr.Column(scale=3):
                    chatbot = gr.Chatbot(label="Chat", height=460, sanitize_html=True)
                    question = gr.Textbox(
                        label="Question", placeholder="What channels did the US use?", elem_id="question"
                    )
                    with gr.Row():
                        ask = gr.Button("Ask", variant="primary", elem_id="ask")
                        clear = gr.Button("Clear chat")
                with gr.Column(scale=2):
                    with gr.Accordion("Filters", open=False):
                        only_sources = gr.Textbox(label="Sources (comma-separated)", elem_id="filter-sources")
                        since = gr.Textbox(label="Since (YYYY-MM-DD)", elem_id="filter-since")
                        until = gr.Textbox(label="Until (YYYY-MM-DD)", elem_id="filter-until")
                    sources = gr.HTML(render_sources(None), elem_id="sources")
            with gr.Accordion("Add articles", open=False):
                files = gr.File(
                    label="Articles (txt, md, html, json, jsonl, pdf)",
                    file_count="multiple",
                    file_types=[".txt", ".md", ".html", ".htm", ".json", ".jsonl", ".pdf"],
                )
                report = gr.Markdown(
                    f"The index holds {info['articles']} articles, {info['passages']} passages.",
                    elem_id="upload-report",
                )

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

        def on_chat(
            message: str, history: list[dict[str, Any]], only: str = "", since: str = "", until: str = ""
        ) -> tuple[list, str, str]:
            return respond(assistant, message, history, parse_filters(only, since, until))

        def on_upload(paths: list[str] | None) -> str:
            return add_files(assistant, paths)

        def ask_json(question: str) -> str:
            """Answer one question; returns the Answer as JSON."""
            return assistant.ask(question).to_json()

        for trigger in (question.submit, ask.click):
            trigger(
                on_chat, [question, chatbot, only_sources, since, until], [chatbot, sources, question], api_name="chat"
            )
        clear.click(lambda: ([], render_sources(None)), None, [chatbot, sources], api_visibility="private")

        def on_evaluate(path: str | None) -> tuple[str, str, str | None]:
            return run_evaluation(assistant, path)

        run_uploaded.click(on_evaluate, testset, [eval_summary, eval_report, eval_file], api_name="evaluate")
        run_sample.click(
            lambda: on_evaluate(str(sample_testset_path())),
            None,
            [eval_summary, eval_report, eval_file],
            api_visibility="private",
        )
        files.upload(on_upload, files, report, api_name="upload")
        gr.api(ask_json, api_name="ask")
    return demo


def launch(assistant: Assistant, host: str = "127.0.0.1", port: int = 7860, block: bool = True) -> gr.Blocks:
    """Serve the app on ``host:port`` (never shared publicly)."""
    demo = build_app(assistant)
    demo.queue(default_concurrency_limit=1)  # one index writer/reader at a time
    demo.launch(
        server_name=host,
        server_port=port or None,
        share=False,
        inbrowser=False,
        prevent_thread_lock=not block,
        allowed_paths=[str(eval_runs_dir())],  # the report file offered for download
        css=_CSS,
        show_error=True,
    )
    return demo
