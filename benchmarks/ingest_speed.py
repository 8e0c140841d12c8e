"""Ingest speed side by side, in one command: this project with each embedder variant, and
llama-index's default pipeline with the same MiniLM model, on the same RealTime QA articles.

    .venv/bin/python -m benchmarks.ingest_speed [--articles N] [--questions Q] [--only LABEL ...]

Each row runs in a fresh process (so its peak RSS is its own) over the first N articles (sorted
doc_ids) of RealTime QA's 3k haystack, building a fresh index without the embedding cache. It
reports articles/s and passages (chunks)/s of the whole ingest (load, split, embed, store, save),
word pieces embedded per second (every text handed to the model, at most 256 word pieces each:
passages with their titles, and for this project the sentences stored for answering), the share of
the chunks' word pieces the model reads (llama-index's 1,024-token chunks are cut at MiniLM's 256),
retrieval p50 over Q questions, extractive `ask` p50/p95 (this project), and peak RSS (for the
Ray row the driver's only: its actors are processes of their own).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import percentile
from assistant.settings import use_offline_environment
from benchmarks.memory import children_peak_rss_mb, peak_rss_mb
from benchmarks.realtimeqa import corpus_articles, corpus_records, haystack_ids, questions
from index.embedding.embedder import DEFAULT_MODEL, MINILM, load_embedder

LIMIT = 256  # MiniLM's max_seq_length: word pieces past it are not read
ROWS: dict[str, dict[str, Any]] = {
    "onnx int8, sentence vectors from the passage's pass": {
        "embed_model": DEFAULT_MODEL,
        "sentence_vectors_from_passage": True,
    },
    "onnx int8, sentence vectors from the passage's pass, one process": {
        "embed_model": DEFAULT_MODEL,
        "sentence_vectors_from_passage": True,
        "ingest_processes": 1,
    },
    "onnx int8, sentences embedded again, one process": {"embed_model": DEFAULT_MODEL, "ingest_processes": 1},
    "torch, passages only (as before sentence vectors)": {"embed_model": MINILM, "sentence_vectors": False},
    "torch": {"embed_model": MINILM},
    "onnx fp32": {"embed_model": f"{MINILM}-onnx-fp32"},
    "onnx int8, sentences embedded again": {"embed_model": DEFAULT_MODEL},
    "onnx int8, passages only": {"embed_model": DEFAULT_MODEL, "sentence_vectors": False},
    "onnx int8, near-identical copies not looked for": {"embed_model": DEFAULT_MODEL, "copy_similarity": 0},
    "onnx int8 through Ray actors (local Ray, one actor per CPU)": {"embed_model": DEFAULT_MODEL, "ray": "local"},
    "llama-index default pipeline (torch MiniLM)": {},
}


def first_ids(n: int) -> set[str]:
    return set(sorted(haystack_ids() or ())[:n])


def read(counts: list[int]) -> tuple[int, int]:
    """(word pieces the model reads, word pieces there are) for texts of ``counts`` word pieces
    (+2 special tokens each)."""
    return sum(min(c + 2, LIMIT) for c in counts), sum(c + 2 for c in counts)


def run_project(label: str, n: int, asks: list[str]) -> dict[str, Any]:
    from assistant import Assistant, Settings
    from index import sentence_spans
    from index.records import indexed_text

    with tempfile.TemporaryDirectory() as tmp:
        options = dict(ROWS[label])
        ray = options.pop("ray", None)
        settings = Settings(index={"directory": Path(tmp) / "index", **options})
        bot = Assistant.open(settings=settings, create=True)
        bot.index.embedder.embed(["warm up"])  # model load is not ingest time
        t = time.perf_counter()
        if ray:  # Ray's start and its actors' model loads count: a user waits for them
            from index.embedding.ray_ingest import ray_ingest

            report = ray_ingest(bot.index, corpus_articles(first_ids(n)), address=None if ray == "local" else ray)
        else:
            report = bot.index.add(corpus_articles(first_ids(n)))
        seconds = time.perf_counter() - t
        store, count = bot.index.store, bot.index.embedder.count_tokens
        passages = [store.passage(pid) for pid in store.docs.passage_ids()]
        texts = [indexed_text(store.docs.get(p.article_id).title, p.text) for p in passages]
        embedded, total = read(count(texts))
        share = embedded / total
        if ROWS[label].get("sentence_vectors", True) and not ROWS[label].get("sentence_vectors_from_passage"):
            sentences = {(p.article_id, p.start + s): p.text[s:e] for p in passages for s, e in sentence_spans(p.text)}
            embedded += read(count(list(sentences.values())))[0]
        retrieval, ask = [], []
        bot.ask("warm up")
        for q in asks:
            t0 = time.perf_counter()
            bot.ask(q)  # first: the question is embedded here, not remembered from the search
            ask.append(1000 * (time.perf_counter() - t0))
            t0 = time.perf_counter()
            bot.index.search(q, vector=bot.index.embedder.embed([q])[0])
            retrieval.append(1000 * (time.perf_counter() - t0))
        return {
            "articles": len(report.added) + len(report.merged),
            "merged_as_copies": len(report.merged),
            "passages": report.passages,
            "seconds": seconds,
            "word_pieces_embedded": embedded,
            "share_read": share,
            "retrieval_p50_ms": percentile(retrieval, 0.5),
            "ask_p50_ms": percentile(ask, 0.5),
            "ask_p95_ms": percentile(ask, 0.95),
        }


def run_llamaindex(n: int, asks: list[str]) -> dict[str, Any]:
    from llama_index.core import Document, Settings, VectorStoreIndex
    from llama_index.core.schema import MetadataMode

    from benchmarks.llamaindex_baseline import llama_embedding

    model = load_embedder(MINILM)
    model.embed(["warm up"])
    Settings.llm = None
    t = time.perf_counter()
    docs = [
        Document(text=r["text"], id_=r["doc_id"], metadata={"title": r.get("title") or ""})
        for r in corpus_records(first_ids(n))
        if (r.get("text") or "").strip()
    ]
    index = VectorStoreIndex.from_documents(docs, embed_model=llama_embedding(model))
    seconds = time.perf_counter() - t
    texts = [node.get_content(metadata_mode=MetadataMode.EMBED) for node in index.docstore.docs.values()]
    embedded, total = read(model.count_tokens(texts))
    retriever = index.as_retriever(similarity_top_k=5)
    retrieval = []
    for q in asks:
        t0 = time.perf_counter()
        retriever.retrieve(q)
        retrieval.append(1000 * (time.perf_counter() - t0))
    return {
        "articles": len(docs),
        "passages": len(texts),
        "seconds": seconds,
        "word_pieces_embedded": embedded,
        "share_read": embedded / total,
        "retrieval_p50_ms": percentile(retrieval, 0.5),
    }


def one(label: str, n: int, q: int) -> None:
    use_offline_environment()
    asks = [x.text for x in questions()[:q]]
    row = run_llamaindex(n, asks) if label.startswith("llama-index") else run_project(label, n, asks)
    print(json.dumps({**row, "peak_rss_mb": peak_rss_mb(), "workers_peak_rss_mb": children_peak_rss_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=150, help="the first N haystack articles")
    parser.add_argument("--questions", type=int, default=40, help="questions timed for retrieval and ask")
    parser.add_argument("--only", nargs="*", default=None, help="labels (or a word of them) to run")
    parser.add_argument("--one", default=None, help=argparse.SUPPRESS)  # a worker process
    args = parser.parse_args()
    if args.one:
        return one(args.one, args.articles, args.questions)
    labels = [lbl for lbl in ROWS if not args.only or any(o in lbl for o in args.only)]
    rows = {}
    for label in labels:
        command = [sys.executable, "-m", "benchmarks.ingest_speed", "--one", label, "--articles", str(args.articles)]
        root = Path(__file__).resolve().parents[1]
        proc = subprocess.run([*command, "--questions", str(args.questions)], capture_output=True, text=True, cwd=root)
        if proc.returncode != 0:
            print(f"{label}: failed\n{proc.stderr[-2000:]}")
            continue
        rows[label] = json.loads(proc.stdout.strip().splitlines()[-1])
        print(f"{label}: {rows[label]}", flush=True)
    llama = next((r for label, r in rows.items() if label.startswith("llama-index")), None)
    print()
    print(
        "| pipeline | articles/s | × llama-index per article | passages/s | word pieces embedded/s | share read "
        "| retrieval p50 | ask p50 / p95 | peak RSS (workers) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for label, r in rows.items():
        wps = r["word_pieces_embedded"] / r["seconds"]
        per_article = r["articles"] / r["seconds"]
        ratio = per_article / (llama["articles"] / llama["seconds"]) if llama else float("nan")
        ask = f"{r['ask_p50_ms']:.0f} / {r['ask_p95_ms']:.0f} ms" if "ask_p50_ms" in r else "–"
        workers = f" ({r['workers_peak_rss_mb']:.0f} MB)" if r.get("workers_peak_rss_mb", 0) > 100 else ""
        print(
            f"| {label} | {per_article:.2f} | {ratio:.2f} | {r['passages'] / r['seconds']:.1f} | {wps:,.0f} "
            f"| {100 * r['share_read']:.0f} % | {r['retrieval_p50_ms']:.0f} ms | {ask} "
            f"| {r['peak_rss_mb']:.0f} MB{workers} |"
        )
    print(f"\n{args.articles} articles of RealTime QA's haystack, each row a fresh process, run one after another.")


if __name__ == "__main__":
    main()
