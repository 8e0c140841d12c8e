"""Passages and their vectors on disk: segments written once, generations published atomically.

Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    LOCK               the write lock (see index.writelock): who writes, since when
    gen-000007/        manifest.json, the files of each segment, and ivf.faiss (the trained,
                       empty IVF index, when the vectors are searched approximately)

A segment holds what one save added: ``s000003.articles.jsonl``, ``.passages.jsonl`` (passage
id, article id, span), ``.vectors.npy`` (float32, a row per passage), ``.keyword.npz`` (BM25 term
counts, see :mod:`index.keyword`), ``.sentences.f16`` + ``.sentences.rows.npy`` (sentence vectors,
when the embedder gives them) and ``.lists.npy`` (each passage's IVF list, with an IVF index).
A removed article is a tombstone in the manifest: ``[article id, segment]`` drops it from that
segment and the ones before it (so an article removed and added again lives in the later one).

A save writes a new generation into a temporary folder (named for the writing process): the
segments already published are hard-linked from the live generation (no byte of them is
rewritten or hashed again), the changes since the last save become one new segment, and the
manifest lists them. When there are :data:`MAX_SEGMENTS` segments, a quarter of the passages
are dead, or the vector index changes kind, the save compacts everything into one segment
instead. The folder is synced, renamed into place and only then does CURRENT point at it, so a
process killed at any moment leaves the previous generation loadable. A save publishes only onto
the generation the store was loaded from: if CURRENT names another one, someone else wrote
meanwhile and the save is refused (:class:`IndexChangedError`) rather than dropping their articles.

The manifest records the size and SHA-256 of every other file of its generation; loading checks
both, so a damaged file (even one of the same size) is found before a question is answered from
it. A reader holds a shared lock on the manifest while it loads, and garbage collection skips a
generation someone is loading and a temporary folder of a live process.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np

from index.errors import (
    IndexChangedError,
    IndexCorruptError,
    IndexNotFoundError,
    IndexWriteError,
    os_reason,
)
from index.keyword import SETTINGS as KEYWORD_SETTINGS
from index.keyword import KeywordIndex, KeywordSegment
from index.records import Article, Passage, indexed_text
from index.retrieval import Filters

log = logging.getLogger(__name__)

FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)  # 2: one whole generation (vectors.faiss, bm25s); converted by the next save
MIN_IVF_PASSAGES = 10_000  # below this an IVF index is not worth training: search stays exact
MAX_SEGMENTS = 8  # a save that would make more compacts them into one
MAX_DEAD_SHARE = 0.25  # ... and so does one where removed passages are this share of the rows
_CURRENT = "CURRENT"
_GENERATION = re.compile(r"gen-\d{6,}")
_IVF = "ivf.faiss"


class VectorIndex(StrEnum):
    """The FAISS index type: exact inner-product search, or an inverted file (IVF) over k-means
    lists that searches ``nprobe`` of them (approximate, for large indexes)."""

    FLAT = "flat"
    IVF = "ivf"


def ivf_lists(total: int) -> int:
    """Inverted lists for an IVF index over ``total`` vectors: about 4·√n (at least 16)."""
    return int(max(4 * np.sqrt(total), 16))


def new_vector_index(kind: VectorIndex, dimension: int, training: np.ndarray | None = None, total: int = 0):  # type: ignore[no-untyped-def]
    """An empty FAISS index with own int64 ids, inner-product metric, and lookup of a vector by id.
    IVF is trained on ``training`` (a sample of the vectors) and gets :func:`ivf_lists` of
    ``total`` lists (of the sample size when ``total`` is 0), at most one per 39 training vectors."""
    import faiss

    if kind == VectorIndex.FLAT:
        return faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
    if training is None or len(training) < 256:
        raise ValueError("an IVF index needs at least 256 training vectors")
    lists = min(ivf_lists(total or len(training)), len(training) // 39)
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, lists, faiss.METRIC_INNER_PRODUCT)
    index.cp.seed = 1234
    index.train(np.ascontiguousarray(training, dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct(id) and remove_ids
    return index


def vector_index_kind(index) -> VectorIndex:  # type: ignore[no-untyped-def]
    import faiss

    return VectorIndex.IVF if isinstance(index, faiss.IndexIVF) else VectorIndex.FLAT


@dataclass
class Manifest:
    """What an index was built with, and what it holds."""

    embed_model: str
    embed_fingerprint: str
    dimension: int
    chunk: dict[str, object]
    keyword: dict[str, object] = field(default_factory=lambda: dict(KEYWORD_SETTINGS))
    vector_index: str = VectorIndex.FLAT.value
    format_version: int = FORMAT_VERSION
    package_version: str = ""
    articles: int = 0
    passages: int = 0
    updated: str = ""
    next_id: int = 0  # the next passage id (ids are never reused)
    segments: list[int] = field(default_factory=list)  # segment numbers, oldest first
    tombstones: list[list[object]] = field(default_factory=list)  # [article id, last segment it is dropped from]
    # where the vectors and keyword postings live: {"kind": "faiss"} (in the segments) or a Milvus
    # collection ({"kind": "milvus", "uri": ..., "collection": ...}, see index.milvus_store)
    store: dict[str, object] = field(default_factory=lambda: {"kind": "faiss"})
    extra: dict[str, object] = field(default_factory=dict)
    # every other file of the generation (path relative to it) -> [size in bytes, sha256 hex]
    files: dict[str, list[object]] = field(default_factory=dict)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verify_generation(gen: Path, manifest: Manifest, checksums: bool = True) -> list[str]:
    """Problems with a generation's files against its manifest: missing, other size, other
    checksum (only sizes when ``checksums`` is False). Empty when all is well, or when the
    manifest predates checksums."""
    problems = []
    for name, (size, digest) in manifest.files.items():
        path = gen / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.stat().st_size != size:
            problems.append(f"{name} has {path.stat().st_size} bytes, the manifest says {size}")
        elif checksums and file_digest(path) != digest:
            problems.append(f"{name} does not match its checksum (its content changed)")
    return problems


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write(path: Path, data: str | bytes) -> None:
    with path.open("wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write lines one by one (no second copy of the whole docstore in memory) and sync."""
    with path.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def _segment_file(number: int, kind: str) -> str:
    return f"s{number:06d}.{kind}"


