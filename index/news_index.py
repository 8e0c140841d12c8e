"""The searchable index of articles: load → split → embed → store, and dense search."""

from __future__ import annotations

import copy
import dataclasses
import logging
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import numpy as np

from index.copies import find_original
from index.dates import parse_day, question_window
from index.embed_cache import CachedEmbedder
from index.embedder import Embedder
from index.errors import IndexMismatchError, IndexNotFoundError
from index.loaders import LoadFailure
from index.records import Article, Hit, Passage, indexed_text
from index.retrieval import Filters, Fusion, Mode, diversify, reciprocal_rank_fusion, score_fusion
from index.settings import IndexSettings, RetrievalSettings
from index.splitter import SPLITTER_VERSION, sentence_spans, split_passages
from index.store import READABLE_FORMATS, Manifest, PassageStore, VectorIndex, store_class, store_settings
from index.writelock import WriteLock

log = logging.getLogger(__name__)
_LATEST: weakref.WeakKeyDictionary[PassageStore, str] = weakref.WeakKeyDictionary()  # see NewsIndex._latest_day


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("news-assistant")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0+unknown"


PACKAGE_VERSION = _package_version()


@dataclass
class IngestReport:
    """What an ingest did: article ids added, replaced (old id → new id), merged as near-identical
    copies (copy id → id of the article holding it, see :mod:`index.copies`), unchanged, and failures."""

    added: list[str] = field(default_factory=list)
    replaced: list[tuple[str, str]] = field(default_factory=list)
    merged: list[tuple[str, str]] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[LoadFailure] = field(default_factory=list)
    passages: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        merged = f"{len(self.merged)} merged as copies, " if self.merged else ""
        return (
            f"{len(self.added)} added, {len(self.replaced)} replaced, {merged}{len(self.unchanged)} unchanged, "
            f"{len(self.failures)} failed; {self.passages} passages in {self.seconds:.1f} s"
        )

    def extend(self, other: IngestReport) -> None:
        self.added += other.added
        self.replaced += other.replaced
        self.merged += other.merged
        self.unchanged += other.unchanged
        self.failures += other.failures
        self.passages += other.passages


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
    ) -> NewsIndex:
        """Open the index at ``directory``; with ``create``, start an empty one if none is there.
        ``settings`` gives the chunking, the vector index type (``flat``, ``ivf`` or ``auto``: exact up
        to ``approximate_above`` passages, IVF above, switched when the index is saved) and the
        embedding cache folder (see :class:`CachedEmbedder`).

        Raises :class:`IndexMismatchError` when the index was built with another embedding model
        or chunking than the one given.
        """
        settings = settings or IndexSettings()
        if PassageStore.exists(directory):
            cls._check_compatible(directory, PassageStore.read_manifest(directory), embedder, settings)
            store = PassageStore.load(directory)
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
            store=store_settings(directory, settings.store),
        )
        return store_class(manifest)(directory, manifest)

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
            wanted = store_settings(directory, settings.store)
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
        if PassageStore.current_generation(self.directory) in (None, self._store.generation):
            return False
        with self._loading:
            if PassageStore.current_generation(self.directory) in (None, self._store.generation):
                return False
            self._store = self._load_live()
        log.info("switched to %s of %s", self._store.generation, self.directory)
        return True

    def snapshot(self) -> NewsIndex:
        """This index pinned to its current generation: one question reads one generation
        throughout, even when a writer publishes a new one meanwhile."""
        return copy.copy(self)

    @contextmanager
    def writing(self, wait: bool | float = True, on_wait: Callable[[str], None] | None = None) -> Iterator[IndexWriter]:
        """Take the index's write lock (see :class:`WriteLock`; ``wait`` and ``on_wait`` as there)
        and yield a writer over a private copy of the newest generation. Readers keep answering
        from the generation they have; each save publishes a new one, which this index (and any
        other process) switches to on :meth:`refresh`."""
        with WriteLock(self.directory, wait, on_wait):
            live = PassageStore.current_generation(self.directory)
            if live is None:
                base = self._empty_store(self.directory, self.embedder, self.settings)
            elif live == self._store.generation:
                base = self._store.copy()
            else:
                base = self._load_live()
            writer = IndexWriter(self, base)
            try:
                yield writer
            finally:
                if not writer.unsaved and base.generation == PassageStore.current_generation(self.directory):
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
    ) -> IngestReport:
        """Add articles under the write lock: see :meth:`IndexWriter.add`."""
        with self.writing(wait, on_wait) as writer:
            return writer.add(items, progress, total, batch_passages, save_every)

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
        return _article(self._store, ref)

    def passages_of(self, article_id: str) -> list[Passage]:
        store = self._store
        return [store.passage(pid) for pid in store.by_article.get(article_id, [])]

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
        allowed = None
        as_of = filters.as_of if filters else None
        if (
            filters
            and filters.as_of
            and filters == Filters(as_of=filters.as_of)
            and filters.as_of[:10] >= self._latest_day()
        ):
            filters = None  # no article is dated after the as-of day: nothing to leave out (no scan)
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
            vector = self.query_vector(query) if vector is None else vector
            dense = store.dense_search(vector, n, filters, allowed, options.nprobe)
        keyword = store.keyword_search(query, n, filters, allowed) if options.mode != Mode.DENSE else []
        if options.mode == Mode.HYBRID and options.fusion == Fusion.RRF:
            ranked = reciprocal_rank_fusion([[p for p, _ in dense], [p for p, _ in keyword]], options.rrf_k)
        elif options.mode == Mode.HYBRID:
            ranked = score_fusion(dense, keyword, options.dense_weight)
        else:
            ranked = dense or keyword
        if as_of and (options.date_prior > 0 or options.window_prior > 0):
            ranked = self._date_prior(query, ranked, as_of, options)
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

    def _latest_day(self) -> str:
        """The latest article date of the current generation (computed once per generation)."""
        store = self.store
        if store not in _LATEST:
            _LATEST[store] = max((a.date[:10] for a in store.articles.values()), default="")
        return _LATEST[store]

    def _date_prior(
        self, query: str, ranked: list[tuple[int, float]], as_of: str, options: RetrievalSettings
    ) -> list[tuple[int, float]]:
        """``ranked`` rescored by how close each article's date is to the days the question names
        (its time words, read against ``as_of``), or to ``as_of`` itself: news is about now."""
        day = parse_day(as_of)
        window = question_window(query, day)
        since, until = window or (day, day)
        slack = until + timedelta(days=7)  # a story is reported in the days after it happened
        store, weight = self.store, options.window_prior if window else options.date_prior
        closeness: list[float | None] = []
        for pid, _ in ranked:
            try:
                article_day = parse_day(store.articles[store.spans[pid][0]].date)
            except ValueError:
                closeness.append(None)  # undated
                continue
            inside = since <= article_day <= slack
            gap = 0 if inside else min(abs((article_day - since).days), abs((article_day - slack).days))
            closeness.append(0.5 ** (gap / options.recency_half_life_days))
        dated = [c for c in closeness if c is not None]
        neutral = sum(dated) / len(dated) if dated else 1.0  # an undated article: like the average one
        out = [
            (pid, score * (1 - weight + weight * (neutral if c is None else c)))
            for (pid, score), c in zip(ranked, closeness, strict=True)
        ]
        return sorted(out, key=lambda item: -item[1])

    @property
    def manifest(self) -> Manifest:
        return self.store.manifest


