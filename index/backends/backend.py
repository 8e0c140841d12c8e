"""Where a store's vectors and keyword postings are searched: the small :class:`SearchBackend`
protocol (search), :class:`Publishing` (following the store's generations), :class:`SegmentFiles`
(only backends with files of their own), the published segments' rows they share with the store,
and the registry of implementations by module path (this module imports none of them)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.docstore import Docstore
from index.errors import IndexCorruptError
from index.manifest import Manifest, VectorIndex
from index.retrieval import Filters

# backend name (a manifest's store "kind") -> "module:Class"
BACKENDS = {
    "faiss": "index.backends.faiss_backend:FaissBackend",
    "milvus": "index.backends.milvus_backend:MilvusBackend",
}


@dataclass(frozen=True)
class Where:
    """Which rows a search may return: the filters as the user gave them (for a backend that
    evaluates them itself) and the passage ids they allow (from the docstore's postings)."""

    filters: Filters
    ids: frozenset[int]


@dataclass
class Segment:
    """A published segment: its number, its rows' passage ids (in file order), and which rows
    are live (False once the passage's article is removed)."""

    number: int
    ids: np.ndarray
    live: np.ndarray

    def copy(self) -> Segment:
        return Segment(self.number, self.ids, self.live.copy())


class SearchBackend(Protocol):
    """Search over a store's passages: vectors and keyword postings, rows added and removed by
    passage id; the texts and filter fields of a row come from the store's docstore."""

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None: ...

    def remove(self, ids: np.ndarray) -> None:
        """Rows gone (published or added since the last save)."""
        ...

    def vector(self, pid: int) -> np.ndarray: ...

    def dense_search(
        self, vector: np.ndarray, k: int, where: Where | None, nprobe: int = 32
    ) -> list[tuple[int, float]]: ...

    def keyword_search(self, query: str, k: int, where: Where | None) -> list[tuple[int, float]]: ...


class Publishing(Protocol):
    """How a backend's rows follow the store's generations: opened over the published segments,
    written with a save, told before and after a generation goes live."""

    def open(self, gen: Path) -> None:
        """Make the search structures over every loaded segment's live rows."""
        ...

    def write_segment(self, gen: Path, number: int, compact: bool) -> np.ndarray:
        """Write segment ``number``'s search rows (files, or rows in a database): the rows added since
        the last save, or with ``compact`` every live row; returns their passage ids in row order."""
        ...

    def before_publish(self, gen: Path, manifest: Manifest) -> None:
        """Last writes into the new generation ``gen`` (and its manifest) before it goes live."""
        ...

    def after_publish(self, manifest: Manifest) -> None:
        """The new generation is live (``manifest`` is now the store's)."""
        ...

    def use_vector_index(self, kind: VectorIndex) -> bool:
        """Switch the vector index type; True when the next save must compact."""
        ...

    @property
    def needs_compaction(self) -> bool: ...


@runtime_checkable
class SegmentFiles(Protocol):
    """A backend that keeps its own files beside each published segment (FAISS: vectors and
    postings); a backend with a database of its own (Milvus) has none to read."""

    def read_segment(self, gen: Path, segment: Segment) -> None:
        """Check (and keep what it needs of) a published segment's search files, while loading."""
        ...


class StoreBackend(SearchBackend, Publishing, Protocol):
    """What a :class:`~index.store.PassageStore` holds: a search backend that follows its generations."""

    def copy(self, manifest: Manifest, docstore: Docstore, segments: list[Segment]) -> StoreBackend: ...


class BackendFactory(Protocol):
    def __call__(self, manifest: Manifest, docstore: Docstore, segments: list[Segment]) -> StoreBackend: ...

    def settings_for(self, directory: Path, uri: str | None) -> dict[str, object]: ...


def backend_class(kind: str) -> BackendFactory:
    """The backend class named ``kind`` in a manifest's ``store`` entry."""
    if kind not in BACKENDS:
        raise IndexCorruptError(f"unknown search backend {kind!r}; this version knows {', '.join(sorted(BACKENDS))}")
    module, name = BACKENDS[kind].split(":")
    return getattr(importlib.import_module(module), name)  # type: ignore[no-any-return]


def backend_settings(directory: Path, uri: str | None) -> dict[str, object]:
    """The manifest's ``store`` entry for a new index at ``directory`` with the store ``uri``
    (see ``IndexSettings.store``): FAISS for none, Milvus for a ``.db`` file or ``milvus://``."""
    kind = "faiss" if not uri or uri == "faiss" else "milvus"
    return backend_class(kind).settings_for(directory, uri)


def dead_rows(segments: Sequence[Segment]) -> tuple[int, int]:
    """(rows, dead rows) of the published segments."""
    rows = sum(len(s.live) for s in segments)
    return rows, rows - sum(int(s.live.sum()) for s in segments)


def mark_dead(segments: Sequence[Segment], ids: np.ndarray) -> None:
    for segment in segments:
        segment.live[np.isin(segment.ids, ids)] = False
