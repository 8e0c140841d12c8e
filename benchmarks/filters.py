"""Filtered search: the passage ids a filter allows, from the docstore's per-source and per-day
postings (index/docstore.py) against a scan of every article (how it was done before), on the same
index in one process; and a whole filtered search with each.

    .venv/bin/python -m benchmarks.filters [--index DIR]    # default: the 3k RealTime QA index

The index is the one ``benchmarks/retrieval_realtimeqa.py`` builds (under ~/.cache).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter
from pathlib import Path

from index import Filters
from index.store import PassageStore

CACHE = Path.home() / ".cache" / "news-assistant-bench" / "realtimeqa-3k"


def scan(store: PassageStore, filters: Filters) -> set[int]:
    docs = store.docs
    return {pid for a in docs.iter_articles() if filters.allows(a) for pid in docs.passage_ids_of(a.id)}


def timed(fn, repeat: int = 20) -> float:  # type: ignore[no-untyped-def]
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(1000 * (time.perf_counter() - t))
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=CACHE)
    args = parser.parse_args()
    store = PassageStore.load(args.index)
    days = sorted(a.date[:10] for a in store.docs.iter_articles() if a.date)
    sources = Counter(a.source for a in store.docs.iter_articles() if a.source).most_common()
    cases = {"an article id": Filters(article_ids=(store.docs.article_ids()[0],))}
    if sources:
        cases["one source (the most common)"] = Filters(sources=(sources[0][0],))
    if days:
        middle = days[len(days) // 2]
        cases["the middle day to 30 dated articles later"] = Filters(since=middle, until=days[len(days) // 2 + 30])
        cases["as of the middle day"] = Filters(as_of=middle)
    store.where(Filters(article_ids=("made once",)))  # the postings are made once per generation
    print(f"{args.index}: {store.docs.count()[0]} articles, {store.docs.count()[1]} passages")
    print("| filter | passages allowed | scan of every article | postings | × |")
    print("|---|---|---|---|---|")
    for name, filters in cases.items():
        where = store.where(filters)
        assert where is not None and set(where.ids) == scan(store, filters), name
        old, new = timed(lambda f=filters: scan(store, f)), timed(lambda f=filters: store.where(f))
        print(f"| {name} | {len(where.ids)} | {old:.2f} ms | {new:.2f} ms | {old / max(new, 1e-6):.1f} |")


if __name__ == "__main__":
    main()
