"""Passages and their vectors on disk: a FAISS index, a docstore and a manifest, written atomically.

Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    gen-000007/        manifest.json, vectors.faiss, articles.jsonl, passages.jsonl, keyword/ (BM25)

A save writes a whole new generation into a temporary folder, syncs it, renames it into place and
only then points CURRENT at it, so a process killed at any moment leaves the previous generation
loadable. Older generations are deleted after the switch.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError, IndexNotFoundError
from index.keyword import SETTINGS as KEYWORD_SETTINGS
from index.keyword import KeywordIndex
from index.records import Article, Passage

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
_CURRENT = "CURRENT"
_FILES = ("manifest.json", "vectors.faiss", "articles.jsonl", "passages.jsonl")


@dataclass
class Manifest:
    """What an index was built with, and what it holds."""

    embed_model: str
    embed_fingerprint: str
    dimension: int
    chunk: dict[str, object]
    keyword: dict[str, object] = field(default_factory=lambda: dict(KEYWORD_SETTINGS))
    format_version: int = FORMAT_VERSION
    package_version: str = ""
    articles: int = 0
    passages: int = 0
    updated: str = ""
    extra: dict[str, object] = field(default_factory=dict)


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


class PassageStore:
    """Articles, passages and vectors in memory, with atomic saves to ``directory``."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        import faiss

        self.directory = directory
        self.manifest = manifest
        self.articles: dict[str, Article] = {}
        self.keys: dict[str, str] = {}  # article key -> article id
        self.spans: dict[int, tuple[str, int, int]] = {}  # passage id -> (article id, start, end)
        self.by_article: dict[str, list[int]] = {}
        self.vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(manifest.dimension))
        self.next_id = 0
        self._keyword: KeywordIndex | None = None  # None: stale, rebuilt on the next keyword search or save

    # ---- reading -------------------------------------------------------------------------
    @staticmethod
    def exists(directory: Path) -> bool:
        return (directory / _CURRENT).is_file()

    @classmethod
    def read_manifest(cls, directory: Path) -> Manifest:
        gen = cls._live_generation(directory)
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
        import faiss

        manifest = cls.read_manifest(directory)
        gen = cls._live_generation(directory)
        store = cls(directory, manifest)
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
        store._keyword = KeywordIndex.load(gen / "keyword")
        if set(store._keyword.row) != set(store.spans):
            raise IndexCorruptError(f"keyword index of {directory} ({gen.name}) does not match its passages")
        if store.vectors.ntotal != len(store.spans):
            raise IndexCorruptError(
                f"index {directory} ({gen.name}) has {store.vectors.ntotal} vectors for "
                f"{len(store.spans)} passages; rebuild it"
            )
        store.next_id = max(store.spans, default=-1) + 1
        return store

    # ---- changing ------------------------------------------------------------------------
    def add(self, article: Article, spans: list[tuple[int, int]], vectors: np.ndarray) -> None:
        """Add one article with its passage spans and their vectors (one row per span)."""
        if len(spans) != len(vectors):
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
        self._keyword = None
        return True

    # ---- queries -------------------------------------------------------------------------
    def passage(self, pid: int) -> Passage:
        aid, start, end = self.spans[pid]
        return Passage(pid, aid, start, end, self.articles[aid].text[start:end])

    def search(self, vector: np.ndarray, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` passages nearest to ``vector`` (inner product), only ``allowed`` ids when given."""
        import faiss

        if self.vectors.ntotal == 0 or k < 1 or (allowed is not None and not allowed):
            return []
        params = None
        if allowed is not None:
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64)))
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        scores, ids = self.vectors.search(query, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def keyword_index(self) -> KeywordIndex:
        if self._keyword is None:
            pids = list(self.spans)
            self._keyword = KeywordIndex.build(pids, [self.passage(p).text for p in pids])
        return self._keyword

    def vector(self, pid: int) -> np.ndarray:
        return np.asarray(self.vectors.reconstruct(pid), dtype=np.float32)

    # ---- writing -------------------------------------------------------------------------
    def save(self, package_version: str = "") -> None:
        """Write a new generation and switch to it atomically."""
        import faiss

        self.directory.mkdir(parents=True, exist_ok=True)
        self.manifest.articles = len(self.articles)
        self.manifest.passages = len(self.spans)
        self.manifest.package_version = package_version or self.manifest.package_version
        self.manifest.updated = datetime.now(UTC).isoformat(timespec="seconds")
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.directory))
        try:
            faiss.write_index(self.vectors, str(tmp / "vectors.faiss"))
            _write(
                tmp / "articles.jsonl",
                "".join(json.dumps(a.to_dict(), ensure_ascii=False) + "\n" for a in self.articles.values()),
            )
            _write(tmp / "passages.jsonl", "".join(json.dumps([pid, *span]) + "\n" for pid, span in self.spans.items()))
            self.keyword_index().save(tmp / "keyword")
            _write(tmp / "manifest.json", json.dumps(asdict(self.manifest), indent=2))
            for path in tmp.rglob("*"):  # files written by faiss and bm25s
                if path.is_file():
                    with path.open("rb+") as f:
                        os.fsync(f.fileno())
            _fsync_dir(tmp)
            gen = self.directory / f"gen-{self._next_generation():06d}"
            tmp.rename(gen)
            _write(self.directory / (_CURRENT + ".tmp"), gen.name)
            os.replace(self.directory / (_CURRENT + ".tmp"), self.directory / _CURRENT)
            _fsync_dir(self.directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._collect_garbage(keep=gen.name)

    def _next_generation(self) -> int:
        numbers = [int(p.name[4:]) for p in self.directory.glob("gen-*") if p.name[4:].isdigit()]
        return max(numbers, default=0) + 1

    def _collect_garbage(self, keep: str) -> None:
        for path in self.directory.iterdir():
            if path.is_dir() and path.name != keep and (path.name.startswith("gen-") or path.name.startswith(".tmp-")):
                shutil.rmtree(path, ignore_errors=True)
