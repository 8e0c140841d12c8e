"""Ingest: articles split, embedded and stored through one writer, under the index's write lock."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from index.copies import find_original
from index.embedding.embedder import Embedder, EmbedsSpans
from index.language.splitter import sentence_spans
from index.manifest import VectorIndex
from index.reading.safe_read import LoadFailure
from index.records import Article, indexed_text
from index.settings import IndexSettings
from index.store import PassageStore

log = logging.getLogger(__name__)

Split = Callable[[Article], list[tuple[int, int]]]  # an article -> its passages' (start, end)


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
            f"{len(self.failures)} failed; {self.passages} passage{'' if self.passages == 1 else 's'} "
            f"in {self.seconds:.1f} s"
        )

    def extend(self, other: IngestReport) -> None:
        self.added += other.added
        self.replaced += other.replaced
        self.merged += other.merged
        self.unchanged += other.unchanged
        self.failures += other.failures
        self.passages += other.passages


def embed_passages(
    embedder: Embedder, titles: list[str], passages: list[str], sentences: bool = True, from_passage: bool = False
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Vectors of the passages (each with its article's title, as indexed) and, with
    ``sentences``, of each passage's sentences (float16, rows in :func:`sentence_spans` order; a
    sentence that two overlapping passages share is embedded once), so that answering never
    embeds a sentence again. With ``from_passage`` (and an embedder that can), each sentence's
    vector comes from its passage's own pass (``index.sentence_vectors_from_passage``)."""
    texts = [indexed_text(t, p) for t, p in zip(titles, passages, strict=True)]
    if sentences and from_passage and isinstance(embedder, EmbedsSpans):
        return _from_passages(embedder, texts, passages)
    vectors = embedder.embed(texts)
    if not sentences:
        return vectors, []
    split = [[p[s:e] for s, e in sentence_spans(p)] for p in passages]
    unique = list(dict.fromkeys(text for texts in split for text in texts))
    row = {text: i for i, text in enumerate(unique)}
    embedded = embedder.embed(unique).astype(np.float16)
    blocks = [embedded[[row[t] for t in texts]] for texts in split]
    return vectors, blocks


def _from_passages(embedder: EmbedsSpans, texts: list[str], passages: list[str]) -> tuple[np.ndarray, list[np.ndarray]]:
    """One pass per passage: the passages' vectors and their sentences' from the same pass (a
    sentence the truncation cut off is embedded on its own, by the embedder)."""
    spans = [sentence_spans(p) for p in passages]
    shifted = [
        [(len(t) - len(p) + s, len(t) - len(p) + e) for s, e in ss]
        for t, p, ss in zip(texts, passages, spans, strict=True)
    ]
    vectors, pooled = embedder.embed_spans(texts, shifted)
    blocks = [np.asarray(rows, dtype=np.float16).reshape(-1, vectors.shape[1]) for rows in pooled]
    return vectors, blocks


def _copy_named(store: PassageStore, ref: str) -> tuple[Article, Article] | None:
    """(holder, copy) when ``ref`` is the id or key of a merged copy rather than of an article."""
    holder = store.article(ref)
    if holder is None or ref in (holder.id, holder.key):
        return None
    return next(((holder, c) for c in holder.copies if ref in (c.id, c.key)), None)


