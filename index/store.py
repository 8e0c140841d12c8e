"""Passages and their vectors on disk: a FAISS index, a docstore and a manifest, written atomically.

Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    LOCK               the write lock (see index.writelock): who writes, since when
    gen-000007/        manifest.json, vectors.faiss, articles.jsonl, passages.jsonl, keyword/ (BM25),
                       sentences.f16 + sentences.rows.npy (sentence vectors, when the embedder gives them)

A save writes a whole new generation into a temporary folder (named for the writing process),
syncs it, renames it into place and only then points CURRENT at it, so a process killed at any
moment leaves the previous generation loadable. A save publishes only onto the generation the
store was loaded from: if CURRENT names another one, someone else wrote meanwhile and the save is
refused (:class:`IndexChangedError`) rather than dropping their articles.

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
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

import numpy as np

from index.errors import IndexChangedError, IndexCorruptError, IndexNotFoundError
from index.keyword import SETTINGS as KEYWORD_SETTINGS
from index.keyword import KeywordIndex
from index.records import Article, Passage, indexed_text

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
MIN_IVF_PASSAGES = 10_000  # below this an IVF index is not worth training: search stays exact
_CURRENT = "CURRENT"
_FILES = ("manifest.json", "vectors.faiss", "articles.jsonl", "passages.jsonl")


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
    extra: dict[str, object] = field(default_factory=dict)
    # every other file of the generation (path relative to it) -> [size in bytes, sha256 hex]
    files: dict[str, list[object]] = field(default_factory=dict)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def generation_files(gen: Path) -> dict[str, list[object]]:
    """Size and SHA-256 of every file of a generation folder except its manifest."""
    return {
        str(path.relative_to(gen)): [path.stat().st_size, file_digest(path)]
        for path in sorted(gen.rglob("*"))
        if path.is_file() and path.name != "manifest.json"
    }


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


_SENTENCES = "sentences.f16"
_SENTENCE_ROWS = "sentences.rows.npy"


def _write_sentences(gen: Path, sentences: dict[int, np.ndarray]) -> None:
    """Sentence vectors as one float16 matrix (streamed, no second copy in memory) and an index
    of ``(passage id, first row, rows)``."""
    rows = np.zeros((len(sentences), 3), dtype=np.int64)
    at = 0
    with (gen / _SENTENCES).open("wb") as f:
        for i, (pid, block) in enumerate(sentences.items()):
            f.write(np.ascontiguousarray(block, dtype=np.float16).tobytes())
            rows[i] = (pid, at, len(block))
            at += len(block)
    np.save(gen / _SENTENCE_ROWS, rows)


def _read_sentences(gen: Path, dimension: int) -> dict[int, np.ndarray]:
    """The sentence vectors of a generation, memory-mapped (read from disk as questions need them)."""
    rows = np.load(gen / _SENTENCE_ROWS)
    size = (gen / _SENTENCES).stat().st_size
    if size == 0:
        return {}
    matrix = np.memmap(gen / _SENTENCES, dtype=np.float16, mode="r").reshape(-1, dimension)
    if len(rows) and int((rows[:, 1] + rows[:, 2]).max()) > len(matrix):
        raise ValueError("the row index points past the matrix")
    return {int(pid): matrix[start : start + count] for pid, start, count in rows}


class PassageStore:
    """Articles, passages and vectors in memory, with atomic saves to ``directory``."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        self.directory = directory
        self.manifest = manifest
        self.articles: dict[str, Article] = {}
        self.keys: dict[str, str] = {}  # article key -> article id
        self.spans: dict[int, tuple[str, int, int]] = {}  # passage id -> (article id, start, end)
        self.by_article: dict[str, list[int]] = {}
        self.vectors = new_vector_index(VectorIndex.FLAT, manifest.dimension)
        # passage id -> float16 vectors of its sentences (rows in sentence_spans order)
        self.sentences: dict[int, np.ndarray] = {}
        self.next_id = 0
        self.generation: str | None = None  # the generation it was loaded from or last saved as
        self._keyword: KeywordIndex | None = None  # None: stale, rebuilt on the next keyword search or save

    # ---- reading -------------------------------------------------------------------------
    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / _CURRENT).is_file()

    @staticmethod
    def current_generation(directory: Path) -> str | None:
        """The name of the live generation (None when there is no index)."""
        try:
            return (directory / _CURRENT).read_text().strip() or None
        except FileNotFoundError:
            return None

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
        gen = directory / current.read_text().strip()
        missing = [name for name in _FILES if not (gen / name).is_file()]
        if missing:
            raise IndexCorruptError(f"index {directory} is damaged: {gen.name} lacks {', '.join(missing)}")
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
                return cls._load_generation(directory, cls._live_generation(directory))
        raise IndexChangedError(f"index {directory} changed three times while it was being opened; try again")

    @classmethod
    def _load_generation(cls, directory: Path, gen: Path) -> PassageStore:
        import faiss

        manifest = cls._manifest(gen)
        problems = verify_generation(gen, manifest)
        if problems:
            raise IndexCorruptError(
                f"index {directory} ({gen.name}) is damaged: {'; '.join(problems)}. Nothing was answered from it; "
                f"rebuild it (remove {directory} and run `assistant ingest` again)"
            )
        store = cls(directory, manifest)
        store.generation = gen.name
        try:
            store.vectors = faiss.read_index(str(gen / "vectors.faiss"))
            with (gen / "articles.jsonl").open(encoding="utf-8") as f:
                for line in f:
                    article = Article.from_dict(json.loads(line))
                    store.articles[article.id] = article
                    store.keys[article.key] = article.id
                    store.by_article[article.id] = []
            with (gen / "passages.jsonl").open(encoding="utf-8") as f:
                for line in f:
                    pid, aid, start, end = json.loads(line)
                    store.spans[pid] = (aid, start, end)
                    store.by_article[aid].append(pid)
        except (OSError, ValueError, KeyError, RuntimeError) as e:
            raise IndexCorruptError(f"index {directory} ({gen.name}) is unreadable: {e}") from e
        if store.vectors.ntotal != len(store.spans):
            raise IndexCorruptError(
                f"index {directory} ({gen.name}) has {store.vectors.ntotal} vectors for "
                f"{len(store.spans)} passages; rebuild it"
            )
        if (gen / _SENTENCES).is_file():
            try:
                store.sentences = _read_sentences(gen, manifest.dimension)
            except (OSError, ValueError) as e:
                raise IndexCorruptError(f"sentence vectors of {directory} ({gen.name}) are unreadable: {e}") from e
        if manifest.keyword != KEYWORD_SETTINGS:  # derived data: rebuilt with today's settings on first use
            log.info("keyword index of %s was built with %s; rebuilding it", directory, manifest.keyword)
        else:
            store._keyword = KeywordIndex.load(gen / "keyword")
            if set(store._keyword.row) != set(store.spans):
                raise IndexCorruptError(f"keyword index of {directory} ({gen.name}) does not match its passages")
        store.next_id = max(store.spans, default=-1) + 1
        return store

    def copy(self) -> PassageStore:
        """An independent copy to change (readers keep using this one meanwhile)."""
        import faiss

        other = copy.copy(self)
        other.manifest = copy.deepcopy(self.manifest)
        other.articles = dict(self.articles)
        other.keys = dict(self.keys)
        other.spans = dict(self.spans)
        other.by_article = dict(self.by_article)  # lists are replaced, never changed in place
        other.vectors = faiss.clone_index(self.vectors)
        other.sentences = dict(self.sentences)
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
            self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self.articles[article.id] = article
        self.keys[article.key] = article.id
        self.by_article[article.id] = [int(i) for i in ids]
        self._keyword = None
        for pid, (start, end) in zip(ids, spans, strict=True):
            self.spans[int(pid)] = (article.id, start, end)
        for pid, rows in zip(ids, sentences or (), strict=False):
            self.sentences[int(pid)] = np.asarray(rows, dtype=np.float16)

    def remove(self, article_id: str) -> bool:
        """Remove an article and its passages; False if it is not in the store."""
        article = self.articles.pop(article_id, None)
        if article is None:
            return False
        if self.keys.get(article.key) == article_id:
            del self.keys[article.key]
        pids = self.by_article.pop(article_id)
        if pids:
            self.vectors.remove_ids(np.array(pids, dtype=np.int64))
        for pid in pids:
            del self.spans[pid]
            self.sentences.pop(pid, None)
        self._keyword = None
        return True

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

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index over each passage with its article's title (built when stale)."""
        if self._keyword is None:
            pids = list(self.spans)
            texts = (indexed_text(self.articles[self.spans[p][0]].title, self.passage(p).text) for p in pids)
            self._keyword = KeywordIndex.build(pids, texts)
            self.manifest.keyword = dict(KEYWORD_SETTINGS)
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
        False when it is that kind already, or too small to train an IVF index."""
        if vector_index_kind(self.vectors) == kind or (kind == VectorIndex.IVF and len(self.spans) < MIN_IVF_PASSAGES):
            return False
        self.vectors = self.build_vector_index(kind)
        log.info("vectors now in a %s index (%d passages)", kind.value, len(self.spans))
        return True

    # ---- writing -------------------------------------------------------------------------
    def save(self, package_version: str = "") -> None:
        """Write a new generation and switch to it atomically."""
        import faiss

        self.directory.mkdir(parents=True, exist_ok=True)
        self.manifest.articles = len(self.articles)
        self.manifest.passages = len(self.spans)
        self.manifest.vector_index = vector_index_kind(self.vectors).value
        self.manifest.package_version = package_version or self.manifest.package_version
        self.manifest.updated = datetime.now(UTC).isoformat(timespec="seconds")
        live = self.current_generation(self.directory)
        if live != self.generation:
            raise IndexChangedError(
                f"index {self.directory} changed while this process was writing to it (it now holds {live}, "
                f"this process started from {self.generation or 'no index'}); nothing was overwritten. "
                "Run the command again: it starts from the newer index."
            )
        tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=self.directory))
        try:
            faiss.write_index(self.vectors, str(tmp / "vectors.faiss"))
            _write_lines(
                tmp / "articles.jsonl", (json.dumps(a.to_dict(), ensure_ascii=False) for a in self.articles.values())
            )
            _write_lines(tmp / "passages.jsonl", (json.dumps([pid, *span]) for pid, span in self.spans.items()))
            self.keyword_index().save(tmp / "keyword")
            if self.sentences:
                _write_sentences(tmp, self.sentences)
            for path in tmp.rglob("*"):  # files written by faiss and bm25s
                if path.is_file():
                    with path.open("rb+") as f:
                        os.fsync(f.fileno())
            self.manifest.files = generation_files(tmp)
            _write(tmp / "manifest.json", json.dumps(asdict(self.manifest), indent=2))
            _fsync_dir(tmp)
            gen = self.directory / f"gen-{self._next_generation():06d}"
            tmp.rename(gen)
            _write(self.directory / (_CURRENT + ".tmp"), gen.name)
            os.replace(self.directory / (_CURRENT + ".tmp"), self.directory / _CURRENT)
            _fsync_dir(self.directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.generation = gen.name
        self._collect_garbage(keep=gen.name)

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
