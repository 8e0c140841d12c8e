"""Checking an index on disk, for ``assistant check``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from index import PassageStore, full_checksums


@dataclass(frozen=True)
class IndexCheck:
    """A sound index: its live generation, how many files matched their recorded checksums, and
    what it holds."""

    directory: Path
    generation: str | None
    files: int
    articles: int
    passages: int


def check_index(directory: Path) -> IndexCheck:
    """Load the live generation of ``directory`` checking every file's size and checksum and its
    consistency; raises :class:`IndexCorruptError` (or :class:`IndexNotFoundError`) naming the problem."""
    with full_checksums():  # every file read again, whatever an earlier open recorded
        store = PassageStore.load(directory)
    articles, passages = store.docs.count()
    return IndexCheck(directory, store.generation, len(store.manifest.files), articles, passages)