def _write_sentences(gen: Path, number: int, blocks: Iterable[tuple[int, np.ndarray]]) -> None:
    """Sentence vectors as one float16 matrix (streamed, no second copy in memory) and an index
    of ``(passage id, first row, rows)``."""
    rows = []
    at = 0
    with (gen / _segment_file(number, "sentences.f16")).open("wb") as f:
        for pid, block in blocks:
            f.write(np.ascontiguousarray(block, dtype=np.float16).tobytes())
            rows.append((pid, at, len(block)))
            at += len(block)
    np.save(gen / _segment_file(number, "sentences.rows.npy"), np.asarray(rows, dtype=np.int64).reshape(-1, 3))


def _read_sentences(matrix_path: Path, rows_path: Path, dimension: int) -> dict[int, np.ndarray]:
    """Sentence vectors, memory-mapped (read from disk as questions need them)."""
    rows = np.load(rows_path)
    if matrix_path.stat().st_size == 0:
        return {}
    # a plain ndarray over the mapped file: slicing a np.memmap costs ~10 µs a slice (0.4 s per
    # 35k passages at every open), an ndarray's slice a fraction of that
    matrix = np.memmap(matrix_path, dtype=np.float16, mode="r").view(np.ndarray).reshape(-1, dimension)
    if len(rows) and int((rows[:, 1] + rows[:, 2]).max()) > len(matrix):
        raise ValueError("the row index points past the matrix")
    return {pid: matrix[start : start + count] for pid, start, count in rows.tolist()}


def _write_matrix(path: Path, rows: int, columns: int, dtype: str, chunks: Iterable[np.ndarray]) -> None:
    """An ``.npy`` file written chunk by chunk (no whole copy in memory)."""
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": dtype, "fortran_order": False, "shape": (rows, columns)})
        for chunk in chunks:
            f.write(np.ascontiguousarray(chunk, dtype=np.dtype(dtype)).tobytes())