class IndexWriter:
    """Changes to one index under its write lock, made on a private copy of the store and
    published by saving (see :meth:`NewsIndex.writing`): ``split`` cuts an article into passages,
    ``embedder`` embeds them (through the embedding cache when the index has one)."""

    def __init__(
        self, store: PassageStore, settings: IndexSettings, split: Split, embedder: Embedder, version: str = ""
    ) -> None:
        self.store = store
        self.settings = settings
        self.split = split
        self.embedder = embedder
        self.version = version  # the package version recorded in the manifests it saves
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
        label: str = "Indexing",
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
        bar = tqdm(total=total, unit="article", desc=label, disable=not progress)
        pending: list[tuple[Article, list[tuple[int, int]]]] = []
        pending_passages = 0
        seen: dict[str, str] = {}  # content id -> key of the articles read in this ingest

        sentence_vectors = self.settings.sentence_vectors
        from_passage = self.settings.sentence_vectors_from_passage

        def flush() -> None:
            passages = [a.text[s:e] for a, spans in pending for s, e in spans]
            titles = [a.title for a, spans in pending for _ in spans]
            parts, sentences = [], []
            for start in range(0, len(passages), batch_passages):
                end = start + batch_passages
                vectors, blocks = embed_passages(
                    self.embedder, titles[start:end], passages[start:end], sentence_vectors, from_passage
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
                elif self.store.docs.has_article(item.id) or self.store.docs.holder_of(item.id):
                    self._known(item, report)
                elif item.id in seen:  # the same text twice in one ingest: once the first is stored
                    if seen[item.id] == item.key:
                        report.unchanged.append(item.id)
                    else:
                        self._orphans.append(item)
                elif clash := self._kind_clash(item):
                    report.failures.append(LoadFailure(item.key, clash))
                else:
                    seen[item.id] = item.key
                    pending.append((item, self.split(item)))
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
            article, vectors, self._nearest, self.store.docs.article, self.settings.copy_similarity
        )
        if original is not None:
            self._merge(self.store.docs.get(original[0]), article, report, original[1])
            return
        if not replaced:
            report.added.append(article.id)
        self.store.add(article, spans, vectors, sentences)

    def _kind_clash(self, article: Article) -> str:
        """Why ``article`` may not replace the indexed article holding its key, or "": a file's
        article is replaced only by that file again, and a record's or page's (its id or URL) only
        by a record or page, so a JSON record whose id is a local path never replaces that file's
        article (a feed entry whose id is its link is the same article as that page, and is)."""
        old = self.store.docs.id_for_key(article.key)
        if old is None or not self.store.docs.has_article(old):
            return ""
        if from_file(self.store.docs.get(old)) == from_file(article):
            return ""
        if from_file(article):
            return "its path is the id of an article added as a record; remove that article first"
        return "its id names an article ingested from a local file; give the record another id"

    def _release(self, article: Article, report: IngestReport) -> bool:
        """Make way for ``article``: remove the older version under its key (an article, whose
        copies are added again later, or a merged copy); True if there was one."""
        named = _copy_named(self.store, article.key)
        old = self.store.docs.id_for_key(article.key)
        self.unsaved += 1
        if named is not None:
            holder, gone = named
            self._rewrite(dataclasses.replace(holder, copies=tuple(c for c in holder.copies if c.id != gone.id)))
            report.replaced.append((gone.id, article.id))
            return True
        if old is not None:
            self._orphans.extend(self.store.docs.get(old).copies)
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
        holder = self.store.docs.get(self.store.docs.holder_of(article.id) or article.id)
        if article.key in (holder.key, *(c.key for c in holder.copies)) or not self.settings.copy_similarity:
            report.unchanged.append(article.id)
            return
        self._release(article, report)
        self._merge(self.store.docs.get(holder.id), article, report)

    def _nearest(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        found = self.store.dense_search(vector, k, None)
        docs = self.store.docs
        return [(docs.article_of(pid), score) for pid, score in found if docs.has_passage(pid)]

    def _rewrite(self, article: Article) -> None:
        """Store a changed record of an indexed article (its copies), keeping its passages' vectors."""
        pids = self.store.docs.passage_ids_of(article.id)
        spans = [self.store.docs.span(p)[1:] for p in pids]
        vectors = np.vstack([self.store.vector(p) for p in pids]) if pids else np.zeros((0, 0), np.float32)
        blocks = [self.store.docs.sentence_vectors(p) for p in pids]
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
            article = self.store.article(ref)
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
        settings = self.settings
        if settings.vector_index != "auto":
            kind = VectorIndex(settings.vector_index)
        else:
            kind = VectorIndex.IVF if self.store.docs.count()[1] > settings.approximate_above else VectorIndex.FLAT
        self.store.use_vector_index(kind)
        self.store.save(self.version)
        self.unsaved = 0


def from_file(article: Article) -> bool:
    """Whether ``article`` was read from a local file and is keyed by its path."""
    return bool(article.key) and article.metadata.get("path") == article.key
