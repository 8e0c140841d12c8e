"""The commands that evaluate: eval, testset generate, testset from-feedback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.cli.common import (
    BaseUrlOption,
    EngineChoice,
    EngineOption,
    IndexOption,
    ModelOption,
    app,
    fail,
    open_assistant,
    quiet_environment,
    testset_app,
)
from assistant.wording import counted


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
    judge: Annotated[
        str | None,
        typer.Option(
            metavar="METHOD",
            help="Faithfulness judge: lexical (default), model, or llm (the --engine openai/local model judges).",
        ),
    ] = None,
) -> None:
    """Evaluate the assistant on a test set: a run folder with results, summary and report."""

    from assistant import AssistantError
    from assistant.evaluation import compare_runs, evaluate, new_run_dir
    from assistant.samples_index import sample_testset_path

    if compare:
        try:
            diff = compare_runs(*compare)
        except AssistantError as e:
            typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from e
        typer.echo("| metric | A | B | B - A |\n|---|---|---|---|")
        for name, m in diff["metrics"].items():
            typer.echo(f"| {name} | {m['a']} | {m['b']} | {m['delta']} |")
        typer.echo(f"\n{counted(len(diff['questions']), 'question')} changed:")
        for q in diff["questions"]:
            note = " (answer changed)" if q["answer_changed"] else ""
            typer.echo(f"- {q['id']}: {q['question']} {json.dumps(q['changed'])}{note}")
        return
    path = testset or sample_testset_path()
    sections = EngineChoice(engine, model, base_url).sections()
    if judge:
        sections["answer"] = {**sections.get("answer", {}), "judge": judge}
    bot = open_assistant(index, **sections)
    run_dir = out or new_run_dir(Path("eval-runs"), path)
    try:
        result = evaluate(bot, path, run_dir, progress=True)
    except AssistantError as e:
        typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from e
    typer.echo(result.markdown())
    typer.echo(f"run folder: {run_dir}  (report: {run_dir / 'report.html'})")


@testset_app.command("generate")
def testset_generate(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the test set (.jsonl).")],
    index: IndexOption = None,
    count: Annotated[int, typer.Option(metavar="N", help="How many questions to make at most.")] = 30,
    seed: Annotated[int, typer.Option(metavar="N", help="Random seed (the same seed gives the same test set).")] = 0,
) -> None:
    """Make cloze questions with reference passages from the indexed articles."""
    from assistant.evaluation import write_testset
    from assistant.evaluation.synthetic import generate_testset

    bot = open_assistant(index)
    cases, skipped = generate_testset(bot.index, count, seed)
    write_testset(cases, out)
    made = f"{counted(len(cases), 'question')} from {counted(bot.index.manifest.articles, 'article')}"
    typer.echo(f"made {made} into {out}")
    for reason, n in skipped.items():
        typer.echo(f"skipped {counted(n, 'sentence')}: {reason}")
    if not cases:
        typer.secho("no questions could be made (see the reasons above)", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@testset_app.command("from-feedback")
def testset_from_feedback(
    out: Annotated[Path, typer.Argument(metavar="OUT", help="Where to write the test set (.jsonl).")],
) -> None:
    """Make a test set from the chat's rated answers (👍/👎; the rules are in docs/usage/ui.md)."""
    from assistant import AssistantError, Settings
    from assistant.conversations import ConversationStore
    from assistant.evaluation import write_testset
    from assistant.evaluation.feedback import feedback_testset

    quiet_environment()
    store = ConversationStore(Settings.from_env().chat.history_file())
    try:
        cases = feedback_testset(store)
    except AssistantError as e:  # a damaged or locked store: one line, no traceback
        raise fail(str(e)) from None
    finally:
        store.close()
    if not cases:
        typer.secho(f"no rated answers in {store.path}; rate answers in the chat first", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    write_testset(cases, out)
    unanswerable = sum(not c.answerable for c in cases)
    typer.echo(f"made {counted(len(cases), 'question')} ({unanswerable} unanswerable) from rated answers into {out}")
