"""What the commands share: the Typer apps, the options every command takes, opening the
assistant from them, and how errors are printed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant import Assistant, AssistantError, Settings
from assistant.settings import use_offline_environment


def _conventional_help() -> None:
    """Help as other command lines print it: plain text, `--index DIR`, `QUESTION`, `[TESTSET]`,
    `PATH...`. (Typer prints each parameter's Python type, `<str>`, and a required argument as
    `{question}`: its argument class is told to print the metavar alone.)"""
    from typer.core import TyperArgument

    def usage_name(self: TyperArgument) -> str:
        name = self.display_name_raw if self.required else f"[{self.display_name_raw}]"
        return name + ("..." if self.nargs != 1 else "")

    TyperArgument._usage_display_name = usage_name  # type: ignore[method-assign]
    TyperArgument.display_type_rich = lambda self, ctx: None  # type: ignore[method-assign]


_conventional_help()
app = typer.Typer(
    rich_markup_mode=None,
    add_completion=False,
    no_args_is_help=True,
    help="Ask questions of your news articles; every answer cites its passages.",
)


def _version(shown: bool) -> None:
    if shown:
        from assistant import __version__

        typer.echo(f"news-assistant {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", help="Print the version and exit.", callback=_version, is_eager=True)
    ] = False,
) -> None:
    """Ask questions of your news articles; every answer cites its passages."""


IndexOption = Annotated[
    Path | None,
    typer.Option(
        "--index",
        metavar="DIR",
        envvar="ASSISTANT_INDEX",
        show_default=False,
        help="Index folder (default: the sample index in the user data folder).",
    ),
]


def quiet_environment() -> None:
    use_offline_environment()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


EngineOption = Annotated[
    str | None,
    typer.Option(
        "--engine", metavar="NAME", help="Answer engine: extractive (default, no model), local (a GGUF file) or openai."
    ),
]
ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model",
        metavar="MODEL",
        help="The model: a GGUF file for --engine local, the endpoint's model name for --engine openai.",
    ),
]
BaseUrlOption = Annotated[
    str | None, typer.Option("--base-url", metavar="URL", help="OpenAI-compatible endpoint for --engine openai.")
]


HostOption = Annotated[
    str | None,
    typer.Option(metavar="HOST", help="Address to bind (default: 127.0.0.1; beyond loopback the API needs a key)."),
]


@dataclass(frozen=True)
class EngineChoice:
    """The engine options a command was given (``--engine``, ``--model``, ``--base-url``)."""

    engine: str | None = None
    model: str | None = None
    base_url: str | None = None

    def sections(self) -> dict[str, Any]:
        """Settings sections for the options (empty when none is given)."""
        sections: dict[str, Any] = {}
        if self.engine:
            sections["answer"] = {"engine": self.engine}
        llm: dict[str, Any] = {}
        if self.model:
            local = (self.engine or "") == "local" or self.model.lower().endswith(".gguf")
            llm["model_path" if local else "model"] = self.model
        if self.base_url:
            llm["base_url"] = self.base_url
        if llm:
            sections["llm"] = llm
        return sections


def fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def settings_problem(error: Exception) -> str:
    """A pydantic validation error as one line: ``index: overlap_tokens (120) must be … ; …``."""
    errors = getattr(error, "errors", None)
    if errors is None:
        return str(error)
    parts = []
    for e in errors():
        where = ".".join(str(x) for x in e.get("loc", ()))
        value = e.get("input")
        got = f" (got {value!r})" if isinstance(value, str | int | float) else ""
        parts.append(f"{where}: {e.get('msg', '')}{got}".removeprefix(": ").replace("Value error, ", ""))
    return "invalid settings: " + "; ".join(parts)


def cli_settings(sections: dict[str, Any] | None = None, **options: Any) -> Settings:
    """Settings from the environment and the options given, checked before any work starts."""
    from pydantic import ValidationError

    quiet_environment()
    try:
        return Settings.from_env(**{k: v for k, v in {**options, **(sections or {})}.items() if v})
    except ValidationError as e:
        raise fail(settings_problem(e)) from e


def open_assistant(
    index: Path | None, create: bool = False, sections: dict[str, Any] | None = None, **options: Any
) -> Assistant:
    """The assistant over ``index`` with settings from the environment and the options given."""
    settings = cli_settings(sections, **options)
    try:
        return Assistant.open(index, settings, create=create, progress=True)
    except AssistantError as e:
        raise fail(str(e)) from e


NoWaitOption = Annotated[
    bool,
    typer.Option(
        "--no-wait", metavar="", help="Fail at once when another process is writing to the index, instead of waiting."
    ),
]


def waiting(message: str) -> None:
    typer.secho(message, fg=typer.colors.YELLOW, err=True)


testset_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="Make test sets.")
app.add_typer(testset_app, name="testset")


RefreshEveryOption = Annotated[
    str | None,
    typer.Option(
        "--refresh-every",
        metavar="DURATION",
        help="Refresh the remembered feeds and pages in the background this often (30m, 2h, 1d), while "
        "questions keep being answered.",
    ),
]


def schedule(bot: Assistant, every: str | None) -> None:
    """Start refreshing ``bot``'s web sources every ``every`` (nothing when None)."""
    if every is None:
        return
    from assistant.web_sources import parse_every

    try:
        seconds = parse_every(every)
    except ValueError as e:
        raise fail(str(e)) from e
    bot.web.refresh_every(seconds)
    typer.echo(f"refreshing {len(bot.web.list())} web source(s) every {every}", err=True)


def check_days(**days: str | None) -> None:
    """Each given day must be YYYY-MM-DD: one clear line naming the option otherwise (exit 2)."""
    from assistant import parse_day

    for name, day in days.items():
        if day:
            try:
                parse_day(day)
            except ValueError as e:
                raise fail(f"--{name.replace('_', '-')}: {e}") from e
