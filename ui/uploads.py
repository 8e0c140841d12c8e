"""Adding article files through the web UI (the Chat tab's "Add articles"): only files that came
through Gradio's upload route are read, each reported in one line, and what the index holds after."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from assistant import Assistant, AssistantError, AssistantInfo, IngestReport
from assistant.wording import counted
from ui.render import escape_markdown


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
    """Upload handler: check each file, add the good ones in one ingest (one write lock, one new
    generation for the batch: 20 files published 20), and report each file's result in one line.
    ``step`` hears (files checked, files, name) before each file; ``on_wait`` that another writer
    holds the index."""
    limit = assistant.settings.ui.max_upload_mb
    lines, accepted = [], []
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
        accepted.append((file, name))
    if accepted:
        try:
            report, read = assistant.add_uploads(accepted, on_wait=on_wait)
        except AssistantError as e:
            lines += [f"- ✗ {escape_markdown(name)}: {escape_markdown(str(e))}" for _, name in accepted]
        else:
            for _, name in accepted:
                lines += report_lines(name, of_file(report, name, set(read.get(name, []))), name)
            lines.append(f"\n{counted(report.passages, 'passage')} indexed.")
    lines.append(f"\n{holding(assistant.info())}")
    return "\n".join(lines)


def of_file(report: IngestReport, name: str, ids: set[str]) -> IngestReport:
    """The part of a batch's report about one file: its articles' ids and its failures."""
    return IngestReport(
        added=[i for i in report.added if i in ids],
        replaced=[(old, new) for old, new in report.replaced if new in ids],
        merged=[(copy, holder) for copy, holder in report.merged if copy in ids],
        unchanged=[i for i in report.unchanged if i in ids],
        failures=[f for f in report.failures if f.location == name or f.location.startswith(f"{name}:")],
    )


def report_lines(name: str, report: IngestReport, failed_as: str | None = None) -> list[str]:
    """One ✗ line per failure (named ``failed_as``, else by its location) and one ✓ line for ``name``."""
    lines = [f"- ✗ {escape_markdown(failed_as or f.location)}: {escape_markdown(f.reason)}" for f in report.failures]
    if report.added or report.replaced or report.unchanged or report.merged:
        merged = f"{len(report.merged)} kept as a copy of an indexed article, " if report.merged else ""
        lines.append(
            f"- ✓ {escape_markdown(name)}: {len(report.added)} added, {len(report.replaced)} replaced, "
            f"{merged}{len(report.unchanged)} already indexed"
            + (f" ({counted(report.passages, 'passage')})" if report.passages else "")
        )
    return lines


def holding(info: AssistantInfo) -> str:
    """What the index holds, in words."""
    copies = f" (and {info.copies} near-identical copies listed with them)" if info.copies else ""
    return f"The index holds {counted(info.articles, 'article')}{copies}, {counted(info.passages, 'passage')}."