def _write_segment(
    gen: Path, number: int, store: PassageStore, article_ids: list[str], keyword: KeywordSegment
) -> None:
    """Segment ``number`` in ``gen``: the articles ``article_ids`` and the passages of ``keyword``
    (in its order) with their vectors, sentence vectors and IVF lists (files not yet synced)."""
    pids = keyword.ids
    _write_lines(
        gen / _segment_file(number, "articles.jsonl"),
        (json.dumps(store.articles[a].to_dict(), ensure_ascii=False) for a in article_ids),
    )
    _write_lines(gen / _segment_file(number, "passages.jsonl"), (json.dumps([int(p), *store.spans[p]]) for p in pids))
    if any(int(p) in store.sentences for p in pids):
        _write_sentences(gen, number, ((int(p), store.sentences[p]) for p in pids if p in store.sentences))
    store._write_search_files(gen, number, keyword)


@dataclass
class _Segment:
    """A published segment: its number, its keyword index, and which of its rows are live."""

    number: int
    keyword: KeywordSegment
    live: np.ndarray  # bool per row (passage); False once the passage's article is removed


class PassageStore:
    """Articles, passages and vectors in memory, with atomic saves to ``directory``."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = directory
        self.manifest = manifest
        self.articles: dict[str, Article] = {}
        self.keys: dict[str, str] = {}  # article key -> article id (a merged copy's key -> its holder's id)
        self.copies: dict[str, str] = {}  # id of a merged copy -> id of the article holding it
        self.spans: dict[int, tuple[str, int, int]] = {}  # passage id -> (article id, start, end)
        self.by_article: dict[str, list[int]] = {}
        self.vectors = new_vector_index(VectorIndex.FLAT, manifest.dimension)
        # passage id -> float16 vectors of its sentences (rows in sentence_spans order)
        self.sentences: dict[int, np.ndarray] = {}
        self.next_id = manifest.next_id
        self.generation: str | None = None  # the generation it was loaded from or last saved as
        self._segments: list[_Segment] = []  # published, oldest first
        self._new: dict[str, None] = {}  # ids of the articles added since the last save, in order
        self._pending: KeywordSegment | None = None  # keyword segment of the new articles' passages
        self._keyword: KeywordIndex | None = None  # None: stale, made again on the next keyword search
        self._compact = False  # the next save writes everything as one segment
        self._rebuild_keyword = False  # ... with the keyword index made again from the text

    # ---- reading -------------------------------------------------------------------------
    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / _CURRENT).is_file()

    @staticmethod
    def current_generation(directory: Path) -> str | None:
        """The name of the live generation (None when there is no index); a CURRENT that names no
        generation (damaged bytes, another kind of file) is reported, never followed."""
        try:
            name = (directory / _CURRENT).read_bytes().decode("ascii").strip()
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as e:
            reason = os_reason(e) if isinstance(e, OSError) else "not a generation name"
            raise IndexCorruptError(
                f"index {directory} is damaged: {directory / _CURRENT} is unreadable ({reason})"
            ) from e
        if name and not _GENERATION.fullmatch(name):
            raise IndexCorruptError(
                f"index {directory} is damaged: {directory / _CURRENT} names no generation ({name[:40]!r})"
            )
        return name or None

    @classmethod
    def read_manifest(cls, directory: Path) -> Manifest:
        return cls._manifest(cls._live_generation(directory))

    @staticmethod
    def _manifest(gen: Path) -> Manifest:
        try:
            return Manifest(**json.loads((gen / "manifest.json").read_text()))
        except (OSError, ValueError, TypeError) as e:
            raise IndexCorruptError(f"index manifest {gen / 'manifest.json'} is unreadable: {e}") from e

    @staticmethod
    def _live_generation(directory: Path) -> Path:
        current = directory / _CURRENT
        if not current.is_file():
            raise IndexNotFoundError(
                f"no index at {directory}: build one with `assistant ingest --index {directory} PATH...`"
            )
        gen = directory / str(PassageStore.current_generation(directory))
        if not (gen / "manifest.json").is_file():
            raise IndexCorruptError(f"index {directory} is damaged: {gen.name} lacks manifest.json")
        return gen

    @classmethod
    def load(cls, directory: Path) -> PassageStore:
        """The live generation, checked against its manifest's sizes and checksums. A generation
        replaced (and collected) while it was being opened is retried with the new one."""
        for _ in range(3):
            name = cls.current_generation(directory)
            try:
                lease = (directory / (name or _CURRENT) / "manifest.json").open("rb")
            except (FileNotFoundError, NotADirectoryError):
                if name and cls.current_generation(directory) != name:
                    continue  # collected between reading CURRENT and opening it: take the newer one
                cls._live_generation(directory)  # says what is missing
                raise
            with lease:
                fcntl.flock(lease, fcntl.LOCK_SH)  # garbage collection leaves it alone meanwhile
                if cls.current_generation(directory) != name:
                    continue
                try:
                    return cls._load_generation(directory, cls._live_generation(directory))
                except (TypeError, AttributeError, KeyError, ValueError, IndexError) as e:  # valid JSON, wrong shape
                    raise IndexCorruptError(
                        f"index {directory} ({name}) is damaged: its manifest or files have an unexpected shape "
                        f"({type(e).__name__}: {str(e)[:120]}); rebuild it (remove {directory} and run "
                        "`assistant ingest` again)"
                    ) from e
        raise IndexChangedError(f"index {directory} changed three times while it was being opened; try again")

    @classmethod
    def _load_generation(cls, directory: Path, gen: Path) -> PassageStore:
        manifest = cls._manifest(gen)
        problems = verify_generation(gen, manifest)
        if problems:
            raise IndexCorruptError(
                f"index {directory} ({gen.name}) is damaged: {'; '.join(problems)}. Nothing was answered from it; "
                f"rebuild it (remove {directory} and run `assistant ingest` again)"
            )
        store = store_class(manifest)(directory, manifest)
        store.generation = gen.name
        try:
            if manifest.format_version == 2:
                store._read_whole(gen)
            else:
                store._read_segments(gen)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise IndexCorruptError(f"index {directory} ({gen.name}) is unreadable: {e}; rebuild it") from e
        if manifest.keyword != KEYWORD_SETTINGS:  # derived data: made again with today's settings
            log.info("keyword index of %s was built with %s; rebuilding it", directory, manifest.keyword)
            store._compact = store._rebuild_keyword = True
        store.next_id = max(manifest.next_id, max(store.spans, default=-1) + 1)
        return store

    def _read_articles(self, path: Path) -> None:
        with path.open(encoding="utf-8") as f:
            for line in f:
                article = Article.from_dict(json.loads(line))
                self._register(article)
                self.by_article[article.id] = []

    def _read_passages(self, path: Path) -> list[int]:
        pids = []
        with path.open(encoding="utf-8") as f:
            for line in f:
                pid, aid, start, end = json.loads(line)
                self.spans[pid] = (aid, start, end)
                self.by_article[aid].append(pid)
                pids.append(pid)
        return pids

    def _map_sentences(self, gen: Path, number: int) -> None:
        """Sentence vectors of segment ``number`` from its file, memory-mapped (replacing the
        in-memory copies a save wrote, so a long ingest does not hold them all)."""
        rows = gen / _segment_file(number, "sentences.rows.npy")
        if rows.is_file():
            matrix = gen / _segment_file(number, "sentences.f16")
            self.sentences.update(_read_sentences(matrix, rows, self.manifest.dimension))

    def _read_segments(self, gen: Path) -> None:
        dropped: dict[int, list[str]] = {}
        for aid, number in self.manifest.tombstones:
            dropped.setdefault(int(number), []).append(str(aid))  # type: ignore[call-overload]
        for number in self.manifest.segments:
            self._read_articles(gen / _segment_file(number, "articles.jsonl"))
            pids = np.asarray(self._read_passages(gen / _segment_file(number, "passages.jsonl")), dtype=np.int64)
            self._map_sentences(gen, number)
            keyword = self._read_search_files(gen, number, pids)
            self._segments.append(_Segment(number, keyword, np.ones(len(pids), dtype=bool)))
            for aid in dropped.get(number, ()):
                self._drop(aid)
        self._open_search(gen)

    # ---- where vectors and keyword postings live: here, FAISS and BM25 in the segments --------
    # (index.milvus_store.MilvusPassageStore keeps them in a Milvus collection instead)
    def _write_search_files(self, gen: Path, number: int, keyword: KeywordSegment) -> None:
        """Segment ``number``'s vectors (and IVF lists) and keyword postings, rows as ``keyword.ids``."""
        pids, step = keyword.ids, 16_384
        batches = (self.vectors.reconstruct_batch(pids[i : i + step]) for i in range(0, len(pids), step))
        dimension = self.manifest.dimension
        _write_matrix(gen / _segment_file(number, "vectors.npy"), len(pids), dimension, "<f4", batches)
        if vector_index_kind(self.vectors) == VectorIndex.IVF:
            quantizer = self.vectors.quantizer
            lists = (
                quantizer.search(self.vectors.reconstruct_batch(pids[i : i + step]), 1)[1]
                for i in range(0, len(pids), step)
            )
            _write_matrix(gen / _segment_file(number, "lists.npy"), len(pids), 1, "<i8", lists)
        keyword.save(gen / _segment_file(number, "keyword.npz"))

    def _read_search_files(self, gen: Path, number: int, pids: np.ndarray) -> KeywordSegment:
        """Segment ``number``'s keyword postings (its vectors are added by :meth:`_open_search`)."""
        keyword = KeywordSegment.load(gen / _segment_file(number, "keyword.npz"))
        vectors = np.load(gen / _segment_file(number, "vectors.npy"), mmap_mode="r")
        if not np.array_equal(keyword.ids, pids) or vectors.shape != (len(pids), self.manifest.dimension):
            raise ValueError(f"segment {number}'s passages, vectors and keyword rows disagree")
        return keyword

    def _open_search(self, gen: Path) -> None:
        """The FAISS index of the live passages of every segment (IVF: the trained lists, each
        passage added to the list recorded for it, so nothing is assigned again)."""
        import faiss

        ivf = self.manifest.vector_index == VectorIndex.IVF.value
        if ivf:
            self.vectors = faiss.read_index(str(gen / _IVF))
        for segment in self._segments:
            vectors = np.load(gen / _segment_file(segment.number, "vectors.npy"), mmap_mode="r")
            lists_path = gen / _segment_file(segment.number, "lists.npy")
            if ivf and not lists_path.is_file():
                raise ValueError(f"segment {segment.number} lacks the IVF lists of its passages")
            lists = np.load(lists_path) if ivf else None
            rows = np.flatnonzero(segment.live)
            for start in range(0, len(rows), 16_384):
                part = rows[start : start + 16_384]
                x = np.ascontiguousarray(vectors[part], dtype=np.float32)
                ids = np.ascontiguousarray(segment.keyword.ids[part], dtype=np.int64)
                if lists is None:
                    self.vectors.add_with_ids(x, ids)
                else:
                    assign = np.ascontiguousarray(lists[part].ravel(), dtype=np.int64)
                    self.vectors.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(assign))
        if self.vectors.ntotal != len(self.spans):
            raise ValueError(f"{self.vectors.ntotal} vectors for {len(self.spans)} passages")

    def _add_vectors(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.vectors.add_with_ids(vectors, ids)

    def _remove_vectors(self, ids: np.ndarray) -> None:
        self.vectors.remove_ids(ids)

    def _keyword_segment(self, pids: Sequence[int]) -> KeywordSegment:
        """The keyword postings of passages ``pids`` (their text stemmed)."""
        return KeywordSegment.build(pids, self._texts(pids))

    def dense_search(
        self, vector: np.ndarray, k: int, filters: Filters | None, allowed: set[int] | None, nprobe: int = 32
    ) -> list[tuple[int, float]]:
        """The ``k`` passages nearest to ``vector`` among those ``filters`` allow (``allowed``: the
        same as passage ids, from the docstore)."""
        return self.search(vector, k, allowed, nprobe)

    def keyword_search(
        self, query: str, k: int, filters: Filters | None, allowed: set[int] | None
    ) -> list[tuple[int, float]]:
        """The ``k`` best passages for ``query`` by BM25 among those ``filters`` allow."""
        return self.keyword_index().search(query, k, allowed)

    def _read_whole(self, gen: Path) -> None:
        """A format-2 generation (one FAISS file, one docstore, bm25s): read, and written as
        segments by the next save."""
        import faiss

        self.vectors = faiss.read_index(str(gen / "vectors.faiss"))
        self._read_articles(gen / "articles.jsonl")
        self._read_passages(gen / "passages.jsonl")
        if (gen / "sentences.rows.npy").is_file():
            self.sentences = _read_sentences(gen / "sentences.f16", gen / "sentences.rows.npy", self.manifest.dimension)
        self._new = dict.fromkeys(self.articles)
        self._compact = True
        self.manifest.format_version = FORMAT_VERSION

    def copy(self) -> PassageStore:
        """An independent copy to change (readers keep using this one meanwhile)."""
        import faiss

        other = copy.copy(self)
        other.manifest = copy.deepcopy(self.manifest)
        other.articles = dict(self.articles)
        other.keys = dict(self.keys)
        other.copies = dict(self.copies)
        other.spans = dict(self.spans)
        other.by_article = dict(self.by_article)  # lists are replaced, never changed in place
        other.vectors = faiss.clone_index(self.vectors)
        other.sentences = dict(self.sentences)
        other._segments = [_Segment(s.number, s.keyword, s.live.copy()) for s in self._segments]
        other._new = dict(self._new)
        other._keyword = None
        return other

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
        if len(spans):
            self._add_vectors(ids, np.ascontiguousarray(vectors, dtype=np.float32))
        self._register(article)
        self.by_article[article.id] = [int(i) for i in ids]
        self._new[article.id] = None
        self._pending = self._keyword = None
        for pid, (start, end) in zip(ids, spans, strict=True):
            self.spans[int(pid)] = (article.id, start, end)
        for pid, rows in zip(ids, sentences or (), strict=False):
            self.sentences[int(pid)] = np.asarray(rows, dtype=np.float16)

    def _register(self, article: Article) -> None:
        self.articles[article.id] = article
        for copy_ in article.copies:
            self.copies[copy_.id] = article.id
            self.keys.setdefault(copy_.key, article.id)
        self.keys[article.key] = article.id

    def remove(self, article_id: str) -> bool:
        """Remove an article, its merged copies and its passages; False if it is not in the store."""
        if article_id not in self.articles:
            return False
        if article_id in self._new:
            del self._new[article_id]
            self._pending = None
        else:  # published: a tombstone drops it from the segments it is in
            self.manifest.tombstones.append([article_id, self._segments[-1].number])
        pids = self.by_article[article_id]
        if pids:
            self._remove_vectors(np.array(pids, dtype=np.int64))
        self._drop(article_id)
        return True

    def _drop(self, article_id: str) -> None:
        """Forget an article and its passages (not their vectors) and mark its rows dead."""
        article = self.articles.pop(article_id, None)
        if article is None:
            return
        for copy_ in article.copies:
            if self.copies.get(copy_.id) == article_id:
                del self.copies[copy_.id]
        for key in (article.key, *(c.key for c in article.copies)):
            if self.keys.get(key) == article_id:
                del self.keys[key]
        pids = self.by_article.pop(article_id)
        for pid in pids:
            del self.spans[pid]
            self.sentences.pop(pid, None)
        dead = np.asarray(pids, dtype=np.int64)
        for segment in self._segments:
            segment.live[np.isin(segment.keyword.ids, dead)] = False
        self._keyword = None

    # ---- queries -------------------------------------------------------------------------
    def passage(self, pid: int) -> Passage:
        aid, start, end = self.spans[pid]
        return Passage(pid, aid, start, end, self.articles[aid].text[start:end])

    def search(
        self, vector: np.ndarray, k: int, allowed: set[int] | None = None, nprobe: int = 32
    ) -> list[tuple[int, float]]:
        """The ``k`` passages nearest to ``vector`` (inner product), only ``allowed`` ids when given;
        an IVF index searches ``nprobe`` of its lists."""
        import faiss

        if self.vectors.ntotal == 0 or k < 1 or (allowed is not None and not allowed):
            return []
        selector = faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64)) if allowed is not None else None
        if vector_index_kind(self.vectors) == VectorIndex.IVF:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        scores, ids = self.vectors.search(query, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def _texts(self, pids: Iterable[int]) -> Iterable[str]:
        return (indexed_text(self.articles[self.spans[p][0]].title, self.passage(p).text) for p in pids)

    def _pending_keyword(self) -> KeywordSegment:
        """The keyword segment of the passages added since the last save (made once)."""
        if self._pending is None:
            self._pending = self._keyword_segment([pid for aid in self._new for pid in self.by_article[aid]])
        return self._pending

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index over each passage with its article's title: the published segments and
        one for the passages added since (made from their text when first needed)."""
        if self._keyword is None:
            if self._rebuild_keyword:
                self._keyword = KeywordIndex.build(list(self.spans), self._texts(self.spans))
            else:
                parts = [(s.keyword, s.live) for s in self._segments]
                if self._new:
                    pending = self._pending_keyword()
                    parts.append((pending, np.ones(len(pending.ids), dtype=bool)))
                self._keyword = KeywordIndex(parts)
        return self._keyword

    def sentence_vectors(self, pid: int) -> np.ndarray | None:
        """The stored vectors of passage ``pid``'s sentences (float16), None when there are none."""
        return self.sentences.get(pid)

    def vector(self, pid: int) -> np.ndarray:
        return np.asarray(self.vectors.reconstruct(pid), dtype=np.float32)

    def build_vector_index(self, kind: VectorIndex, chunk: int = 16_384):  # type: ignore[no-untyped-def]
        """A new ``kind`` index holding the current vectors, copied over ``chunk`` rows at a time
        (never a whole second copy in numpy); IVF is trained on a seeded sample of them."""
        ids = np.fromiter(sorted(self.spans), dtype=np.int64, count=len(self.spans))
        training = None
        if kind == VectorIndex.IVF:
            size = min(len(ids), 64 * ivf_lists(len(ids)))
            sample = np.sort(np.random.default_rng(0).choice(ids, size=size, replace=False))
            training = self.vectors.reconstruct_batch(sample)
        index = new_vector_index(kind, self.manifest.dimension, training, total=len(ids))
        del training
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            index.add_with_ids(self.vectors.reconstruct_batch(part), part)
        return index

    def use_vector_index(self, kind: VectorIndex) -> bool:
        """Rebuild the vectors into a ``kind`` index (IVF is trained on the vectors held now);
        False when it is that kind already, or too small to train an IVF index. The next save
        compacts the segments (each passage's IVF list changes)."""
        if vector_index_kind(self.vectors) == kind or (kind == VectorIndex.IVF and len(self.spans) < MIN_IVF_PASSAGES):
            return False
        self.vectors = self.build_vector_index(kind)
        self._compact = True
        log.info("vectors now in a %s index (%d passages)", kind.value, len(self.spans))
        return True

    # ---- writing -------------------------------------------------------------------------
    def _ensure_current(self) -> None:
        """Refuse to save unless the live generation is the one this store was loaded from."""
        self.directory.mkdir(parents=True, exist_ok=True)
        live = self.current_generation(self.directory)
        if live != self.generation:
            raise IndexChangedError(
                f"index {self.directory} changed while this process was writing to it (it now holds {live}, "
                f"this process started from {self.generation or 'no index'}); nothing was overwritten. "
                "Run the command again: it starts from the newer index."
            )

    def _should_compact(self) -> bool:
        rows = sum(len(s.live) for s in self._segments)
        dead = rows - sum(int(s.live.sum()) for s in self._segments)
        return self._compact or len(self._segments) + bool(self._new) > MAX_SEGMENTS or dead > MAX_DEAD_SHARE * rows

    def _unsaved(self, error: OSError) -> IndexWriteError:
        return IndexWriteError(
            f"could not save index {self.directory}: {os_reason(error)}; nothing was published (it still serves "
            f"{self.generation or 'nothing'}); free space or fix permissions and run it again"
        )

    def save(self, package_version: str = "") -> None:
        """Publish a new generation atomically: the published segments hard-linked and the
        changes since the last save as one new segment, or everything compacted into one."""
        import faiss

        self._ensure_current()
        manifest = copy.deepcopy(self.manifest)
        manifest.articles = len(self.articles)
        manifest.passages = len(self.spans)
        manifest.vector_index = vector_index_kind(self.vectors).value
        manifest.package_version = package_version or manifest.package_version
        manifest.updated = datetime.now(UTC).isoformat(timespec="seconds")
        manifest.next_id = self.next_id
        manifest.format_version = FORMAT_VERSION
        number = max([*manifest.segments, *(s.number for s in self._segments)], default=0) + 1
        compact = self._should_compact()
        try:
            tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=self.directory))
        except OSError as e:
            raise self._unsaved(e) from e
        try:
            files: dict[str, list[object]] = {}
            segments = []
            if compact:
                parts = [(s.keyword, s.live) for s in self._segments]
                if self._new:
                    parts.append((self._pending_keyword(), np.ones(len(self._pending_keyword().ids), dtype=bool)))
                if self._rebuild_keyword:
                    keyword = self._keyword_segment(list(self.spans))
                else:
                    keyword = KeywordSegment.merge(parts)
                manifest.keyword = dict(KEYWORD_SETTINGS)
                manifest.tombstones = []
                if self.articles:
                    _write_segment(tmp, number, self, list(self.articles), keyword)
                    segments = [_Segment(number, keyword, np.ones(len(keyword.ids), dtype=bool))]
            else:
                old = self.directory / str(self.generation)
                prefixes = tuple(_segment_file(s.number, "") for s in self._segments)
                for name, entry in self.manifest.files.items():
                    if name.startswith(prefixes):
                        os.link(old / name, tmp / name)
                        files[name] = entry
                segments = list(self._segments)
                if self._new:
                    keyword = self._pending_keyword()
                    _write_segment(tmp, number, self, list(self._new), keyword)
                    segments.append(_Segment(number, keyword, np.ones(len(keyword.ids), dtype=bool)))
            if manifest.vector_index == VectorIndex.IVF.value:
                empty = faiss.clone_index(self.vectors)
                empty.reset()  # the trained lists without their vectors (those are in the segments)
                faiss.write_index(empty, str(tmp / _IVF))
            manifest.segments = [s.number for s in segments]
            written = [p for p in sorted(tmp.iterdir()) if p.name not in files]
            for path in written:
                with path.open("rb+") as f:
                    os.fsync(f.fileno())
                files[path.name] = [path.stat().st_size, file_digest(path)]
            manifest.files = dict(sorted(files.items()))
            _write(tmp / "manifest.json", json.dumps(asdict(manifest), indent=2))
            _fsync_dir(tmp)
            gen = self.directory / f"gen-{self._next_generation():06d}"
            tmp.rename(gen)
            _write(self.directory / (_CURRENT + ".tmp"), gen.name)
            os.replace(self.directory / (_CURRENT + ".tmp"), self.directory / _CURRENT)
            _fsync_dir(self.directory)
        except OSError as e:  # disk full, read-only, no permission: nothing was published
            shutil.rmtree(tmp, ignore_errors=True)
            raise self._unsaved(e) from e
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.manifest = manifest
        self._segments = segments
        self._new = {}
        self._pending = self._keyword = None
        self._compact = self._rebuild_keyword = False
        self.generation = gen.name
        if segments and segments[-1].number == number:  # written by this save
            self._map_sentences(gen, number)
        self._collect_garbage(keep=gen.name)
        log.info("saved %s: %d segments (%s)", gen.name, len(segments), "compacted" if compact else "appended")

    def _next_generation(self) -> int:
        numbers = [int(p.name[4:]) for p in self.directory.glob("gen-*") if p.name[4:].isdigit()]
        return max(numbers, default=0) + 1

    def _collect_garbage(self, keep: str) -> None:
        """Delete older generations nobody is loading, and temporary folders of dead processes."""
        for path in self.directory.iterdir():
            if not path.is_dir() or path.name == keep:
                continue
            if path.name.startswith("gen-"):
                try:
                    with (path / "manifest.json").open("rb") as f:
                        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)  # fails while a reader loads it
                        shutil.rmtree(path, ignore_errors=True)
                except BlockingIOError:
                    log.info("keeping %s: another process is loading it", path.name)
                except FileNotFoundError:
                    shutil.rmtree(path, ignore_errors=True)
            elif path.name.startswith(".tmp-"):
                owner = path.name.split("-")[1]
                if not (owner.isdigit() and int(owner) != os.getpid() and _pid_alive(int(owner))):
                    shutil.rmtree(path, ignore_errors=True)


def store_class(manifest: Manifest) -> type[PassageStore]:
    """The store class for an index: FAISS in the segments, or a Milvus collection."""
    kind = manifest.store.get("kind", "faiss")
    if kind == "faiss":
        return PassageStore
    if kind == "milvus":
        from index.milvus_store import MilvusPassageStore

        return MilvusPassageStore
    raise IndexCorruptError(f"unknown passage store {kind!r} in the manifest")


def store_settings(directory: Path, uri: str | None) -> dict[str, object]:
    """The manifest's ``store`` entry for a new index at ``directory`` with the store ``uri``
    (see ``IndexSettings.store``)."""
    if not uri or uri == "faiss":
        return {"kind": "faiss"}
    from index.milvus_store import milvus_settings

    return milvus_settings(directory, uri)
