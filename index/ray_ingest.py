"""Ingest with Ray: articles are split and embedded by a pool of Ray actors (each loads the
embedder once), on this machine or on a Ray cluster, and written to the index in batches.

The driver reads the input, skips articles already in the index (by content id, so an interrupted
ingest continues where its last save left off, as the plain ingest does), and hands the rest to
Ray Data in chunks of ``chunk`` articles: ``map_batches`` over an actor pool returns each article
with its passage spans, passage vectors and sentence vectors. The driver adds them to the index
under its write lock and saves after every chunk, so a chunk is the most an interruption loses.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np

from index.loaders import LoadFailure
from index.news_index import IngestReport, NewsIndex, embed_passages
from index.records import Article
from index.splitter import split_passages

log = logging.getLogger(__name__)


class EmbedActor:
    """A Ray actor: loads the embedder once, then splits and embeds batches of articles."""

    def __init__(
        self, model: str, max_tokens: int, overlap_tokens: int, sentence_vectors: bool, batch_passages: int
    ) -> None:
        from index.embedder import load_embedder

        self.embedder = load_embedder(model)
        self.max_tokens, self.overlap_tokens = max_tokens, overlap_tokens
        self.sentence_vectors, self.batch_passages = sentence_vectors, batch_passages

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        articles = [Article.from_dict(a) for a in batch["article"]]
        spans = [
            split_passages(a.text, self.embedder.count_tokens, self.max_tokens, self.overlap_tokens) for a in articles
        ]
        titles = [a.title for a, s in zip(articles, spans, strict=True) for _ in s]
        texts = [a.text[b:e] for a, s in zip(articles, spans, strict=True) for b, e in s]
        vectors, blocks = [], []
        for start in range(0, len(texts), self.batch_passages):
            end = start + self.batch_passages
            v, b = embed_passages(self.embedder, titles[start:end], texts[start:end], self.sentence_vectors)
            vectors.append(v)
            blocks.extend(b)
        matrix = np.vstack(vectors) if vectors else np.zeros((0, self.embedder.dimension), np.float32)
        out_vectors, out_sentences, row = [], [], 0
        for s in spans:
            out_vectors.append(matrix[row : row + len(s)])
            out_sentences.append(blocks[row : row + len(s)] if blocks else None)
            row += len(s)
        return {"article": batch["article"], "spans": spans, "vectors": out_vectors, "sentences": out_sentences}


def _chunks(
    items: Iterable[Article | LoadFailure], size: int, report: IngestReport, known: set[str], skipped: Callable[[], Any]
) -> Iterator[list[Article]]:
    """New articles in chunks of ``size``; failures and articles already in the index go to the
    report (and ``skipped()``, which advances the progress bar)."""
    chunk: list[Article] = []
    for item in items:
        if isinstance(item, LoadFailure):
            report.failures.append(item)
            skipped()
        elif item.id in known:
            report.unchanged.append(item.id)
            skipped()
        else:
            known.add(item.id)
            chunk.append(item)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def ray_ingest(
    index: NewsIndex,
    items: Iterable[Article | LoadFailure],
    address: str | None = None,
    actors: int | None = None,
    chunk: int = 512,
    batch_articles: int = 16,
    progress: bool = False,
    total: int | None = None,
    wait: bool | float = True,
    on_wait: Callable[[str], None] | None = None,
) -> IngestReport:
    """Add ``items`` to ``index`` with Ray: ``address`` of a Ray cluster (None: start a local Ray
    on this machine with its CPUs), ``actors`` embedding actors (default: one per CPU Ray has)."""
    import ray
    from tqdm import tqdm

    started = time.perf_counter()
    if not ray.is_initialized():
        ray.init(
            address=address or None,
            num_cpus=None if address else os.cpu_count(),
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
        logging.getLogger("ray.data").setLevel(logging.WARNING)
    ray.data.DataContext.get_current().enable_progress_bars = False
    pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    settings = index.settings
    report = IngestReport()
    bar = tqdm(total=total, unit="article", desc="Indexing (Ray)", disable=not progress)
    try:
        with index.writing(wait, on_wait) as writer:
            known = set(writer.store.articles) | set(writer.store.copies)
            for articles in _chunks(items, chunk, report, known, lambda: bar.update(1)):
                dataset = ray.data.from_items([{"article": a.to_dict()} for a in articles]).map_batches(
                    EmbedActor,
                    fn_constructor_kwargs={
                        "model": index.embedder.name,
                        "max_tokens": settings.max_tokens,
                        "overlap_tokens": settings.overlap_tokens,
                        "sentence_vectors": settings.sentence_vectors,
                        "batch_passages": 128,
                    },
                    batch_size=batch_articles,
                    compute=ray.data.ActorPoolStrategy(size=pool),
                    num_cpus=1,
                )
                for row in dataset.iter_rows():
                    article = Article.from_dict(row["article"])
                    spans = [(int(b), int(e)) for b, e in row["spans"]]
                    vectors = np.asarray(row["vectors"], dtype=np.float32).reshape(len(spans), -1)
                    sentences = list(row["sentences"]) if row["sentences"] is not None else None
                    writer.put(article, spans, vectors, report, sentences)
                    report.passages += len(spans)
                    bar.update(1)
                writer.save()
            writer.settle(report)
            if writer.unsaved or writer.store.generation is None:
                writer.save()
    finally:
        bar.close()
    report.seconds = time.perf_counter() - started
    return report
