"""The ``assistant`` command line: ingest, remove, check, ask, serve, api, info, eval, testset."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

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


def _quiet_environment() -> None:
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


def _llm_sections(engine: str | None, model: str | None, base_url: str | None) -> dict[str, Any]:
    """Settings sections for the engine options (empty when none is given)."""
    sections: dict[str, Any] = {}
    if engine:
        sections["answer"] = {"engine": engine}
    llm: dict[str, Any] = {}
    if model:
        local = (engine or "") == "local" or model.lower().endswith(".gguf")
        llm["model_path" if local else "model"] = model
    if base_url:
        llm["base_url"] = base_url
    if llm:
        sections["llm"] = llm
    return sections


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def _settings_problem(error: Exception) -> str:
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


def _open(index: Path | None, create: bool = False, sections: dict[str, Any] | None = None, **options: Any):  # type: ignore[no-untyped-def]
    from pydantic import ValidationError

    from assistant.core import Assistant
    from assistant.settings import Settings
    from index import AssistantError

    _quiet_environment()
    try:
        settings = Settings.from_env(**{k: v for k, v in {**options, **(sections or {})}.items() if v})
    except ValidationError as e:  # checked before any work starts
        raise _fail(_settings_problem(e)) from e
    try:
        return Assistant.open(index, settings, create=create, progress=True)
    except AssistantError as e:
        raise _fail(str(e)) from e


NoWaitOption = Annotated[
    bool,
    typer.Option(
        "--no-wait", metavar="", help="Fail at once when another process is writing to the index, instead of waiting."
    ),
]


def _waiting(message: str) -> None:
    typer.secho(message, fg=typer.colors.YELLOW, err=True)


@app.command(
    epilog="Exit status: 0 every file was ingested; 3 some files failed (the rest was ingested); "
    "1 nothing could be ingested; 2 bad settings, or the index is busy (--no-wait) or damaged; "
    "130 interrupted (what was finished is saved: run the same command again to continue)."
)
def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", help="Article files or folders (txt, md, html, json, jsonl, pdf)."),
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
    """Add articles to the index (created if missing). Unreadable files are reported and skipped."""
    from assistant.core import check_paths
    from index import AssistantError

    try:
        check_paths(list(paths))  # before any index is created
    except AssistantError as e:
        raise _fail(str(e)) from e
    new = index is not None and not index.exists()
    bot = _open(index, create=True, sections={"index": {"store": store}} if store else None)
    try:
        report = bot.add(paths, progress=True, wait=not no_wait, on_wait=_waiting, ray=ray)
        if new and bot.index.manifest.articles == 0:
            bot.close()
            shutil.rmtree(index, ignore_errors=True)  # type: ignore[arg-type]
            for failure in report.failures:
                typer.secho(f"skipped {failure}", fg=typer.colors.YELLOW, err=True)
            raise _fail(f"no article in {', '.join(map(str, paths))}; no index was created at {index}")
    except KeyboardInterrupt:
        typer.secho(
            f"interrupted; index {bot.index.directory} keeps what was finished (run the same command to continue)",
            fg=typer.colors.YELLOW,
            err=True,
        )
        raise typer.Exit(130) from None
    except AssistantError as e:
        raise _fail(str(e)) from e
    for failure in report.failures:
        typer.secho(f"skipped {failure}", fg=typer.colors.YELLOW, err=True)
    typer.echo(f"{report.summary()}; index {bot.index.directory} now holds {bot.index.manifest.articles} articles")
    if report.failures:
        raise typer.Exit(3 if (report.added or report.replaced or report.unchanged) else 1)


@app.command()
def remove(
    ids: Annotated[list[str], typer.Argument(metavar="ID", help="Article ids (or record ids, URLs, paths).")],
    index: IndexOption = None,
    no_wait: NoWaitOption = False,
) -> None:
    """Remove articles and their passages from the index."""
    from index import AssistantError

    bot = _open(index)
    try:
        removed = bot.remove(ids, wait=not no_wait, on_wait=_waiting)
    except AssistantError as e:
        raise _fail(str(e)) from e
    typer.echo(f"removed {len(removed)} article(s): {' '.join(removed) or '-'}")
    if len(removed) < len(ids):
        typer.secho(f"{len(ids) - len(removed)} id(s) not found in the index", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(1)


@app.command()
def check(index: IndexOption = None) -> None:
    """Verify the index: every file against its recorded checksum, passages against vectors (exit 1: damaged)."""
    from index import AssistantError, PassageStore

    _quiet_environment()
    from assistant.settings import Settings

    directory = index or Settings.from_env().index_dir()
    try:
        store = PassageStore.load(directory)  # checks sizes, checksums and consistency
    except AssistantError as e:
        raise _fail(str(e), 1) from e
    checked = len(store.manifest.files)
    note = "" if checked else " (made before checksums were recorded: the next save records them)"
    typer.echo(
        f"index {directory} ({store.generation}) is sound: {checked} file(s) match their checksums{note}; "
        f"{len(store.articles)} articles, {len(store.spans)} passages"
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
    from assistant import AssistantError, Filters, Finished, Token
    from assistant.answering import nlp

    nlp.load_in_background()  # ~1 s of spaCy, while the index opens and the embedder loads
    bot = _open(index, retrieval={"mode": mode} if mode else None, **_llm_sections(engine, model, base_url))
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
        head = " · ".join(x for x in (c.title, c.source, c.date) if x)
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
) -> None:
    """Start the chat web UI."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.answering import nlp
    from index import AssistantError
    from ui.app import launch
    from ui.gradio_import import import_gradio

    _quiet_environment()
    # importing gradio (~2 s here) overlaps opening the index and loading the embedder, which mostly
    # run outside the GIL (file reads, checksums, numpy, onnxruntime); an index that cannot be
    # opened is reported at once, not after the import
    gradio = ThreadPoolExecutor(1, thread_name_prefix="import-gradio").submit(import_gradio)
    nlp.load_in_background()  # spaCy too (the warm-up question parses)
    bot = _open(index, **_llm_sections(engine, model, base_url))
    bot.warm_up()
    gradio.result()
    try:
        launch(bot, host=host or bot.settings.ui.host, port=bot.settings.ui.port if port is None else port)
    except AssistantError as e:
        raise _fail(str(e)) from e


