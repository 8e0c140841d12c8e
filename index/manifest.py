"""The manifest of an index generation: what the index was built with, what it holds, and the
size and SHA-256 of every other file of the generation."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from index.backends.keyword import SETTINGS as KEYWORD_SETTINGS
from index.disk.files import known_digest
from index.errors import IndexCorruptError

FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)  # 2: one whole generation (vectors.faiss, bm25s); converted by the next save


class VectorIndex(StrEnum):
    """How the vectors are searched: exactly (inner product over all of them), or approximately
    (FAISS: an inverted file over k-means lists, ``nprobe`` of them searched; Milvus: HNSW)."""

    FLAT = "flat"
    IVF = "ivf"


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
    # the search backend and its settings: {"kind": "faiss"} (vectors and BM25 in the segments) or
    # a Milvus collection ({"kind": "milvus", "uri": ..., "collection": ...}, see index.milvus_backend)
    store: dict[str, object] = field(default_factory=lambda: {"kind": "faiss"})
    extra: dict[str, object] = field(default_factory=dict)
    # every other file of the generation (path relative to it) -> [size in bytes, sha256 hex]
    files: dict[str, list[object]] = field(default_factory=dict)

    @classmethod
    def read(cls, gen: Path) -> Manifest:
        try:
            return cls(**json.loads((gen / "manifest.json").read_text()))
        except (OSError, ValueError, TypeError) as e:
            raise IndexCorruptError(f"index manifest {gen / 'manifest.json'} is unreadable: {e}") from e


def segment_file(number: int, kind: str) -> str:
    """The name of one of segment ``number``'s files: ``s000003.articles.jsonl``."""
    return f"s{number:06d}.{kind}"


def verify_generation(gen: Path, manifest: Manifest, checksums: bool = True) -> list[str]:
    """Problems with a generation's files against its manifest: missing, other size, other
    checksum (only sizes when ``checksums`` is False; a file unchanged since its checksum was last
    read is not read again, see :func:`known_digest`, except inside ``full_checksums``). Empty when
    all is well, or when the manifest predates checksums."""
    problems = []
    for name, (size, digest) in manifest.files.items():
        path = gen / name
        if not path.is_file():
            problems.append(f"{name} is missing")
        elif path.stat().st_size != size:
            problems.append(f"{name} has {path.stat().st_size} bytes, the manifest says {size}")
        elif checksums and known_digest(path) != digest:
            problems.append(f"{name} does not match its checksum (its content changed)")
    return problems
