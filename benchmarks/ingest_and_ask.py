"""Ingest speed and `ask` latency over a real corpus (default: the 2,225 BBC News articles).

    .venv/bin/python -m benchmarks.ingest_and_ask [--corpus PATH] [--limit N] [--index DIR]

Prints articles/s and passages/s for a full ingest, the embedding-only throughput over the same
passages as an in-process baseline (so the ratio shows what splitting and storing add), and
`ask` latency p50/p95 over 20 questions. Not part of the test run.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import time
from pathlib import Path

from assistant import Assistant
from assistant.evaluation.metrics import percentile
from index import Article, load_paths
from index.records import indexed_text

SHARED = Path(__file__).resolve().parents[2] / "shared"
QUESTIONS = [  # written for this benchmark; topics of the BBC 2004-05 collection
    "How much profit did the media company make in the quarter?",
    "Which company bought the steel maker?",
    "What did the chancellor say about the economy?",
    "Who won the Australian Open?",
    "How many jobs will be cut at the factory?",
    "What did the prime minister promise before the election?",
    "Which film won the most awards?",
    "What happened to the price of oil?",
    "Why did the airline shares fall?",
    "Who was named player of the year?",
    "What is the new mobile phone able to do?",
    "How many people use broadband at home?",
    "What did the Conservatives propose on immigration?",
    "Which band topped the music charts?",
    "Why was the rugby match postponed?",
    "What fine did the regulator impose?",
    "How did the video game sell over Christmas?",
    "What did the report say about house prices?",
    "Who is the new manager of the football club?",
    "What are the plans for ID cards?",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=SHARED / "datasets" / "bbc-news" / "bbc_news.jsonl.gz")
    parser.add_argument("--limit", type=int, default=None, help="ingest only the first N articles")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: a temporary one)")
    args = parser.parse_args()

    articles = [a for a in itertools.islice(load_paths([args.corpus]), args.limit) if isinstance(a, Article)]
    directory = args.index or Path(tempfile.mkdtemp()) / "index"
    bot = Assistant.open(directory, create=True)
    bot.index.embedder.embed(["warm up"])  # model load is not ingest time

    t0 = time.perf_counter()
    report = bot.add(articles, progress=True)
    ingest_s = time.perf_counter() - t0
    print(
        f"ingest: {len(articles)} articles, {report.passages} passages in {ingest_s:.1f} s = "
        f"{len(articles) / ingest_s:.1f} articles/s, {report.passages / ingest_s:.1f} passages/s"
    )

    store = bot.index.store
    sample = [  # the same text ingest embeds: title + passage
        indexed_text(store.docs.get(store.docs.article_of(pid)).title, store.passage(pid).text)
        for pid in itertools.islice(store.docs.passage_ids(), 300)
    ]
    t0 = time.perf_counter()
    bot.index.embedder.embed(sample)
    embed_rate = len(sample) / (time.perf_counter() - t0)
    print(
        f"baseline: embedding alone {embed_rate:.1f} passages/s over {len(sample)} passages; "
        f"ingest runs at {report.passages / ingest_s / embed_rate:.2f}x that"
    )

    bot.ask("warm up question")
    latencies, answered = [], 0
    for question in QUESTIONS:
        t0 = time.perf_counter()
        answer = bot.ask(question)
        latencies.append((time.perf_counter() - t0) * 1000)
        answered += answer.answered
    print(
        f"ask: p50 {percentile(latencies, 0.5):.0f} ms, p95 {percentile(latencies, 0.95):.0f} ms over "
        f"{len(QUESTIONS)} questions ({answered} answered, {len(QUESTIONS) - answered} 'not in the articles'); "
        f"index {bot.info()['articles']} articles, {bot.info()['passages']} passages"
    )


if __name__ == "__main__":
    main()
