"""The searchable index of articles: load → split → embed → store, and dense search."""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import index.generations as generations
from index.backends.backend import backend_settings
from index.disk.writelock import WriteLock
from index.embedding.embed_cache import CachedEmbedder
from index.embedding.embedder import Embedder
from index.embedding.processes import ingest_embedder
from index.errors import IndexMismatchError, IndexNotFoundError
from index.language.recency import date_prior
from index.language.splitter import SPLITTER_VERSION, split_passages
from index.manifest import READABLE_FORMATS, Manifest
from index.reading.safe_read import LoadFailure
from index.records import Article, Hit, Passage
from index.retrieval import Filters, Fusion, Mode, diversify, reciprocal_rank_fusion, score_fusion
from index.settings import IndexSettings, RetrievalSettings
from index.store import PassageStore
from index.writer import IndexWriter, IngestReport

log = logging.getLogger(__name__)
_LATEST: weakref.WeakKeyDictionary[PassageStore, str] = weakref.WeakKeyDictionary()  # see NewsIndex._latest_day


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("news-assistant")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


PACKAGE_VERSION = _package_version()


@dataclass(frozen=True)
class IndexInfo:
    """What an index holds and was built with. ``fingerprint`` (12 hex digits) changes with its
    contents and build settings: an evaluation run records it."""

    directory: str
    generation: str | None
    articles: int
    copies: int  # near-identical articles kept with another (see index.copies)
    passages: int
    embed_model: str
    dimension: int
    chunk: dict[str, object]
    backend: str  # where the vectors and keyword postings are searched: faiss or milvus
    vector_index: str
    updated: str
    package_version: str
    fingerprint: str


