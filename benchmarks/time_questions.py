"""Time questions (issue 36): latest, since/before, development, reports that differ or agree, and
plain facts, over the dated stories written for the tests (``tests/data/stories``), asked as of a
week after each story's last report, with the bundled sample articles as unrelated neighbours.

    .venv/bin/python -m benchmarks.time_questions [--index DIR] [--haystack DIR]

Per kind it prints what the issue measures:

- latest: the newest report of the story is the first citation;
- since/before: no cited article outside the window, and an answer when a report is inside it;
- development: at least 3 of the story's reports cited, lines in date order, nothing off the story;
- differ: both values shown (``Answer.disagreements``); agree: no difference invented;
- plain: the reference is in the answer;

and the time per answer (p50, p95) per kind. ``--haystack DIR`` (an index such as the RealTime QA 3k
one ``benchmarks.retrieval_realtimeqa`` builds) also times development questions made from 40 of its
articles' titles ("How has the <names> story developed?", as of a week after the article) at that
size. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from assistant import Answer, Assistant
from assistant.answering.stories.values import same_value
from assistant.evaluation.metrics import contains_reference
from assistant.samples_index import sample_articles_path

ROOT = Path(__file__).resolve().parents[1]
STORIES = ROOT / "tests" / "data" / "stories"


def judge(bot: Assistant, q: dict[str, Any], answer: Answer) -> dict[str, bool]:
    """What each kind's question must show (see the module docstring)."""
    ids = {bot.index.article(k).id: k for k in _keys(q)}  # type: ignore[union-attr]
    cited = [c for c in answer.citations]
    keys = [ids.get(c.article_id) for c in cited]
    if q["kind"] == "latest":
        return {"newest cited first": bool(keys) and keys[0] == q["newest"]}
    if q["kind"] == "since":
        inside = [(c.date[:10] >= q["since"]) if "since" in q else (c.date[:10] < q["before"]) for c in cited if c.date]
        return {"nothing outside the window": all(inside), "answered": answer.answered}
    if q["kind"] == "development":
        days = [line.day for line in answer.timeline]
        return {
            ">= 3 reports in date order, none off the story": len({k for k in keys if k}) >= 3
            and days == sorted(days)
            and all(k in q["reports"] for k in keys),
        }
    if q["kind"] == "differ":
        shown = [d.value for d in answer.disagreements]
        both = all(any(same_value(v, s) for s in shown) for v in q["values"])
        return {"both values shown": both}
    if q["kind"] == "agree":
        return {"no invented difference": not answer.disagreements}
    return {"contains the reference": contains_reference(answer.text, [q["reference"]]) > 0}


def _keys(q: dict[str, Any]) -> list[str]:
    story = q["story"]
    return [line["id"] for line in _articles() if line["id"].startswith(story + "-")]


_CACHE: list[dict[str, Any]] = []


def use_stories(folder: Path) -> None:
    """Read the stories and questions from ``folder`` from now on."""
    global STORIES
    STORIES = folder
    _CACHE.clear()


def _articles() -> list[dict[str, Any]]:
    if not _CACHE:
        _CACHE.extend(json.loads(line) for line in (STORIES / "articles.jsonl").open())
    return _CACHE


def time_haystack(directory: Path, count: int = 40) -> None:
    """Timeline answers at a large index: p50/p95 time, lines per timeline."""
    import random
    from datetime import date, timedelta

    from assistant.answering.stories.intent import names_of

    bot = Assistant.open(directory)
    articles = [a for a in bot.index.iter_articles() if a.date and names_of(a.title, a.text)]
    random.Random(0).shuffle(articles)
    bot.ask("warm up", as_of="2024-01-01")
    times, lines = [], []
    for article in articles[:count]:
        day = (date.fromisoformat(article.date[:10]) + timedelta(days=7)).isoformat()
        question = f"How has the {names_of(article.title, article.text)} story developed?"
        t = time.perf_counter()
        answer = bot.ask(question, as_of=day)
        times.append(1000 * (time.perf_counter() - t))
        lines.append(len(answer.timeline))
    ms = sorted(times)
    print(
        f"\nhaystack {bot.info().articles} articles: {count} development questions, "
        f"p50 {statistics.median(ms):.0f} ms, "
        f"p95 {ms[round(0.95 * (len(ms) - 1))]:.0f} ms; timelines {sum(1 for n in lines if n)} of {count}, "
        f"median {statistics.median(lines):.0f} lines"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index of the stories and the samples (built if missing)")
    parser.add_argument("--haystack", type=Path, help="also time timelines at this (large) index")
    parser.add_argument(
        "--stories", type=Path, default=STORIES,
        help="a folder of articles.jsonl and questions.jsonl (tests/data/stories-heldout: written after the rules)",
    )  # fmt: skip
    args = parser.parse_args()
    use_stories(args.stories)
    directory = args.index or Path(tempfile.mkdtemp()) / "stories"
    if not directory.exists():
        Assistant.build([STORIES / "articles.jsonl", sample_articles_path()], directory).close()
    bot = Assistant.open(directory)
    bot.ask("warm up", as_of="2026-01-01")
    questions = [json.loads(line) for line in (STORIES / "questions.jsonl").open()]
    scores: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    times: dict[str, list[float]] = defaultdict(list)
    misses = []
    for q in questions:
        t = time.perf_counter()
        answer = bot.ask(q["question"], as_of=q["as_of"])
        times[q["kind"]].append(1000 * (time.perf_counter() - t))
        for name, ok in judge(bot, q, answer).items():
            scores[q["kind"]][name].append(ok)
            if not ok:
                misses.append(f"{q['id']} {name}: {q['question']} -> {answer.text[:140]!r} | {answer.note}")
    print("| kind | questions | measure | share | p50 ms | p95 ms |")
    print("|---|---|---|---|---|---|")
    for kind, measures in scores.items():
        ms = sorted(times[kind])
        p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
        for name, oks in measures.items():
            share = sum(oks) / len(oks)
            print(f"| {kind} | {len(oks)} | {name} | {share:.2f} | {statistics.median(ms):.0f} | {p95:.0f} |")
    print("\nmisses:")
    for line in misses:
        print(" ", line)
    if args.haystack:
        time_haystack(args.haystack)


if __name__ == "__main__":
    main()
