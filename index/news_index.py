"""The searchable index of articles: load → split → embed → store, and dense search."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.embed_cache import CachedEmbedder
from index.embedder import Embedder
from index.errors import IndexMismatchError, IndexNotFoundError
from index.loaders import LoadFailure
from index.records import Article, Hit, Passage, indexed_text
from index.retrieval import Filters, Fusion, Mode, diversify, reciprocal_rank_fusion, score_fusion
from index.settings import IndexSettings, RetrievalSettings
from index.splitter import SPLITTER_VERSION, split_passages
from index.store import FORMAT_VERSION, Manifest, PassageStore, VectorIndex

log = logging.getLogger(__name__)


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("news-assistant")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


PACKAGE_VERSION = _package_version()


@dataclass
class IngestReport:
    """What an ingest did: article ids added, replaced (old id → new id), unchanged, and failures."""

    added: list[str] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        return (
            f"{len(self.added)} added, {len(self.replaced)} replaced, {len(self.unchanged)} unchanged, "
            f"{len(self.failures)} failed; {self.passages} passages in {self.seconds:.1f} s"
        )


def _batches(items: Iterable[Article | LoadFailure], size: int) -> Iterator[list[Article | LoadFailure]]:
    batch: list[Article | LoadFailure] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class NewsIndex:
    """Articles split into passages, embedded, and stored in a FAISS index on disk."""

    def __init__(self, store: PassageStore, embedder: Embedder, settings: IndexSettings) -> None:
        self.store = store
        self.settings = settings
        self.embedder = embedder
        # passages (not queries) are embedded through the disk cache when one is given
        self.passage_embedder: Embedder = (
            CachedEmbedder(embedder, settings.embed_cache) if settings.embed_cache else embedder
        )

    @staticmethod
    def _chunk_settings(max_tokens: int, overlap_tokens: int) -> dict[str, object]:
        return {
            "max_tokens": max_tokens,
            "overlap_tokens": overlap_tokens,
            "splitter": SPLITTER_VERSION,
            "embedded_text": "title+passage",
        }

    @classmethod
    def open(
        cls,
        directory: Path,
        embedder: Embedder,
        settings: IndexSettings | None = None,
        create: bool = False,
    ) -> NewsIndex:
        """Open the index at ``directory``; with ``create``, start an empty one if none is there.
        ``settings`` gives the chunking, the vector index type (``flat``, ``ivf`` or ``auto``: exact up
        to ``approximate_above`` passages, IVF above, switched when the index is saved) and the
        embedding cache folder (see :class:`CachedEmbedder`).

        Raises :class:`IndexMismatchError` when the index was built with another embedding model
        or chunking than the one given.
        """
        settings = settings or IndexSettings()
        chunk = cls._chunk_settings(settings.max_tokens, settings.overlap_tokens)
        if PassageStore.exists(directory):
            manifest = PassageStore.read_manifest(directory)
            expected = {
                "format_version": FORMAT_VERSION,
                "embed_model": embedder.name,
                "embed_fingerprint": embedder.fingerprint,
                "chunk": chunk,
            }
            found = {name: getattr(manifest, name) for name in expected}
            diffs = [
                f"{name}: index has {found[name]!r}, settings have {expected[name]!r}"
                for name in expected
                if found[name] != expected[name]
            ]
            if diffs:
                raise IndexMismatchError(
                    f"index {directory} was built with other settings ({'; '.join(diffs)}). "
                    f"Use the settings it was built with, or rebuild it: remove {directory} and run "
                    f"`assistant ingest --index {directory} PATH...` again."
                )
            store = PassageStore.load(directory)
        elif not create:
            raise IndexNotFoundError(
                f"no index at {directory}: build one with `assistant ingest --index {directory} PATH...`"
            )
        else:
            manifest = Manifest(
                embed_model=embedder.name,
                embed_fingerprint=embedder.fingerprint,
                dimension=embedder.dimension,
                chunk=chunk,
                package_version=PACKAGE_VERSION,
            )
            store = PassageStore(directory, manifest)
        return cls(store, embedder, settings)

    @property
    def directory(self) -> Path:
        return self.store.directory

    # ---- changing ------------------------------------------------------------------------
    def split(self, article: Article) -> list[tuple[int, int]]:
        s = self.settings
        return split_passages(article.text, self.embedder.count_tokens, s.max_tokens, s.overlap_tokens)

    def add(
        self,
        items: Iterable[Article | LoadFailure],
        progress: bool = False,
        total: int | None = None,
        batch_articles: int = 32,
        save_every: int = 5000,
        save_seconds: float = 120.0,
    ) -> IngestReport:
        """Add articles (and record load failures), streaming: one batch of texts and vectors is in
        flight at a time. Saves atomically every ``save_every`` articles or ``save_seconds`` of work,
        on Ctrl-C, and at the end. Articles already in the index are skipped by content id, so an
        ingest that was interrupted or killed continues where its last save left off when run again.
        """
        from tqdm import tqdm

        report = IngestReport()
        started = last_save = time.perf_counter()
        bar = tqdm(total=total, unit="article", desc="Indexing", disable=not progress)
        unsaved = 0
        try:
            for batch in _batches(items, batch_articles):
                unsaved += self._add_batch(batch, report)
                bar.update(len(batch))
                bar.set_postfix(passages=report.passages, refresh=False)
                if unsaved and (unsaved >= save_every or time.perf_counter() - last_save >= save_seconds):
                    self._save()
                    unsaved, last_save = 0, time.perf_counter()
        except KeyboardInterrupt:
            if unsaved:
                log.warning("interrupted: saving the %d articles indexed since the last save", unsaved)
                self._save()
            raise
        finally:
            bar.close()
        if unsaved or not PassageStore.exists(self.directory):
            self._save()
        report.seconds = time.perf_counter() - started
        return report

    def _save(self) -> None:
        if self.settings.vector_index != "auto":
            kind = VectorIndex(self.settings.vector_index)
        else:
            kind = VectorIndex.IVF if len(self.store.spans) > self.settings.approximate_above else VectorIndex.FLAT
        self.store.use_vector_index(kind)
        self.store.save(PACKAGE_VERSION)

    def _add_batch(self, batch: list[Article | LoadFailure], report: IngestReport) -> int:
        todo: list[Article] = []
        seen: set[str] = set()
        for item in batch:
            if isinstance(item, LoadFailure):
                log.warning("skipped %s", item)
                report.failures.append(item)
            elif item.id in self.store.articles or item.id in seen:
                report.unchanged.append(item.id)
            else:
                seen.add(item.id)
                todo.append(item)
        spans = [self.split(article) for article in todo]
        texts = [indexed_text(a.title, a.text[s:e]) for a, sp in zip(todo, spans, strict=True) for s, e in sp]
        vectors = self.passage_embedder.embed(texts)
        row = 0
        for article, article_spans in zip(todo, spans, strict=True):
            old = self.store.keys.get(article.key)
            if old is not None:
                self.store.remove(old)
                report.replaced.append((old, article.id))
            else:
                report.added.append(article.id)
            self.store.add(article, article_spans, vectors[row : row + len(article_spans)])
            row += len(article_spans)
        report.passages += len(texts)
        return len(todo)

    def remove(self, ids: Iterable[str]) -> list[str]:
        """Remove articles by id (or by key: record id, URL or path); returns the ids removed."""
        removed = []
        for ref in ids:
            article = self.article(ref)
            if article is not None and self.store.remove(article.id):
                removed.append(article.id)
        if removed:
            self._save()
        return removed

    # ---- reading -------------------------------------------------------------------------
    def article(self, ref: str) -> Article | None:
        """An article by its content id, or by its key (record id, URL or file path)."""
        if ref in self.store.articles:
            return self.store.articles[ref]
        aid = self.store.keys.get(ref)
        return self.store.articles[aid] if aid else None

    def passages_of(self, article_id: str) -> list[Passage]:
        return [self.store.passage(pid) for pid in self.store.by_article.get(article_id, [])]

    def search(
        self,
        query: str,
        k: int | None = None,
        options: RetrievalSettings | None = None,
        filters: Filters | None = None,
        vector: np.ndarray | None = None,
    ) -> list[Hit]:
        """The ``k`` (default ``options.top_k``) best passages for ``query``, best first: dense,
        keyword (BM25) or both fused as ``options.fusion`` says, with at most
        ``options.per_article`` passages per article and no near-copies of a taken passage from
        other articles. ``vector`` is the query's embedding, when the caller has it already."""
        options = options or RetrievalSettings()
        k = options.top_k if k is None else k
        store = self.store
        allowed = None
        if filters:
            allowed = {
                pid
                for aid, article in store.articles.items()
                if filters.allows(article)
                for pid in store.by_article[aid]
            }
        n = max(options.candidates, k)
        dense: list[tuple[int, float]] = []
        if options.mode != Mode.KEYWORD:
            vector = self.embedder.embed([query])[0] if vector is None else vector
            dense = store.search(vector, n, allowed, options.nprobe)
        keyword = store.keyword_index().search(query, n, allowed) if options.mode != Mode.DENSE else []
        if options.mode == Mode.HYBRID and options.fusion == Fusion.RRF:
            ranked = reciprocal_rank_fusion([[p for p, _ in dense], [p for p, _ in keyword]], options.rrf_k)
        elif options.mode == Mode.HYBRID:
            ranked = score_fusion(dense, keyword, options.dense_weight)
        else:
            ranked = dense or keyword
        chosen = diversify(
            ranked,
            k,
            article_of=lambda pid: store.spans[pid][0],
            vector_of=store.vector,
            per_article=options.per_article,
            duplicate_threshold=options.duplicate_threshold,
        )
        hits = []
        for pid, score in chosen:
            passage = store.passage(pid)
            hits.append(Hit(passage, score, store.articles[passage.article_id]))
        return hits

    @property
    def manifest(self) -> Manifest:
        return self.store.manifest
