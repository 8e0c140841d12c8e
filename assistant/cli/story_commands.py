"""The commands about stories over time: digest (what's new) and story (one story's timeline)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.cli.common import IndexOption, app, fail, open_assistant

AsOfOption = Annotated[
    str | None,
    typer.Option(
        "--as-of", metavar="DATE", help="As of this day (YYYY-MM-DD; default today): later articles are not used."
    ),
]


@app.command()
def digest(
    since: Annotated[
        str | None,
        typer.Option(
            metavar="DAY",
            help="From this day: YYYY-MM-DD, 'yesterday' (the default), 'N days' or 'last refresh' (the day the "
            "sources were last fetched).",
        ),
    ] = None,
    as_of: AsOfOption = None,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print the digest as JSON.")] = False,
) -> None:
    """What's new: the stories with new reports, each told by its newest report's first sentence, cited."""
    import json

    from assistant import AssistantError

    bot = open_assistant(index)
    try:
        result = bot.digest(since, as_of)
    except AssistantError as e:
        raise fail(str(e)) from e
    finally:
        bot.close()
    typer.echo(json.dumps(result.to_dict(), indent=2, ensure_ascii=False) if as_json else result.text())


@app.command()
def story(
    article: Annotated[
        str, typer.Argument(metavar="ID", help="An article id (or record id, URL or path) of the story.")
    ],
    as_of: AsOfOption = None,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print the Answer as JSON.")] = False,
) -> None:
    """The timeline of the story an article belongs to: one cited line per report, oldest first."""
    from assistant import AssistantError

    bot = open_assistant(index)
    try:
        answer = bot.story(article, as_of)
    except AssistantError as e:
        raise fail(str(e)) from e
    finally:
        bot.close()
    if as_json:
        typer.echo(answer.to_json())
        return
    typer.echo(answer.text)
    typer.secho(answer.note, dim=True)
    typer.echo("\nSources:")
    for c in answer.citations:
        typer.echo(f"[{c.marker}] {c.heading}")
