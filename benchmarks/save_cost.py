"""What a save costs as the index grows: appending a segment vs rewriting everything.

Copies an existing index (default: the 3k RealTime QA haystack that ``retrieval_realtimeqa.py``
builds), then, in one process on the same store, times:

- ``rewrite``: a save that rewrites every file and stems every passage again for BM25 (what
  every save did before segments);
- ``append``: a save after adding ``--add`` articles (copies of existing ones under new keys,
  with their stored vectors: no embedding is timed), which writes one new segment and
  hard-links the rest;
- ``compact``: a compaction of the segments into one (term counts merged, nothing re-stemmed);
- ``load``: opening the index with one segment and with ``--segments`` segments.

Prints seconds per step and bytes written, and the ratio of each to ``rewrite``.

    python -m benchmarks.save_cost [--index DIR] [--add 20] [--segments 8]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from index.store import PassageStore

DEFAULT = Path.home() / ".cache/news-assistant-bench/realtimeqa-3k-all-MiniLM-L6-v2-onnx-int8"


def written(directory: Path, before: set[int]) -> int:
    """Bytes of the live generation's files that are not one of ``before``'s inodes."""
    gen = directory / (directory / "CURRENT").read_text()
    return sum(p.stat().st_size for p in gen.iterdir() if p.stat().st_ino not in before)


def inodes(directory: Path) -> set[int]:
    gen = directory / (directory / "CURRENT").read_text()
    return {p.stat().st_ino for p in gen.iterdir()}


def add_copies(store: PassageStore, n: int, tag: str) -> None:
    """``n`` existing articles again under new keys and titles, with their stored vectors."""
    for aid in list(store.docs.article_ids())[:n]:
        article = store.docs.get(aid)
        pids = store.docs.passage_ids_of(aid)
        copy = replace(article, key=f"{article.key}-{tag}", title=f"{article.title} ({tag})", id="")
        spans = [store.docs.span(p)[1:] for p in pids]
        vectors = np.vstack([store.vector(p) for p in pids])
        stored = [store.docs.sentence_vectors(p) for p in pids]
        sentences = stored if all(s is not None for s in stored) else None
        store.add(copy, spans, vectors, sentences)


def timed(step: str, directory: Path, action, base: float | None) -> float:  # type: ignore[no-untyped-def]
    before = inodes(directory)
    t = time.perf_counter()
    action()
    seconds = time.perf_counter() - t
    ratio = f"{seconds / base:6.3f}×" if base else "  1.000×"
    print(f"{step:<34} {seconds:8.2f} s  {written(directory, before) / 1e6:8.1f} MB written  {ratio} rewrite")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=DEFAULT)
    parser.add_argument("--add", type=int, default=20, help="articles added before each appending save")
    parser.add_argument("--segments", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=Path.home() / ".cache") as tmp:
        directory = Path(tmp) / "index"
        shutil.copytree(args.index, directory)
        store = PassageStore.load(directory)
        if store.manifest.format_version == 2 or store._compact:  # noqa: SLF001 (a benchmark of the store)
            store.save()  # into segments first (not timed: a one-off conversion)
            store = PassageStore.load(directory)
        m = store.manifest
        print(f"index: {m.articles} articles, {m.passages} passages, {len(m.segments)} segment(s)")

        def rewrite() -> None:
            store._compact = store._rebuild_keyword = True  # noqa: SLF001
            store.save()

        base = timed("rewrite (every save before)", directory, rewrite, None)
        for i in range(args.segments - 1):
            add_copies(store, args.add, f"copy{i}")
            timed(f"append {args.add} articles (segment {i + 2})", directory, store.save, base)
        t = time.perf_counter()
        PassageStore.load(directory)
        spread = time.perf_counter() - t

        def compact() -> None:
            store._compact = True  # noqa: SLF001
            store.save()

        timed("compact (merge term counts)", directory, compact, base)
        t = time.perf_counter()
        PassageStore.load(directory)
        one = time.perf_counter() - t
        print(f"load: {one:.2f} s with one segment, {spread:.2f} s with {args.segments}")


if __name__ == "__main__":
    main()
