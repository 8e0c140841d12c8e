"""The Evaluate tab: run a test set (uploaded, or the sample one) and read its report."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from assistant import Assistant, AssistantError
from assistant.evaluation import evaluate, new_run_dir
from assistant.samples_index import sample_testset_path
from assistant.settings import default_data_dir
from ui.uploads import uploaded


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


def evaluate_tab(gr: Any, assistant: Assistant) -> None:
    """The Evaluate tab's components and events, inside the open ``gr.Blocks``."""
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
