"""The commands that change or check the index: ingest, remove, check, info."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from assistant.cli.common import (
    BaseUrlOption,
    EngineChoice,
    EngineOption,
    IndexOption,
    ModelOption,
    NoWaitOption,
    app,
    cli_settings,
    fail,
    open_assistant,
    quiet_environment,
    waiting,
)
from assistant.wording import counted


@app.command(
    epilog="Exit status: 0 every file was ingested; 3 some files failed (the rest was ingested); "
    "1 nothing could be ingested; 2 bad settings, or the index is busy (--no-wait) or damaged; "
    "130 interrupted (what was finished is saved: run the same command again to continue)."
)
def ingest(
    paths: Annotated[
        list[str],
        typer.Argument(
            metavar="PATH|URL",
            help="Article files or folders (txt, md, html, json, jsonl, pdf), or http(s) URLs of feeds (RSS, "
            "Atom) or pages, remembered as sources for `assistant refresh`.",
        ),
    ],
    index: IndexOption = None,
    no_wait: NoWaitOption = False,
    store: Annotated[
        str | None,
        typer.Option(
            "--store",
            metavar="URI",
            help="Where a new index keeps vectors and keyword postings: a Milvus Lite file (….db) or "
            "milvus://host:port (default: FAISS files in the index folder).",
        ),
    ] = None,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Split and embed with Ray: 'local' starts Ray on this machine, or a Ray cluster's address.",
        ),
    ] = None,
) -> None:
    """Add articles to the index (created if missing). Unreadable files and failing URLs are reported and skipped."""
    from assistant import Assistant, AssistantError

    settings = cli_settings({"index": {"store": store}} if store else None)
    try:
        # the URLs this machine's user typed may be on a private host (an intranet, a local test server)
        bot, report = Assistant.ingest(
            paths, index, settings, progress=True, wait=not no_wait, on_wait=waiting, ray=ray, trusted=True
        )
    except KeyboardInterrupt:
        where = index or settings.index_dir()
        typer.secho(
            f"interrupted; index {where} keeps what was finished (run the same command to continue)",
            fg=typer.colors.YELLOW,
            err=True,
        )
        raise typer.Exit(130) from None
    except AssistantError as e:
        for failure in getattr(getattr(e, "report", None), "failures", ()):
            typer.secho(f"skipped {failure}", fg=typer.colors.YELLOW, err=True)
        raise fail(str(e)) from e
    for failure in report.failures:
        typer.secho(f"skipped {failure}", fg=typer.colors.YELLOW, err=True)
    holds = counted(bot.index.manifest.articles, "article")
    typer.echo(f"{report.summary()}; index {bot.index.directory} now holds {holds}")
    if report.failures:
        raise typer.Exit(3 if (report.added or report.replaced or report.unchanged) else 1)


@app.command()
def remove(
    ids: Annotated[list[str], typer.Argument(metavar="ID", help="Article ids (or record ids, URLs, paths).")],
    index: IndexOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Remove articles and their passages from the index."""
    from assistant import AssistantError

    bot = open_assistant(index)
    try:
        removed = bot.remove(ids, wait=not no_wait, on_wait=waiting)
    except AssistantError as e:
        raise fail(str(e)) from e
    typer.echo(f"removed {counted(len(removed), 'article')}: {' '.join(removed) or '-'}")
    if len(removed) < len(ids):
        typer.secho(
            f"{counted(len(ids) - len(removed), 'id')} not found in the index", fg=typer.colors.YELLOW, err=True
        )
        raise typer.Exit(1)


@app.command()
def check(index: IndexOption = None) -> None:
    """Verify the index: every file against its recorded checksum, passages against vectors (exit 1: damaged)."""
    from assistant import AssistantError, Settings
    from assistant.checks import check_index

    quiet_environment()
    directory = index or Settings.from_env().index_dir()
    try:
        found = check_index(directory)  # checks sizes, checksums and consistency
    except AssistantError as e:
        raise fail(str(e), 1) from e
    note = "" if found.files else " (made before checksums were recorded: the next save records them)"
    typer.echo(
        f"index {directory} ({found.generation}) is sound: {found.files} file(s) match their checksums{note}; "
        f"{counted(found.articles, 'article')}, {counted(found.passages, 'passage')}"
    )


@app.command()
def info(
    index: IndexOption = None, engine: EngineOption = None, model: ModelOption = None, base_url: BaseUrlOption = None
) -> None:
    """Show index statistics and the answer engine, model and prompt version."""
    bot = open_assistant(index, **EngineChoice(engine, model, base_url).sections())
    typer.echo(json.dumps(bot.info().to_dict(), indent=2))
    bot.close()
