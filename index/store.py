"""The passage store: a docstore and a search backend, saved as segments written once into
generations published atomically.

A generation (see :mod:`index.generations`) holds ``manifest.json`` and its segments. A segment
holds what one save added: the docstore's ``s000003.articles.jsonl``, ``.passages.jsonl``
(passage id, article id, span) and sentence vectors (:mod:`index.docstore`), and the backend's
search files (:mod:`index.faiss_backend`; the Milvus backend keeps its rows in a collection). A
removed article is a tombstone in the manifest: ``[article id, segment]`` drops it from that
segment and the ones before it (so an article removed and added again lives in the later one).

A save writes a new generation: the segments already published are hard-linked from the live
generation (no byte of them is rewritten or hashed again), the changes since the last save
become one new segment, and the manifest lists them. When there are :data:`MAX_SEGMENTS`
segments, a quarter of the passages are dead, or the backend asks for it (the vector index
changed kind), the save compacts everything into one segment instead. A save publishes only onto
the generation the store was loaded from: if CURRENT names another one, someone else wrote
meanwhile and the save is refused (:class:`IndexChangedError`) rather than dropping their articles.

The manifest records the size and SHA-256 of every other file of its generation; loading checks
both, so a damaged file (even one of the same size) is found before a question is answered from
it.
"""

from __future__ import annotations

import copy
import ctypes
import json
import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

import index.generations as generations
from index.backends.backend import (
    Segment,
    SegmentFiles,
    StoreBackend,
    Where,
    backend_class,
    dead_rows,
    mark_dead,
)
from index.backends.keyword import SETTINGS as KEYWORD_SETTINGS
from index.disk.files import known_digest, write_synced
from index.docstore import Docstore
from index.errors import IndexCorruptError, IndexWriteError, os_reason
from index.manifest import FORMAT_VERSION, Manifest, VectorIndex, segment_file, verify_generation
from index.records import Article, Passage
from index.retrieval import Filters

log = logging.getLogger(__name__)

MAX_SEGMENTS = 8  # a save that would make more compacts them into one
MAX_DEAD_SHARE = 0.25  # ... and so does one where removed passages are this share of the rows