class NewsIndex:
    """Articles split into passages, embedded, and stored in a FAISS index on disk."""

    def __init__(self, store: PassageStore, embedder: Embedder, settings: IndexSettings) -> None:
        self._store = store
        self.settings = settings
        self.embedder = embedder
        # passages (not queries) are embedded through the disk cache when one is given
        self.passage_embedder: Embedder = (
            CachedEmbedder(embedder, settings.embed_cache) if settings.embed_cache else embedder
        )
        self._loading = threading.Lock()
        # the last questions' vectors (shared by snapshots): an evaluation's second, deeper search
        # of a question that was just asked does not embed it again
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_lock = threading.Lock()

    QUERY_VECTORS = 256

    def query_vector(self, query: str) -> np.ndarray:
        """The embedding of ``query`` (remembered for the last :attr:`QUERY_VECTORS` queries)."""
        with self._query_lock:
            vector = self._query_vectors.get(query)
            if vector is not None:
                self._query_vectors.move_to_end(query)
                return vector
        vector = self.embedder.embed([query])[0]
        with self._query_lock:
            self._query_vectors[query] = vector
            while len(self._query_vectors) > self.QUERY_VECTORS:
                self._query_vectors.popitem(last=False)
        return vector

    @property
    def store(self) -> PassageStore:
        """The generation this index answers from (replaced whole, never changed in place)."""
        return self._store

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
        store: PassageStore | None = None,
    ) -> NewsIndex:
        """Open the index at ``directory``; with ``create``, start an empty one if none is there.
        ``store``: the index already loaded from ``directory`` (its manifest is then read once).
        ``settings`` gives the chunking, the vector index type (``flat``, ``ivf`` or ``auto``: exact up
        to ``approximate_above`` passages, IVF above, switched when the index is saved) and the
        embedding cache folder (see :class:`CachedEmbedder`).

        Raises :class:`IndexMismatchError` when the index was built with another embedding model
        or chunking than the one given.
        """
        settings = settings or IndexSettings()
        if store is None and generations.exists(directory):
            store = PassageStore.load(directory)
        if store is not None:
            cls._check_compatible(directory, store.manifest, embedder, settings)
        elif not create:
            raise IndexNotFoundError(
                f"no index at {directory}: build one with `assistant ingest --index {directory} PATH...`"
            )
        else:
            store = cls._empty_store(directory, embedder, settings)
        return cls(store, embedder, settings)

    @classmethod
    def _empty_store(cls, directory: Path, embedder: Embedder, settings: IndexSettings) -> PassageStore:
        manifest = Manifest(
            embed_model=embedder.name,
            embed_fingerprint=embedder.fingerprint,
            dimension=embedder.dimension,
            chunk=cls._chunk_settings(settings.max_tokens, settings.overlap_tokens),
            package_version=PACKAGE_VERSION,
            store=backend_settings(directory, settings.store),
        )
        return PassageStore(directory, manifest)

    @classmethod
    def _check_compatible(
        cls, directory: Path, manifest: Manifest, embedder: Embedder, settings: IndexSettings
    ) -> None:
        expected = {
            "embed_model": embedder.name,
            "embed_fingerprint": embedder.fingerprint,
            "chunk": cls._chunk_settings(settings.max_tokens, settings.overlap_tokens),
        }
        found = {name: getattr(manifest, name) for name in expected}
        diffs = [
            f"{name}: index has {found[name]!r}, settings have {expected[name]!r}"
            for name in expected
            if found[name] != expected[name]
        ]
        if settings.store is not None:
            wanted = backend_settings(directory, settings.store)
            if (wanted["kind"], wanted.get("uri")) != (manifest.store.get("kind"), manifest.store.get("uri")):
                diffs.append(
                    f"store: index has {manifest.store.get('kind')} {manifest.store.get('uri', '')}".rstrip()
                    + f", settings have {settings.store!r}"
                )
        if manifest.format_version not in READABLE_FORMATS:
            diffs.append(f"format_version: index has {manifest.format_version}, this version reads {READABLE_FORMATS}")
        if diffs:
            raise IndexMismatchError(
                f"index {directory} was built with other settings ({'; '.join(diffs)}). "
                f"Use the settings it was built with, or rebuild it: remove {directory} and run "
                f"`assistant ingest --index {directory} PATH...` again."
            )

    def _load_live(self) -> PassageStore:
        store = PassageStore.load(self.directory)
        self._check_compatible(self.directory, store.manifest, self.embedder, self.settings)
        return store

    def refresh(self) -> bool:
        """Switch to the newest generation on disk when another writer (or process) published one
        since this index was loaded; True when it switched. Cheap when nothing changed (one read of
        ``CURRENT``); questions already running keep the generation they started with."""
        if generations.current_generation(self.directory) in (None, self._store.generation):
            return False
        with self._loading:
            if generations.current_generation(self.directory) in (None, self._store.generation):
                return False
            self._store = self._load_live()
        log.info("switched to %s of %s", self._store.generation, self.directory)
        return True

    def snapshot(self) -> NewsIndex:
        """This index pinned to its current generation: one question reads one generation
        throughout, even when a writer publishes a new one meanwhile."""
        return copy.copy(self)

    @contextmanager
    def writing(
        self, wait: bool | float = True, on_wait: Callable[[str], None] | None = None, embedder: Embedder | None = None
    ) -> Iterator[IndexWriter]:
        """Take the index's write lock (see :class:`WriteLock`; ``wait`` and ``on_wait`` as there)
        and yield a writer over a private copy of the newest generation. Readers keep answering
        from the generation they have; each save publishes a new one, which this index (and any
        other process) switches to on :meth:`refresh`. ``embedder``: what embeds the passages
        (default: this index's, through its embedding cache; see :mod:`index.ray_ingest`)."""
        with WriteLock(self.directory, wait, on_wait):
            live = generations.current_generation(self.directory)
            if live is None:
                base = self._empty_store(self.directory, self.embedder, self.settings)
            elif live == self._store.generation:
                base = self._store.copy()
            else:
                base = self._load_live()
            writer = IndexWriter(base, self.settings, self.split, embedder or self.passage_embedder, PACKAGE_VERSION)
            try:
                yield writer
            finally:
                if not writer.unsaved and base.generation == generations.current_generation(self.directory):
                    self._store = base  # published: no need to read it back from disk

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
        wait: bool | float = True,
        on_wait: Callable[[str], None] | None = None,
        batch_passages: int = 128,
        save_every: int = 5000,
        embedder: Embedder | None = None,
        label: str = "Indexing",
    ) -> IngestReport:
        """Add articles under the write lock: see :meth:`IndexWriter.add`. Without ``embedder``,
        a big ingest is embedded by worker processes (``index.ingest_processes``; :mod:`processes`)."""
        with ingest_embedder(self.embedder, self.passage_embedder, self.settings, embedder, batch_passages) as chosen:
            with self.writing(wait, on_wait, chosen) as writer:
                return writer.add(items, progress, total, batch_passages, save_every, label=label)

    def remove(
        self, ids: Iterable[str], wait: bool | float = True, on_wait: Callable[[str], None] | None = None
    ) -> list[str]:
        """Remove articles by id (or by key: record id, URL or path); returns the ids removed."""
        with self.writing(wait, on_wait) as writer:
            return writer.remove(ids)

    # ---- reading -------------------------------------------------------------------------
    def article(self, ref: str) -> Article | None:
        """An article by its content id, or by its key (record id, URL or file path); a merged
        copy's id or key gives the article holding it."""
        return self._store.article(ref)

    def iter_articles(self) -> Iterator[Article]:
        """Every article of the generation this index answers from (in the order they were added),
        with its text (read from disk: use :meth:`headers` where texts are not needed)."""
        return self._store.docs.iter_articles()

    def headers(self) -> Iterator[Article]:
        """Every article, in the order they were added, with no text read from disk (an article of
        a saved segment comes with an empty text): titles, dates, sources, keys, copies."""
        return self._store.docs.headers()

    def count(self) -> tuple[int, int]:
        """(articles, passages)."""
        return self._store.docs.count()

    def info(self) -> IndexInfo:
        """What the index holds and was built with (the generation it answers from)."""
        store, m = self._store, self._store.manifest
        articles, passages = store.docs.count()
        fingerprint = json.dumps([m.embed_model, m.embed_fingerprint, m.chunk, articles, passages, m.updated])
        return IndexInfo(
            directory=str(store.directory),
            generation=store.generation,
            articles=articles,
            copies=store.docs.copy_count(),
            passages=passages,
            embed_model=m.embed_model,
            dimension=m.dimension,
            chunk=dict(m.chunk),
            backend=str(m.store.get("kind", "faiss")),
            vector_index=m.vector_index,
            updated=m.updated,
            package_version=m.package_version,
            fingerprint=hashlib.sha256(fingerprint.encode()).hexdigest()[:12],
        )

    def passages_of(self, article_id: str) -> list[Passage]:
        return self._store.passages_of(article_id)

    def passage_vector(self, pid: int) -> np.ndarray:
        """The stored (unit) vector of passage ``pid``."""
        return self._store.vector(pid)

    def sentence_vectors(self, pid: int) -> np.ndarray | None:
        """Vectors of passage ``pid``'s sentences stored at ingest (float16, rows in
        ``sentence_spans`` order), or None when there are none (an index built before them)."""
        return self._store.sentence_vectors(pid)

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
        as_of = filters.as_of if filters else None
        if (
            filters
            and filters.as_of
            and filters == Filters(as_of=filters.as_of)
            and filters.as_of[:10] >= self._latest_day()
        ):
            filters = None  # no article is dated after the as-of day: nothing to leave out
        where = store.where(filters)
        n = max(options.candidates, k)
        dense: list[tuple[int, float]] = []
        if options.mode != Mode.KEYWORD:
            vector = self.query_vector(query) if vector is None else vector
            dense = store.dense_search(vector, n, where, options.nprobe)
        keyword = store.keyword_search(query, n, where) if options.mode != Mode.DENSE else []
        if options.mode == Mode.HYBRID and options.fusion == Fusion.RRF:
            ranked = reciprocal_rank_fusion([[p for p, _ in dense], [p for p, _ in keyword]], options.rrf_k)
        elif options.mode == Mode.HYBRID:
            ranked = score_fusion(dense, keyword, options.dense_weight)
        else:
            ranked = dense or keyword
        if as_of and (options.date_prior > 0 or options.window_prior > 0):
            dates = store.docs
            ranked = date_prior(query, ranked, as_of, options, lambda pid: dates.get(dates.article_of(pid)).date)
        chosen = diversify(
            ranked,
            k,
            article_of=store.docs.article_of,
            vector_of=store.vector,
            per_article=options.per_article,
            duplicate_threshold=options.duplicate_threshold,
        )
        hits = []
        for pid, score in chosen:
            passage = store.passage(pid)
            hits.append(Hit(passage, score, store.docs.get(passage.article_id)))
        return hits

    def _latest_day(self) -> str:
        """The latest article date of the current generation (computed once per generation)."""
        store = self.store
        if store not in _LATEST:
            _LATEST[store] = max((a.date[:10] for a in store.docs.headers()), default="")
        return _LATEST[store]

    @property
    def manifest(self) -> Manifest:
        return self.store.manifest
