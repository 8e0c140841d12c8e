"""Answer quality per engine, on two data sets, through the evaluation harness.

    .venv/bin/python -m benchmarks.answers bbc [--engine extractive|local|openai] [--model PATH_OR_NAME]
    .venv/bin/python -m benchmarks.answers realtimeqa [--count N] [--engine ...] [--model ...]

LLM engines read the sentence selector's best sentences unless ``--evidence passages``.

``bbc``: the project's own questions (``benchmarks/data/bbc-questions.jsonl``: 44 answerable, 12
near-topic ones the articles can't answer) over 100 BBC articles (the 24 the questions are about
and 76 seeded others) read from ``../shared/datasets/bbc-news``.

``realtimeqa``: the RealTime QA 200 sample (``testsets.py realtimeqa``, seed 0; ``--count N`` takes
its first N) over a reduced haystack: the articles those 200 questions are labelled with plus 300
seeded others from the 3k haystack (the full 3k haystack takes 20–30 minutes to embed on 2 cores).

Builds the index once under ``runs/answers-<data>/index``, writes the run folder
``runs/answers-<data>/<engine>-<model>-<N>`` and prints the summary.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from collections.abc import Iterable
from pathlib import Path

from assistant import Article, Assistant, LoadFailure, Settings
from assistant.evaluation import TestCase, evaluate, load_testset, write_testset
from assistant.settings import use_offline_environment
from benchmarks.realtimeqa import SHARED, corpus_articles, haystack_ids
from benchmarks.testsets import realtimeqa_testset

ROOT = Path(__file__).resolve().parents[1]


BBC = SHARED / "datasets" / "bbc-news" / "bbc_news.jsonl.gz"
BBC_QUESTIONS = ROOT / "benchmarks" / "data" / "bbc-questions.jsonl"


def bbc(count: int) -> tuple[list[TestCase], Iterable[Article | LoadFailure]]:
    cases = load_testset(BBC_QUESTIONS)[:count]
    rows = [json.loads(line) for line in gzip.open(BBC, "rt", encoding="utf-8")]
    wanted = {ref for case in load_testset(BBC_QUESTIONS) for ref in case.reference_article_ids}
    others = [r for r in rows if r["id"] not in wanted]
    chosen = [r for r in rows if r["id"] in wanted] + random.Random(0).sample(others, 100 - len(wanted))
    return cases, [
        Article(text=r["body"], title=r["title"], key=r["id"], source=f"BBC {r['category']}") for r in chosen
    ]


def realtimeqa(count: int) -> tuple[list[TestCase], Iterable[Article | LoadFailure]]:
    cases = realtimeqa_testset(200, seed=0)
    labelled = {ref for c in cases for ref in c.reference_article_ids}
    rest = sorted((haystack_ids() or set()) - labelled)
    return cases[:count], corpus_articles(labelled | set(random.Random(0).sample(rest, 300)))


def realtimeqa_heldout(count: int) -> tuple[list[TestCase], Iterable[Article | LoadFailure]]:
    """RealTime QA questions of weeks the 200 sample has none of (never looked at while choosing
    rules or features): ``count`` of them, over their labelled articles and 300 others."""
    weeks = {c.id.split("_")[0] for c in realtimeqa_testset(200, seed=0)}
    pool = [c for c in realtimeqa_testset(100_000, seed=0) if c.id.split("_")[0] not in weeks]
    cases = sorted(random.Random(1).sample(pool, min(count, len(pool))), key=lambda c: c.id)
    labelled = {ref for c in cases for ref in c.reference_article_ids}
    rest = sorted((haystack_ids() or set()) - labelled)
    return cases, corpus_articles(labelled | set(random.Random(1).sample(rest, 300)))


DATA = {"bbc": bbc, "realtimeqa": realtimeqa, "realtimeqa-heldout": realtimeqa_heldout}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", choices=sorted(DATA))
    parser.add_argument("--engine", default="extractive")
    parser.add_argument("--model", default="", help="GGUF path (local) or model name (openai)")
    parser.add_argument("--base-url", default="")
    parser.add_argument("--count", type=int, default=200, help="the first N questions")
    parser.add_argument("--evidence", default="", help="LLM engines: sentences (default) or passages")
    args = parser.parse_args()
    use_offline_environment()
    runs = ROOT / "runs" / f"answers-{args.data}"
    cases, articles = DATA[args.data](args.count)
    runs.mkdir(parents=True, exist_ok=True)
    testset = runs / f"{args.data}-first{len(cases)}.jsonl"
    write_testset(cases, testset)
    llm = {"base_url": args.base_url} if args.base_url else {}
    if args.model:
        llm["model_path" if args.engine == "local" else "model"] = args.model
    if args.evidence:
        llm["evidence"] = args.evidence
    bot = Assistant.open(runs / "index", Settings(answer={"engine": args.engine}, llm=llm), create=True)
    if bot.info().articles == 0:
        print(bot.add(articles, progress=True).summary())
    evidence = f"-{args.evidence}" if args.evidence else ""
    out = runs / f"{args.engine}-{Path(args.model).stem or 'none'}{evidence}-{len(cases)}"
    result = evaluate(bot, testset, out)
    bot.close()
    print(result.markdown())
    print(f"run folder: {out}")


if __name__ == "__main__":
    main()