def embed_passages(
    embedder: Embedder, titles: list[str], passages: list[str], sentences: bool = True
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Vectors of the passages (each with its article's title, as indexed) and, with
    ``sentences``, of each passage's sentences (float16, rows in :func:`sentence_spans` order; a
    sentence that two overlapping passages share is embedded once), so that answering never
    embeds a sentence again."""
    vectors = embedder.embed([indexed_text(t, p) for t, p in zip(titles, passages, strict=True)])
    if not sentences:
        return vectors, []
    split = [[p[s:e] for s, e in sentence_spans(p)] for p in passages]
    unique = list(dict.fromkeys(text for texts in split for text in texts))
    row = {text: i for i, text in enumerate(unique)}
    embedded = embedder.embed(unique).astype(np.float16)
    blocks = [embedded[[row[t] for t in texts]] for texts in split]
    return vectors, blocks


def _article(store: PassageStore, ref: str) -> Article | None:
    if ref in store.articles:
        return store.articles[ref]
    aid = store.keys.get(ref) or store.copies.get(ref)
    return store.articles[aid] if aid else None


def _copy_named(store: PassageStore, ref: str) -> tuple[Article, Article] | None:
    """(holder, copy) when ``ref`` is the id or key of a merged copy rather than of an article."""
    holder = _article(store, ref)
    if holder is None or ref in (holder.id, holder.key):
        return None
    return next(((holder, c) for c in holder.copies if ref in (c.id, c.key)), None)


class IndexWriter:
    """Changes to one index under its write lock, made on a private copy and published by saving
    (see :meth:`NewsIndex.writing`)."""

    def __init__(self, index: NewsIndex, store: PassageStore) -> None:
        self.index = index
        self.store = store
        self.unsaved = 0  # articles added or removed since the last save
        self._orphans: list[Article] = []  # copies of replaced or removed articles, to be added again

    def add(
        self,
        items: Iterable[Article | LoadFailure],
        progress: bool = False,
        total: int | None = None,
        batch_passages: int = 128,
        save_every: int = 5000,
        save_seconds: float = 120.0,
    ) -> IngestReport:
        """Add articles (and record load failures), streaming: each article is split as it
        arrives and embedded in batches of ``batch_passages``. Saves every ``save_every`` articles
        or ``save_seconds`` of work (at least ten times what the last save took), at the end, and
        on Ctrl-C (with every article already read and split, even while a later one is still
        being read). Articles already in the index are skipped by content id, so an interrupted
        ingest continues where its last save left off.
        """
        from tqdm import tqdm

        report = IngestReport()
        started = last_save = time.perf_counter()
        save_cost = 0.0
        bar = tqdm(total=total, unit="article", desc="Indexing", disable=not progress)
        pending: list[tuple[Article, list[tuple[int, int]]]] = []
        pending_passages = 0
        seen: dict[str, str] = {}  # content id -> key of the articles read in this ingest

        sentence_vectors = self.index.settings.sentence_vectors

        def flush() -> None:
            passages = [a.text[s:e] for a, spans in pending for s, e in spans]
            titles = [a.title for a, spans in pending for _ in spans]
            parts, sentences = [], []
            for start in range(0, len(passages), batch_passages):
                end = start + batch_passages
                vectors, blocks = embed_passages(
                    self.index.passage_embedder, titles[start:end], passages[start:end], sentence_vectors
                )
                parts.append(vectors)
                sentences.extend(blocks)
                report.passages += len(vectors)
                bar.set_postfix(passages=report.passages)
            vectors = np.vstack(parts) if parts else np.zeros((0, self.store.manifest.dimension), np.float32)
            row = 0
            for article, spans in pending:
                blocks = sentences[row : row + len(spans)] or None
                self.put(article, spans, vectors[row : row + len(spans)], report, blocks)
                row += len(spans)
            pending.clear()

        try:
            for item in items:
                if isinstance(item, LoadFailure):
                    log.debug("skipped %s", item)
                    report.failures.append(item)
                elif item.id in self.store.articles or item.id in self.store.copies:
                    self._known(item, report)
                elif item.id in seen:  # the same text twice in one ingest: once the first is stored
                    if seen[item.id] == item.key:
                        report.unchanged.append(item.id)
                    else:
                        self._orphans.append(item)
                else:
                    seen[item.id] = item.key
                    pending.append((item, self.index.split(item)))
                    pending_passages += len(pending[-1][1])
                    if pending_passages >= batch_passages:
                        flush()
                        pending_passages = 0
                bar.update(1)
                # a save appends a segment, but a compaction rewrites everything: wait at least ten
                # times as long as the last save took (saving stays under ~10 % of the work)
                waited = time.perf_counter() - last_save
                if self.unsaved and (self.unsaved >= save_every or waited >= max(save_seconds, 10 * save_cost)):
                    t = time.perf_counter()
                    self.save()
                    last_save = time.perf_counter()
                    save_cost = last_save - t
            flush()
        except KeyboardInterrupt:
            flush()
            if self.unsaved:
                log.warning("interrupted: saving the %d articles indexed since the last save", self.unsaved)
                self.save()
            raise
        finally:
            bar.close()
        self.settle(report)
        if self.unsaved or self.store.generation is None:
            self.save()
        report.seconds = time.perf_counter() - started
        return report

    def put(
        self,
        article: Article,
        spans: list[tuple[int, int]],
        vectors: np.ndarray,
        report: IngestReport,
        sentences: list[np.ndarray] | None = None,
    ) -> None:
        """Add one split and embedded article, replacing an older version with the same key; a
        near-identical copy of an indexed article is merged into it instead (see :mod:`index.copies`)."""
        replaced = self._release(article, report)
        original = find_original(
            article, vectors, self._nearest, self.store.articles, self.index.settings.copy_similarity
        )
        if original is not None:
            self._merge(self.store.articles[original[0]], article, report, original[1])
            return
        if not replaced:
            report.added.append(article.id)
        self.store.add(article, spans, vectors, sentences)

    def _release(self, article: Article, report: IngestReport) -> bool:
        """Make way for ``article``: remove the older version under its key (an article, whose
        copies are added again later, or a merged copy); True if there was one."""
        named = _copy_named(self.store, article.key)
        old = self.store.keys.get(article.key)
        self.unsaved += 1
        if named is not None:
            holder, gone = named
            self._rewrite(dataclasses.replace(holder, copies=tuple(c for c in holder.copies if c.id != gone.id)))
            report.replaced.append((gone.id, article.id))
            return True
        if old is not None:
            self._orphans.extend(self.store.articles[old].copies)
            self.store.remove(old)
            report.replaced.append((old, article.id))
            return True
        return False

    def _merge(self, holder: Article, copy_: Article, report: IngestReport, resemblance: float = 1.0) -> None:
        self._rewrite(dataclasses.replace(holder, copies=(*holder.copies, dataclasses.replace(copy_, copies=()))))
        report.merged.append((copy_.id, holder.id))
        log.info("%s is a copy of %s (resemblance %.2f)", copy_.key, holder.key, resemblance)

    def settle(self, report: IngestReport) -> None:
        """Add again the copies of the articles replaced or removed (each is indexed, or merged into
        another article) and the same texts met twice in one ingest."""
        while self._orphans:
            orphans, self._orphans = self._orphans, []
            report.extend(self.add(orphans))

    def _known(self, article: Article, report: IngestReport) -> None:
        """An article whose text is indexed already: unchanged under its own key, else (the same
        text from another file or outlet) a copy of the article holding that text."""
        holder = self.store.articles[self.store.copies.get(article.id, article.id)]
        if article.key in (holder.key, *(c.key for c in holder.copies)) or not self.index.settings.copy_similarity:
            report.unchanged.append(article.id)
            return
        self._release(article, report)
        self._merge(self.store.articles[holder.id], article, report)

    def _nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        found = self.store.dense_search(vector, k, None, None)
        return [(self.store.spans[pid][0], score) for pid, score in found if pid in self.store.spans]

    def _rewrite(self, article: Article) -> None:
        """Store a changed record of an indexed article (its copies), keeping its passages' vectors."""
        pids = self.store.by_article[article.id]
        spans = [self.store.spans[p][1:] for p in pids]
        vectors = np.vstack([self.store.vector(p) for p in pids]) if pids else np.zeros((0, 0), np.float32)
        blocks = [self.store.sentences.get(p) for p in pids]
        sentences = blocks if pids and all(b is not None for b in blocks) else None
        self.store.remove(article.id)
        self.store.add(article, spans, vectors, sentences)  # type: ignore[arg-type]

    def remove(self, ids: Iterable[str]) -> list[str]:
        """Remove articles by id (or by key: record id, URL or path) and save; the ids removed. A
        merged copy's id or key removes only the copy; an article with copies leaves them indexed
        (the first takes its place, the others are merged into it again)."""
        removed = []
        for ref in ids:
            named = _copy_named(self.store, ref)
            if named is not None:
                holder, gone = named
                self._rewrite(dataclasses.replace(holder, copies=tuple(c for c in holder.copies if c.id != gone.id)))
                removed.append(gone.id)
                self.unsaved += 1
                continue
            article = _article(self.store, ref)
            if article is not None and self.store.remove(article.id):
                self._orphans.extend(article.copies)
                removed.append(article.id)
                self.unsaved += 1
        if self._orphans:
            self.settle(IngestReport())  # saves
        elif removed:
            self.save()
        return removed

    def save(self) -> None:
        """Publish the changes as a new generation (the vector index type chosen by the settings)."""
        settings = self.index.settings
        if settings.vector_index != "auto":
            kind = VectorIndex(settings.vector_index)
        else:
            kind = VectorIndex.IVF if len(self.store.spans) > settings.approximate_above else VectorIndex.FLAT
        self.store.use_vector_index(kind)
        self.store.save(PACKAGE_VERSION)
        self.unsaved = 0