@app.command()
def api(
    index: IndexOption = None,
    engine: EngineOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    host: HostOption = None,
    port: Annotated[int | None, typer.Option(metavar="PORT", help="Port (default: 8000).")] = None,
) -> None:
    """Serve the OpenAI-compatible HTTP API (/v1/chat/completions, /v1/models, /v1/search, /v1/articles)."""
    from assistant.answering import nlp
    from assistant.api import serve_api
    from index import AssistantError

    nlp.load_in_background()  # while the index opens (the warm-up question parses)
    bot = _open(index, **_llm_sections(engine, model, base_url))
    try:
        serve_api(bot, host, port)
    except AssistantError as e:
        raise _fail(str(e)) from e
    finally:
        bot.close()


@app.command()
def info(
    index: IndexOption = None, engine: EngineOption = None, model: ModelOption = None, base_url: BaseUrlOption = None
) -> None:
    """Show index statistics and the answer engine, model and prompt version."""
    bot = _open(index, **_llm_sections(engine, model, base_url))
    typer.echo(json.dumps(bot.info(), indent=2))
    bot.close()


@app.command("eval")
def eval_command(
    testset: Annotated[
        Path | None,
        typer.Argument(metavar="TESTSET", help="Test set (.jsonl or .csv); default: the shipped sample test set."),
    ] = None,
    index: IndexOption = None,
    engine: EngineOption = None,
    model: ModelOption = None,
    base_url: BaseUrlOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR", help="Run folder (default: eval-runs/<test set>-<time>); an existing one is resumed."
        ),
    ] = None,
    compare: Annotated[
        tuple[Path, Path] | None,
        typer.Option(metavar="A B", help="Compare two run folders instead of running: --compare A B."),
    ] = None,
) -> None:
    """Evaluate the assistant on a test set: a run folder with results, summary and report."""

    from assistant.evaluation.harness import compare_runs, evaluate, new_run_dir
    from index import AssistantError

    if compare:
        try:
            diff = compare_runs(*compare)
        except AssistantError as e:
            typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from e
        typer.echo("| metric | A | B | B - A |\n|---|---|---|---|")
        for name, m in diff["metrics"].items():
            typer.echo(f"| {name} | {m['a']} | {m['b']} | {m['delta']} |")
        typer.echo(f"\n{len(diff['questions'])} question(s) changed:")
        for q in diff["questions"]:
            note = " (answer changed)" if q["answer_changed"] else ""
            typer.echo(f"- {q['id']}: {q['question']} {json.dumps(q['changed'])}{note}")
        return
    from assistant.core import sample_testset_path

    path = testset or sample_testset_path()
    bot = _open(index, **_llm_sections(engine, model, base_url))
    run_dir = out or new_run_dir(Path("eval-runs"), path)
    try:
        result = evaluate(bot, path, run_dir, progress=True)
    except AssistantError as e:
        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from e
    typer.echo(result.markdown())
    typer.echo(f"run folder: {run_dir}  (report: {run_dir / 'report.html'})")


testset_app = typer.Typer(rich_markup_mode=None, no_args_is_help=True, help="Make test sets.")
app.add_typer(testset_app, name="testset")


@testset_app.command("generate")
def testset_generate(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the test set (.jsonl).")],
    index: IndexOption = None,
    count: Annotated[int, typer.Option(metavar="N", help="How many questions to make at most.")] = 30,
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed (the same seed gives the same test set).")] = 0,
) -> None:
    """Make cloze questions with reference passages from the indexed articles."""
    from assistant.evaluation.synthetic import generate_testset
    from assistant.evaluation.testset import write_testset

    bot = _open(index)
    cases, skipped = generate_testset(bot.index, count, seed)
    write_testset(cases, out)
    typer.echo(f"made {len(cases)} question(s) from {bot.index.manifest.articles} article(s) into {out}")
    for reason, n in skipped.items():
        typer.echo(f"skipped {n} sentence(s): {reason}")
    if not cases:
        typer.secho("no questions could be made (see the reasons above)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@testset_app.command("from-feedback")
def testset_from_feedback(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the test set (.jsonl).")],
) -> None:
    """Make a test set from the chat's rated answers (👍/👎; the rules are in the README)."""
    from assistant.conversations import ConversationStore
    from assistant.evaluation.feedback import feedback_testset
    from assistant.evaluation.testset import write_testset
    from assistant.settings import Settings

    _quiet_environment()
    store = ConversationStore(Settings.from_env().chat.history_file())
    cases = feedback_testset(store)
    store.close()
    if not cases:
        typer.secho(f"no rated answers in {store.path}; rate answers in the chat first", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    write_testset(cases, out)
    unanswerable = sum(not c.answerable for c in cases)
    typer.echo(f"made {len(cases)} question(s) ({unanswerable} unanswerable) from rated answers into {out}")


def main() -> None:  # pragma: no cover
    sys.exit(app())
