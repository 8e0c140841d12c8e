"""The commands for web sources: sources (list, remove) and refresh."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import IndexOption, app, fail, open_assistant
from assistant.wording import counted


@app.command()
def sources(
    index: IndexOption = None,
    remove: Annotated[str | None, typer.Option("--remove", metavar="URL", help="Forget this feed or page.")] = None,
    articles: Annotated[
        bool, typer.Option("--articles", help="With --remove: remove the articles it brought too.")
    ] = False,
) -> None:
    """List the feeds and pages the index remembers (added with `assistant ingest URL`), with their status."""
    from assistant import AssistantError

    bot = open_assistant(index)
    try:
        if remove is not None:
            removed = bot.web.remove(remove, articles=articles)
            kept = "" if articles else " (its articles stay; --articles removes them)"
            typer.echo(f"forgot {remove}{kept}; removed {counted(len(removed), 'article')}")
            return
        rows = bot.web.list()
        if not rows:
            typer.echo("no web sources; add one with `assistant ingest https://…/feed.xml`")
        for r in rows:
            retry = f", retried after {r.retry_after}" if r.retry_after else ""
            typer.echo(
                f"{r.url}\n    {r.kind or '?'} · {r.title or 'untitled'} · {counted(r.articles, 'article')} · "
                f"{r.status} "
                f"(fetched {r.fetched_at or 'never'}{retry})"
            )
    except AssistantError as e:
        raise fail(str(e)) from e
    finally:
        bot.close()


@app.command(epilog="Exit status: 0 every source refreshed; 3 some failed (the others were refreshed).")
def refresh(
    urls: Annotated[
        list[str] | None, typer.Argument(metavar="[URL]...", help="Only these sources (default: all).")
    ] = None,
    index: IndexOption = None,
) -> None:
    """Fetch the remembered feeds and pages again: conditional requests, only entries not seen before."""
    from assistant import AssistantError

    bot = open_assistant(index)
    try:
        report = bot.web.refresh(urls or None)
    except AssistantError as e:
        raise fail(str(e)) from e
    finally:
        bot.close()
    for s in report.sources:
        typer.echo(f"{s.url}: {s.status}" + (f", {s.new} new page(s)" if s.new else ""))
    for failure in report.ingest.failures:
        typer.secho(f"skipped {failure}", fg=typer.colors.YELLOW, err=True)
    typer.echo(report.summary())
    if any(s.status.startswith("failed") for s in report.sources):
        raise typer.Exit(3)