def _return_freed_memory() -> None:
    """Hand the memory freed while loading (the vectors' float32 copies on their way into FAISS)
    back to the system: glibc keeps freed heap memory for reuse, 31 of the 112 MB a 3k-article index
    took to open. Nothing where the C library is not glibc."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PassageStore:
    """Articles, passages and vectors in memory, with atomic saves to ``directory``."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = directory
        self.manifest = manifest
        self.docs = Docstore()
        self.segments: list[Segment] = []  # published, oldest first (shared with the backend)
        self.backend: StoreBackend = backend_class(str(manifest.store.get("kind", "faiss")))(
            manifest, self.docs, self.segments
        )
        self.next_id = manifest.next_id
        self.generation: str | None = None  # the generation it was loaded from or last saved as
        self._new: dict[str, None] = {}  # ids of the articles added since the last save, in order

    # ---- loading -------------------------------------------------------------------------
    @classmethod
    def load(cls, directory: Path) -> PassageStore:
        """The live generation, checked against its manifest's sizes and checksums."""
        store = generations.load_live(directory, lambda gen: cls._load_generation(directory, gen))
        _return_freed_memory()
        return store

    @staticmethod
    def exists(directory: Path) -> bool:
        return generations.exists(directory)

    @staticmethod
    def read_manifest(directory: Path) -> Manifest:
        """The live generation's manifest (not checked against its files: see :meth:`load`)."""
        return Manifest.read(generations.live_generation(directory))

    @classmethod
    def _load_generation(cls, directory: Path, gen: Path) -> PassageStore:
        manifest = Manifest.read(gen)
        problems = verify_generation(gen, manifest)
        if problems:
            raise IndexCorruptError(
                f"index {directory} ({gen.name}) is damaged: {'; '.join(problems)}. Nothing was answered from it; "
                f"rebuild it (remove {directory} and run `assistant ingest` again)"
            )
        store = cls(directory, manifest)
        store.generation = gen.name
        try:
            if manifest.format_version == 2:
                from index.backends.faiss_backend import FaissBackend
                from index.backends.format2 import read_whole

                assert isinstance(store.backend, FaissBackend)
                read_whole(gen, store.docs, store.backend, manifest.dimension)
                store._new = dict.fromkeys(store.docs.article_ids())
                manifest.format_version = FORMAT_VERSION
            else:
                store._read_segments(gen)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise IndexCorruptError(f"index {directory} ({gen.name}) is unreadable: {e}; rebuild it") from e
        if manifest.keyword != KEYWORD_SETTINGS:
            log.info("keyword index of %s was built with %s; rebuilding it", directory, manifest.keyword)
        store.next_id = max(manifest.next_id, max(store.docs.passage_ids(), default=-1) + 1)
        return store

    def _read_segments(self, gen: Path) -> None:
        dropped: dict[int, list[str]] = {}
        for aid, number in self.manifest.tombstones:
            dropped.setdefault(int(number), []).append(str(aid))  # type: ignore[call-overload]
        for number in self.manifest.segments:
            pids = self.docs.read_segment(gen, number, self.manifest.dimension)
            segment = Segment(number, pids, np.ones(len(pids), dtype=bool))
            self.segments.append(segment)
            if isinstance(self.backend, SegmentFiles):  # a database backend has no files to read
                self.backend.read_segment(gen, segment)
            for aid in dropped.get(number, ()):
                mark_dead(self.segments, np.asarray(self.docs.drop(aid), dtype=np.int64))
        self.backend.open(gen)

    def copy(self) -> PassageStore:
        """An independent copy to change (readers keep using this one meanwhile)."""
        other = copy.copy(self)
        other.manifest = copy.deepcopy(self.manifest)
        other.docs = self.docs.copy()
        other.segments = [s.copy() for s in self.segments]
        other.backend = self.backend.copy(other.manifest, other.docs, other.segments)
        other._new = dict(self._new)
        return other

    # ---- reading -------------------------------------------------------------------------
    def article(self, ref: str) -> Article | None:
        return self.docs.article(ref)

    def passage(self, pid: int) -> Passage:
        return self.docs.passage(pid)

    def passages_of(self, article_id: str) -> list[Passage]:
        return self.docs.passages_of(article_id)

    def sentence_vectors(self, pid: int) -> np.ndarray | None:
        """The stored vectors of passage ``pid``'s sentences (float16), None when there are none."""
        return self.docs.sentence_vectors(pid)

    def vector(self, pid: int) -> np.ndarray:
        return self.backend.vector(pid)

    def where(self, filters: Filters | None) -> Where | None:
        """The one filter form the backend reads: the filters and the passage ids they allow."""
        return Where(filters, self.docs.allowed(filters)) if filters else None

    def dense_search(
        self, vector: np.ndarray, k: int, where: Where | None, nprobe: int = 32
    ) -> list[tuple[int, float]]:
        """The ``k`` passages nearest to ``vector`` among those ``where`` allows."""
        return self.backend.dense_search(vector, k, where, nprobe)

    def keyword_search(self, query: str, k: int, where: Where | None) -> list[tuple[int, float]]:
        """The ``k`` best passages for ``query`` by BM25 among those ``where`` allows."""
        return self.backend.keyword_search(query, k, where)

    # ---- changing ------------------------------------------------------------------------
    def add(
        self,
        article: Article,
        spans: list[tuple[int, int]],
        vectors: np.ndarray,
        sentences: Sequence[np.ndarray] | None = None,
    ) -> None:
        """Add one article with its passage spans and their vectors (one row per span), and
        optionally each passage's sentence vectors (rows in :func:`sentence_spans` order)."""
        if len(spans) != len(vectors) or (sentences is not None and len(sentences) != len(spans)):
            raise ValueError(f"{len(spans)} spans but {len(vectors)} vectors")
        ids = np.arange(self.next_id, self.next_id + len(spans), dtype=np.int64)
        self.next_id += len(spans)
        self.docs.add(article, ids.tolist(), spans, sentences)
        self.backend.add(ids, np.asarray(vectors, dtype=np.float32).reshape(len(spans), -1))
        self._new[article.id] = None

    def remove(self, article_id: str) -> bool:
        """Remove an article, its merged copies and its passages; False if it is not in the store."""
        if not self.docs.has_article(article_id):
            return False
        if article_id in self._new:
            del self._new[article_id]
        else:  # published: a tombstone drops it from the segments it is in
            self.manifest.tombstones.append([article_id, self.segments[-1].number])
        pids = np.asarray(self.docs.drop(article_id), dtype=np.int64)
        self.backend.remove(pids)
        mark_dead(self.segments, pids)
        return True

    def use_vector_index(self, kind: VectorIndex) -> bool:
        """Search the vectors exactly (flat) or approximately (FAISS IVF, Milvus HNSW)."""
        return self.backend.use_vector_index(kind)

    # ---- saving --------------------------------------------------------------------------
    def _should_compact(self) -> bool:
        rows, dead = dead_rows(self.segments)
        return (
            self.backend.needs_compaction
            or len(self.segments) + bool(self._new) > MAX_SEGMENTS
            or dead > MAX_DEAD_SHARE * rows
        )

    def _unsaved(self, error: OSError) -> IndexWriteError:
        return IndexWriteError(
            f"could not save index {self.directory}: {os_reason(error)}; nothing was published (it still serves "
            f"{self.generation or 'nothing'}); free space or fix permissions and run it again"
        )

    def save(self, package_version: str = "") -> None:
        """Publish a new generation atomically: the published segments hard-linked and the
        changes since the last save as one new segment, or everything compacted into one."""
        generations.ensure_current(self.directory, self.generation)
        manifest = copy.deepcopy(self.manifest)
        manifest.articles, manifest.passages = self.docs.count()
        manifest.package_version = package_version or manifest.package_version
        manifest.updated = datetime.now(UTC).isoformat(timespec="seconds")
        manifest.next_id = self.next_id
        manifest.format_version = FORMAT_VERSION
        number = max([*manifest.segments, *(s.number for s in self.segments)], default=0) + 1
        compact = self._should_compact()
        try:
            tmp = generations.new_folder(self.directory)
        except OSError as e:
            raise self._unsaved(e) from e
        try:
            files: dict[str, list[object]] = {}
            if compact:
                manifest.keyword = dict(KEYWORD_SETTINGS)
                manifest.tombstones = []
                segments = []
                if self.docs.count()[0]:
                    pids = self.backend.write_segment(tmp, number, compact=True)
                    self.docs.write_segment(tmp, number, self.docs.article_ids(), pids)
                    segments = [Segment(number, pids, np.ones(len(pids), dtype=bool))]
            else:
                old = self.directory / str(self.generation)
                prefixes = tuple(segment_file(s.number, "") for s in self.segments)
                for name, entry in self.manifest.files.items():
                    if name.startswith(prefixes):
                        os.link(old / name, tmp / name)
                        files[name] = entry
                segments = list(self.segments)
                if self._new:
                    pids = self.backend.write_segment(tmp, number, compact=False)
                    self.docs.write_segment(tmp, number, list(self._new), pids)
                    segments.append(Segment(number, pids, np.ones(len(pids), dtype=bool)))
            manifest.segments = [s.number for s in segments]
            self.backend.before_publish(tmp, manifest)
            written = [p for p in sorted(tmp.iterdir()) if p.name not in files]
            for path in written:
                with path.open("rb+") as f:
                    os.fsync(f.fileno())
                files[path.name] = [path.stat().st_size, known_digest(path)]
            manifest.files = dict(sorted(files.items()))
            write_synced(tmp / "manifest.json", json.dumps(asdict(manifest), indent=2))
            name = generations.publish(self.directory, tmp)
        except OSError as e:  # disk full, read-only, no permission: nothing was published
            shutil.rmtree(tmp, ignore_errors=True)
            raise self._unsaved(e) from e
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.manifest = manifest
        self.segments[:] = segments
        self._new = {}
        self.generation = name
        self.backend.after_publish(manifest)
        if segments and segments[-1].number == number:  # written by this save
            self.docs.map_sentences(self.directory / name, number, manifest.dimension)
        generations.collect_garbage(self.directory, keep=name)
        log.info("saved %s: %d segments (%s)", name, len(segments), "compacted" if compact else "appended")
