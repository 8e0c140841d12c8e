"""The answer model's table (issue 34): the extractive engine with the selector alone against the
selector plus the answer model, on the same index, in one process, per data set.

    .venv/bin/python -m benchmarks.answer_model_table [bbc] [realtimeqa] [shipped] [--count N] [--toggle SETTING]

``--toggle``: the ``answer.*`` setting compared off against on (default ``answer_model``; issue 36
compares ``time_policy``, the time intents with reports compared), or an ``index.*`` one (then each
value gets an index of its own, its ingest timed: issue 38's ``sentence_vectors_from_passage``).

``bbc`` and ``realtimeqa`` are ``benchmarks/answers.py``'s sets (the BBC 44 + 12 unanswerable over
100 BBC articles; the RealTime QA 200 sample over its labelled articles and 300 others, asked as of
the quiz day), ``shipped`` the bundled sample set over the sample articles. Per set and setting:
contains-reference of the answer and of the passages it cites (the gap is what sentence choice
loses), exact match and token F1 of the short answers shown, short-answer precision (of those
shown, the share holding a reference) and how often one is shown, refusals of unanswerable
questions, false refusals, and p50/p95 answer time; 95 % bootstrap intervals (2,000 draws over
questions) for contains-reference and short-answer precision. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from pathlib import Path
from typing import Any

from assistant import Assistant, Settings
from assistant.evaluation import evaluate, load_testset, write_testset
from assistant.evaluation.harness import read_results
from assistant.evaluation.metrics import contains_reference, exact_match, percentile, token_f1
from assistant.samples_index import sample_articles_path, sample_testset_path
from assistant.settings import IndexSettings, use_offline_environment
from benchmarks.answers import DATA

ROOT = Path(__file__).resolve().parents[1]


def interval(values: list[float], draws: int = 2000) -> str:
    if not values:
        return "–"
    rng = random.Random(0)
    means = sorted(sum(rng.choices(values, k=len(values))) / len(values) for _ in range(draws))
    mean = sum(values) / len(values)
    return f"{mean:.3f} [{means[int(0.025 * draws)]:.2f}–{means[int(0.975 * draws)]:.2f}]"


def summary(rows: list[dict[str, Any]]) -> dict[str, str]:
    answerable = [r for r in rows if r["answerable"] and r["reference_answer"]]
    unanswerable = [r for r in rows if not r["answerable"]]
    holds = [float(bool(contains_reference(r["answer"], r["reference_answer"]))) for r in answerable]
    cited = [
        float(any(contains_reference(c["passage"], r["reference_answer"]) for c in r["citations"])) for r in answerable
    ]
    shown = [r for r in answerable if r["short"]]
    precise = [float(bool(contains_reference(r["short"], r["reference_answer"]))) for r in shown]
    em = [exact_match(r["short"], r["reference_answer"]) or 0.0 for r in shown]
    f1 = [token_f1(r["short"], r["reference_answer"]) or 0.0 for r in shown]
    times = [float(r["timings"].get("total_ms", 0.0)) for r in rows if r.get("timings")]
    mean = lambda xs: f"{sum(xs) / len(xs):.3f}" if xs else "–"  # noqa: E731
    return {
        "questions": f"{len(answerable)} + {len(unanswerable)}",
        "contains-reference": interval(holds),
        "cited passages contain it": mean(cited),
        "short answers shown": f"{len(shown) / len(answerable):.2f}" if answerable else "–",
        "short-answer precision": interval(precise),
        "short EM / F1": f"{mean(em)} / {mean(f1)}",
        "refused unanswerable": mean([float(not r["answered"]) for r in unanswerable]),
        "false refusals": mean([float(not r["answered"]) for r in answerable]),
        "p50 / p95 ms": f"{percentile(times, 0.5):.0f} / {percentile(times, 0.95):.0f}" if times else "–",
    }


def shipped(count: int) -> tuple[list[Any], list[Path]]:
    return load_testset(sample_testset_path())[:count], [sample_articles_path()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sets", nargs="*", default=["shipped", "bbc", "realtimeqa"])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--toggle", default="answer_model", help="the answer.* setting compared off against on")
    args = parser.parse_args()
    use_offline_environment()
    sources = {**DATA, "shipped": shipped}
    table: dict[str, dict[str, str]] = {}
    for name in args.sets:
        runs = ROOT / "runs" / f"answers-{name}"
        runs.mkdir(parents=True, exist_ok=True)
        cases, articles = sources[name](args.count)
        articles = list(articles)  # an iterator would be spent by the first setting's ingest
        testset = runs / f"{name}-first{len(cases)}.jsonl"
        write_testset(cases, testset)
        for on in (False, True):
            setting = f"{args.toggle} {'on' if on else 'off'}"
            if args.toggle in IndexSettings.model_fields:  # an ingest setting: an index of its own per value
                folder, settings = runs / f"index-{args.toggle}-{on}", Settings(index={args.toggle: on})
            else:
                folder, settings = runs / "index", Settings(answer={args.toggle: on})
            bot = Assistant.open(folder, settings, create=True)
            if bot.info().articles == 0:
                started = time.perf_counter()
                print(bot.add(list(articles), progress=True).summary(), f"({time.perf_counter() - started:.1f} s)")
            out = runs / f"{args.toggle}-{'on' if on else 'off'}"
            shutil.rmtree(out, ignore_errors=True)  # an evaluation resumes a run folder it finds
            evaluate(bot, testset, out)
            bot.close()
            table[f"{name}: {setting}"] = summary(read_results(out))
            print(name, setting, table[f"{name}: {setting}"], flush=True)
    columns = list(next(iter(table.values())))
    print("| set: setting | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for key, values in table.items():
        print(f"| {key} | " + " | ".join(values[c] for c in columns) + " |")


if __name__ == "__main__":
    main()
