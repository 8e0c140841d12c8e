"""The commands that answer: ask, serve (the chat UI), api (the HTTP API)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from assistant.cli.common import (
    BaseUrlOption,
    EngineChoice,
    EngineOption,
    HostOption,
    IndexOption,
    ModelOption,
    RefreshEveryOption,
    app,
    check_days,
    fail,
    open_assistant,
    quiet_environment,
    schedule,
)


@app.command()
def ask(
    question: Annotated[str, typer.Argument(metavar="QUESTION", help="The question.")],
    index: IndexOption = None,
    engine: EngineOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    as_json: Annotated[bool, typer.Option("--json", metavar="", help="Print the Answer as JSON.")] = False,
    mode: Annotated[
        str | None, typer.Option(metavar="MODE", help="Retrieval: dense, keyword or hybrid (default: hybrid).")
    ] = None,
    source: Annotated[
        list[str] | None, typer.Option(metavar="SOURCE", help="Only articles from this source (repeatable).")
    ] = None,
    since: Annotated[
        str | None, typer.Option(metavar="DATE", help="Only articles dated on or after YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(metavar="DATE", help="Only articles dated on or before YYYY-MM-DD.")
    ] = None,
    article: Annotated[
        list[str] | None, typer.Option(metavar="ID", help="Only this article id or record id (repeatable).")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="DATE",
            help="Ask as of this day (YYYY-MM-DD; default today): later articles are not used, 'last week' is "
            "read against it.",
        ),
    ] = None,
) -> None:
    """Answer a question from the indexed articles, with numbered sources."""
    from assistant import AssistantError, Filters, Finished, Token, load_nlp_in_background

    load_nlp_in_background()  # ~1 s of spaCy, while the index opens and the embedder loads
    bot = open_assistant(
        index, retrieval={"mode": mode} if mode else None, **EngineChoice(engine, model, base_url).sections()
    )
    bot.preload()  # the embedder's session and the answer model, beside spaCy's load
    check_days(since=since, until=until, as_of=as_of)
    filters = Filters(tuple(source or ()), since, until, tuple(article or ()), as_of)
    streaming = not as_json and sys.stdout.isatty() and bot.engine.name != "extractive"
    try:
        for event in bot.stream(question, filters=filters):
            if isinstance(event, Token) and streaming:
                typer.echo(event.text, nl=False)
            elif isinstance(event, Finished):
                answer = event.answer
    except AssistantError as e:
        typer.secho(f"\nerror: {e}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from e
    finally:
        bot.close()
    if as_json:
        typer.echo(answer.to_json())
        return
    if streaming:
        typer.echo("\n")  # the checked answer follows what was streamed
    if answer.short:
        typer.secho(f"{answer.short.text} [{answer.short.marker}]", bold=True)
    typer.echo(answer.text)
    if answer.note:  # what the question's time policy did: the latest report, a window, reports that differ
        typer.secho(answer.note, fg=typer.colors.CYAN)
    if answer.fallback:
        typer.secho(
            f"nothing the model wrote holds ({answer.draft}); the answer above is the sentences that most likely "
            "answer, taken from the articles",
            fg=typer.colors.YELLOW,
            err=True,
        )
    elif answer.draft:
        typer.secho(f"the model wrote, and no passage supports: {answer.draft}", fg=typer.colors.YELLOW, err=True)
    for s in answer.unverified:
        typer.secho(f"unverified (no passage supports it): {s.text}", fg=typer.colors.YELLOW, err=True)
    shown = answer.citations or answer.related
    if shown:
        typer.echo("\nSources:" if answer.citations else "\nNearest passages (they don't answer it):")
    for c in shown:
        head = c.heading
        typer.echo(f"[{c.marker}] {head}" if answer.citations else f"- {head}")
        typer.echo(f"    {c.passage[:300].replace(chr(10), ' ')}{'…' if len(c.passage) > 300 else ''}")


@app.command()
def serve(
    index: IndexOption = None,
    engine: EngineOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port (default: 7860).")] = None,
    refresh_every: RefreshEveryOption = None,
) -> None:
    """Start the chat web UI."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant import AssistantError, load_nlp_in_background
    from ui.app import launch
    from ui.gradio_import import import_gradio

    quiet_environment()
    # importing gradio (~2 s here) overlaps opening the index and loading the embedder, which mostly
    # run outside the GIL (file reads, checksums, numpy, onnxruntime); an index that cannot be
    # opened is reported at once, not after the import
    gradio = ThreadPoolExecutor(1, thread_name_prefix="import-gradio").submit(import_gradio)
    load_nlp_in_background()  # spaCy too (the warm-up question parses)
    bot = open_assistant(index, **EngineChoice(engine, model, base_url).sections())
    schedule(bot, refresh_every)
    bot.warm_up()
    gradio.result()
    try:
        launch(bot, host=host or bot.settings.ui.host, port=bot.settings.ui.port if port is None else port)
    except AssistantError as e:
        raise fail(str(e)) from e


@app.command()
def mcp(
    index: IndexOption = None,
    engine: EngineOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    http: Annotated[
        bool, typer.Option("--http", help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.")
    ] = False,
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port with --http (default: 8765).")] = None,
) -> None:
    """Serve the assistant to AI clients over the Model Context Protocol (tools: ask, search, get_article,
    list_articles, list_sources, add_source, digest; article://ID resources). Stdio by default."""
    from assistant import AssistantError
    from mcp_adapter import run_stdio, serve_http

    bot = open_assistant(index, **EngineChoice(engine, model, base_url).sections())
    try:
        if http:
            serve_http(bot, host, port)
        else:
            run_stdio(bot)
    except AssistantError as e:
        raise fail(str(e)) from e
    finally:
        bot.close()


@app.command()
def api(
    index: IndexOption = None,
    engine: EngineOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port (default: 8000).")] = None,
    refresh_every: RefreshEveryOption = None,
) -> None:
    """Serve the OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models, /v1/search, /v1/articles)."""
    from api import serve_api
    from assistant import AssistantError, load_nlp_in_background

    load_nlp_in_background()  # while the index opens (the warm-up question parses)
    bot = open_assistant(index, **EngineChoice(engine, model, base_url).sections())
    schedule(bot, refresh_every)
    try:
        serve_api(bot, host, port)
    except AssistantError as e:
        raise fail(str(e)) from e
    finally:
        bot.close()
