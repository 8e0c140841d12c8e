"""Ingest with Ray: the embedding is spread over a pool of Ray actors (each loads the embedder
once), on this machine or on a Ray cluster; everything else is the plain ingest's.

:class:`RayEmbedder` is an :class:`~index.embedder.Embedder` whose ``embed`` hands blocks of texts
to the actors (``ray.util.ActorPool``, order kept) and gathers their vectors. :func:`ray_ingest`
gives it to the index's one writer (:class:`~index.writer.IndexWriter`) in place of the in-process
embedder, wrapped in the index's embedding cache when it has one: the driver looks every text up
in the cache first, sends only the misses to the actors and stores what they return, so re-running
an ingest costs file reads, as the plain one does, and the cache keeps a single writer. Splitting,
skipping articles already indexed (by content id, so an interrupted ingest continues where its
last save left off), merging copies and saving are the writer's, as for the plain ingest.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from index.embedding.embed_cache import CachedEmbedder
from index.embedding.embedder import Embedder
from index.news_index import NewsIndex
from index.reading.safe_read import LoadFailure
from index.records import Article
from index.writer import IngestReport

log = logging.getLogger(__name__)


class EmbedActor:
    """A Ray actor: loads the embedder once, then embeds blocks of texts."""

    def __init__(self, model: str) -> None:
        from index.embedding.embedder import load_embedder

        self.embedder = load_embedder(model)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)


class RayEmbedder:
    """The embedder ``local`` (its name, fingerprint and tokenizer), with ``embed`` done by
    ``actors`` Ray actors that each load the same model."""

    def __init__(self, local: Embedder, actors: int, block: int = 64) -> None:
        import ray
        from ray.util import ActorPool

        self.local = local
        self.name, self.fingerprint = local.name, local.fingerprint
        self.block = block
        remote = ray.remote(num_cpus=1)(EmbedActor)
        self.pool = ActorPool([remote.remote(local.name) for _ in range(actors)])  # type: ignore[attr-defined]
        self.actors = actors

    @property
    def dimension(self) -> int:
        return self.local.dimension

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.local.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), np.float32)
        size = max(8, min(self.block, -(-len(texts) // self.actors)))  # every actor gets work
        blocks = [list(texts[i : i + size]) for i in range(0, len(texts), size)]
        parts = list(self.pool.map(lambda actor, block: actor.embed.remote(block), blocks))
        return np.vstack(parts).astype(np.float32)


def ray_ingest(
    index: NewsIndex,
    items: Iterable[Article | LoadFailure],
    address: str | None = None,
    actors: int | None = None,
    progress: bool = False,
    total: int | None = None,
    wait: bool | float = True,
    on_wait: Callable[[str], None] | None = None,
    batch_passages: int = 512,
) -> IngestReport:
    """Add ``items`` to ``index`` with Ray: ``address`` of a Ray cluster (None: start a local Ray
    on this machine with its CPUs), ``actors`` embedding actors (default: one per CPU Ray has)."""
    import ray

    if not ray.is_initialized():
        ray.init(
            address=address or None,
            num_cpus=None if address else os.cpu_count(),
            include_dashboard=False,
            log_to_driver=False,
            logging_level=logging.WARNING,
        )
    pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    embedder: Any = RayEmbedder(index.embedder, pool)
    if index.settings.embed_cache:
        embedder = CachedEmbedder(embedder, index.settings.embed_cache)
    return index.add(
        items, progress, total, wait, on_wait, batch_passages=batch_passages, embedder=embedder, label="Indexing (Ray)"
    )
