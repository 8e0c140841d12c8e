"""Retrieval benchmark on RealTime QA: find the right article among thousands of real news articles.

    .venv/bin/python -m benchmarks.retrieval_realtimeqa [--full] [--index DIR] [--cache DIR]

Ingests the haystack (default: the 3,235 articles of ``haystack-3k.ids``; ``--full``: all 26,701)
into an index, embedding through an on-disk cache keyed by model and passage text, so a rerun
costs seconds. An ingest that is interrupted continues on the next run. Then, for dense, keyword
and hybrid retrieval in the same run, it reports article-level Recall@1/5/10 and MRR@10 on the
gold questions (the article a question was written from) and on the weak labels (articles whose
text contains the answer), ingest time, passages, index size on disk, peak RSS, and latency
p50/p95 of retrieval alone and of a full extractive ``ask``; serving RSS is measured in a fresh
process that opens the index and answers questions. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from assistant import Assistant, Settings
from assistant.evaluation.metrics import percentile
from benchmarks.memory import children_peak_rss_mb, peak_rss_mb
from benchmarks.realtimeqa import copies, corpus_articles, haystack_ids, label_sets, questions, rank_metrics
from index import Filters, Mode
from index.manifest import VectorIndex

CACHE = Path.home() / ".cache" / "news-assistant-bench"
MODES = (Mode.DENSE, Mode.KEYWORD, Mode.HYBRID)


def quiz_week(question_date: str, days: int) -> Filters:
    """Articles dated from ``days`` before the quiz to the day after it."""
    day = date.fromisoformat(question_date.replace("/", "-"))
    return Filters(since=str(day - timedelta(days=days)), until=str(day + timedelta(days=1)))


def ranked_articles(
    bot: Assistant, question: str, mode: Mode, k: int = 10, filters: Filters | None = None
) -> list[str]:
    """The doc_ids (article keys) of the best ``k`` distinct articles for ``question``."""
    options = bot.settings.retrieval
    options = options.model_copy(update={"mode": mode, "candidates": max(options.candidates, 100), "per_article": 1})
    return [hit.article.key for hit in bot.index.search(question, k, options, filters)]


def approximate_search(bot: Assistant, pairs, nprobes=(4, 8, 16, 32, 64)) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """What an IVF index loses against exact search over the same vectors: the share of the exact
    top-10 passages it finds (per nprobe, with search time), and article-level metrics with it."""
    import faiss

    store = bot.index.store
    t = time.perf_counter()
    ivf = store.backend.build_vector_index(VectorIndex.IVF)
    build_s = time.perf_counter() - t
    texts = [q.text for q, _ in pairs]
    queries = bot.index.embedder.embed(texts)
    t = time.perf_counter()
    _, exact = store.backend.vectors.search(queries, 10)
    exact_ms = 1000 * (time.perf_counter() - t) / len(texts)
    out: dict[str, object] = {
        "lists": ivf.nlist,
        "build_s": round(build_s, 1),
        "exact_ms_per_query": round(exact_ms, 2),
    }
    for nprobe in nprobes:
        t = time.perf_counter()
        _, approx = ivf.search(queries, 10, params=faiss.SearchParametersIVF(nprobe=nprobe))
        ms = 1000 * (time.perf_counter() - t) / len(texts)
        found = np.mean([len(set(a) & set(e)) / len(e) for a, e in zip(approx, exact, strict=True)])
        out[f"nprobe={nprobe}"] = {"recall@10_vs_exact": round(float(found), 3), "ms_per_query": round(ms, 2)}
    flat, store.backend.vectors = store.backend.vectors, ivf
    try:
        for mode in (Mode.DENSE, Mode.HYBRID):
            ranked = [ranked_articles(bot, q.text, mode) for q, _ in pairs]
            out[f"{mode.value} (ivf, nprobe=32)"] = rank_metrics(ranked, [rel for _, rel in pairs])
    finally:
        store.backend.vectors = flat
    return out


def sample_haystack(ids: set[str], n: int, seed: int = 0) -> set[str]:
    """``n`` haystack articles: every gold article of a question, then seeded others."""
    gold = {d for q in questions() for d in q.gold if d in ids}
    others = sorted(ids - gold)
    random.Random(seed).shuffle(others)
    return gold | set(others[: max(n - len(gold), 0)])


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def serving_rss(index: Path, asks: list[str], checkout: Path | None = None) -> float:
    """Peak RSS (MB) of a fresh process that opens the index and answers ``asks`` (VmHWM: ru_maxrss
    would carry this process's peak over the fork); ``checkout``: that checkout's code instead."""
    code = (
        "import json, re, sys\n"
        "from assistant import Assistant, Settings\n"
        "bot = Assistant.open(sys.argv[1], settings=Settings())\n"
        "for q in json.loads(sys.argv[2]): bot.ask(q)\n"
        "status = open('/proc/self/status').read()\n"
        "print(int(re.search(r'VmHWM:\\s+(\\d+)', status).group(1)) / 1024)\n"
    )
    env = os.environ | ({"PYTHONPATH": str(checkout)} if checkout else {})
    out = subprocess.run(
        [sys.executable, "-c", code, str(index), json.dumps(asks)],
        capture_output=True, text=True, check=True, env=env, cwd=checkout,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="all 26,701 corpus articles instead of the haystack")
    parser.add_argument("--index", type=Path, default=None, help="index folder (default: under ~/.cache)")
    parser.add_argument("--cache", type=Path, default=CACHE / "embeddings", help="embedding cache folder")
    parser.add_argument("--no-cache", action="store_true", help="embed everything (an ingest timed from scratch)")
    parser.add_argument(
        "--sentence-vectors-from-passage",
        action="store_true",
        help="index.sentence_vectors_from_passage on (its own index folder, '-from-passage')",
    )
    parser.add_argument("--latency-questions", type=int, default=100, help="questions timed for latency")
    parser.add_argument("--limit", type=int, default=None, help="only the first N haystack articles (smoke runs)")
    parser.add_argument(
        "--sample",
        type=int,
        default=None,
        help="a reduced haystack of N articles: every gold article of the haystack plus seeded others",
    )
    parser.add_argument("--embed-model", default=None, help="embedding model (default: the index setting's)")
    parser.add_argument("--date-window", type=int, default=7, help="extra rows with a date filter; 0: none")
    parser.add_argument("--no-ivf", action="store_true", help="skip the IVF-versus-exact comparison")
    parser.add_argument("--store", default=None, help="passage store of a new index: a Milvus Lite file or milvus://")
    parser.add_argument("--json", type=Path, default=None, help="also write the results here")
    parser.add_argument("--gold-only", action="store_true", help="score the gold questions only (not the weak labels)")
    args = parser.parse_args()

    name = "realtimeqa-full" if args.full else f"realtimeqa-{args.sample}" if args.sample else "realtimeqa-3k"
    suffix = (f"-{args.embed_model}" if args.embed_model else "") + (
        "-from-passage" if args.sentence_vectors_from_passage else ""
    )
    index_dir = args.index or CACHE / (name + suffix)
    model = {"embed_model": args.embed_model} if args.embed_model else {}
    if args.sentence_vectors_from_passage:
        model["sentence_vectors_from_passage"] = True
    store = {"store": args.store} if args.store else {}
    cache = None if args.no_cache else args.cache
    settings = Settings(index={"directory": index_dir, "embed_cache": cache, **model, **store})
    # serving RSS: a fresh process opens the index and answers 20 questions, before this process
    # opens it (a Milvus Lite file serves one process at a time); a new index is measured next run
    serve_rss = serving_rss(index_dir, [q.text for q in questions()[:20]]) if (index_dir / "CURRENT").exists() else 0
    bot = Assistant.open(settings=settings, create=True)
    bot.index.embedder.embed(["warm up"])  # model load is not ingest time

    ids = haystack_ids(args.full)
    if args.limit:
        ids = set(sorted(ids or ())[: args.limit]) if ids else None
    if args.sample and ids:
        ids = sample_haystack(ids, args.sample)
    t0 = time.perf_counter()
    report = bot.index.add(corpus_articles(ids), progress=True, total=len(ids) if ids else 26701)
    ingest_s = time.perf_counter() - t0
    cached = bot.index.passage_embedder
    hits, misses = getattr(cached, "hits", 0), getattr(cached, "misses", 0)
    manifest = bot.index.manifest
    print(
        f"ingest: {report.summary()} ({ingest_s:.1f} s; embedding cache {hits} hits, {misses} misses); "
        f"index holds {manifest.articles} articles, {manifest.passages} passages"
    )
    for failure in report.failures[:5]:
        print(f"  skipped {failure}")

    haystack = ids if ids is not None else {a.key for a in bot.index.store.docs.iter_articles()}
    sets = label_sets(questions(), haystack, copies(ids))
    # an article kept as a near-identical copy of another (index/copies.py) is found through that one
    held = {d: a.key for _, rel in sets["gold"] + sets["weak"] for d in rel if (a := bot.index.article(d))}
    sets = {name: [(q, rel | {held.get(d, d) for d in rel}) for q, rel in pairs] for name, pairs in sets.items()}
    indexed = set(bot.index.store.docs.keys())
    unreachable = {name: sum(1 for _, rel in pairs if not rel & indexed) for name, pairs in sets.items()}
    sets["gold, article has text"] = [(q, rel) for q, rel in sets["gold"] if rel & indexed]
    scored = {name: pairs for name, pairs in sets.items() if not (args.gold_only and name == "weak")}
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name, pairs in scored.items():
        for mode in MODES:
            ranked = [ranked_articles(bot, q.text, mode) for q, _ in pairs]
            results.setdefault(name, {})[mode.value] = rank_metrics(ranked, [rel for _, rel in pairs])
        if args.date_window:  # the quiz's own week as a date filter: metadata a user may well give
            ranked = [
                ranked_articles(bot, q.text, Mode.HYBRID, filters=quiz_week(q.date, args.date_window)) for q, _ in pairs
            ]
            label = f"hybrid + dates (quiz day -{args.date_window}/+1)"
            results[name][label] = rank_metrics(ranked, [rel for _, rel in pairs])
        # asked as of the quiz day (no window given): later articles out, recent ones first
        day = [Filters(as_of=q.date.replace("/", "-")) for q, _ in pairs]
        ranked = [ranked_articles(bot, q.text, Mode.HYBRID, filters=f) for (q, _), f in zip(pairs, day, strict=True)]
        results[name]["hybrid + as_of (quiz day)"] = rank_metrics(ranked, [rel for _, rel in pairs])

    # latency: retrieval alone (the default search) and a full ask, over the gold questions then weak ones
    asks = [q.text for q, _ in sets["gold"] + sets["weak"]][: args.latency_questions]
    top_k, options = bot.settings.retrieval.top_k, bot.settings.retrieval
    bot.ask("warm up")
    retrieval_ms, ask_ms = [], []
    for question in asks:
        t = time.perf_counter()
        bot.ask(question)  # first: the question is embedded here, not remembered from the search
        ask_ms.append(1000 * (time.perf_counter() - t))
        t = time.perf_counter()
        bot.index.search(question, top_k, options, vector=bot.index.embedder.embed([question])[0])
        retrieval_ms.append(1000 * (time.perf_counter() - t))
    peak_rss = peak_rss_mb()
    live = index_dir / (index_dir / "CURRENT").read_text().strip()
    lite = bool(args.store) and Path(args.store).exists()
    approximate = approximate_search(bot, sets["gold"] + sets["weak"]) if not (args.no_ivf or args.store) else {}

    print()
    print(
        f"haystack: {len(haystack)} articles; "
        f"gold questions {len(sets['gold'])}, weak-label questions {len(sets['weak'])}; questions whose "
        f"articles are not in the index (no text): gold {unreachable['gold']}, weak {unreachable['weak']}"
    )
    print("| labels | method | R@1 | R@5 | R@10 | MRR@10 |")
    print("|---|---|---|---|---|---|")
    for name, by_mode in results.items():
        for mode, m in by_mode.items():
            print(f"| {name} | {mode} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | {m['MRR@10']:.3f} |")
    figures = {
        "ingest_s": round(ingest_s, 1),
        "articles": manifest.articles,
        "passages": manifest.passages,
        "index_mb": round(directory_size(live) / 2**20, 1),
        **({"milvus_lite_file_mb": round(directory_size(Path(args.store)) / 2**20, 1)} if lite else {}),
        "vector_index": type(bot.index.store.backend.vectors).__name__,
        "peak_rss_mb": round(peak_rss),
        "embedding_workers_peak_rss_mb": round(children_peak_rss_mb()),
        "serving_rss_mb": round(serve_rss) or "measured when the index exists before the run",
        "retrieval_ms_p50": round(percentile(retrieval_ms, 0.5), 1),
        "retrieval_ms_p95": round(percentile(retrieval_ms, 0.95), 1),
        "ask_ms_p50": round(percentile(ask_ms, 0.5), 1),
        "ask_ms_p95": round(percentile(ask_ms, 0.95), 1),
        "latency_questions": len(asks),
        "embedding_cache_hits": hits,
        "embedding_cache_misses": misses,
    }
    print()
    for key, value in figures.items():
        print(f"{key}: {value}")
    if approximate:
        print()
        print("IVF against exact search (all gold and weak questions):")
        for key, value in approximate.items():
            print(f"  {key}: {value}")
    if args.json:
        args.json.write_text(json.dumps({"metrics": results, "figures": figures, "ivf": approximate}, indent=2))


if __name__ == "__main__":
    main()
