"""An on-disk cache of passage embeddings, so re-embedding the same text costs a file read.

One folder per model (its name and weights fingerprint); inside it, entries are keyed by a hash
of the exact passage text, so the chunking settings are part of the key through the text itself:
a changed chunk size re-embeds only the passages whose text changed. Two append-only files hold
the entries, ``keys.bin`` (16-byte digests) and ``vectors.f32`` (float32 rows). Vectors are
written and synced before their keys, and on open both are cut to the rows complete in both, so a
process killed mid-append leaves a usable cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from index.embedding.embedder import Embedder

log = logging.getLogger(__name__)

_DIGEST = 16


def _digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=_DIGEST).digest()


class CachedEmbedder:
    """An :class:`Embedder` that looks passages up in a disk cache before embedding them."""

    def __init__(self, inner: Embedder, directory: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.fingerprint = inner.fingerprint
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", inner.name).strip("_")[-60:]
        self.directory = Path(directory) / f"{safe}-{inner.fingerprint[:16]}"
        self.hits = 0
        self.misses = 0
        self._rows: dict[bytes, int] | None = None

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @contextmanager
    def embedding_with(self, inner: Embedder) -> Iterator[CachedEmbedder]:
        """This cache (its rows and counts) with ``inner``, the same model run elsewhere (worker
        processes), embedding its misses while inside."""
        if (inner.name, inner.fingerprint) != (self.name, self.fingerprint):
            raise ValueError(f"{inner.name} is not the model this cache holds ({self.name})")
        before, self.inner = self.inner, inner
        try:
            yield self
        finally:
            self.inner = before

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)

    def _open(self) -> dict[bytes, int]:
        if self._rows is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            keys_path, vectors_path = self.directory / "keys.bin", self.directory / "vectors.f32"
            keys_path.touch()
            vectors_path.touch()
            row_bytes = 4 * self.dimension
            rows = min(keys_path.stat().st_size // _DIGEST, vectors_path.stat().st_size // row_bytes)
            for path, size in ((keys_path, rows * _DIGEST), (vectors_path, rows * row_bytes)):
                if path.stat().st_size != size:
                    log.warning("embedding cache %s: dropping an incomplete tail", path)
                    os.truncate(path, size)
            keys = keys_path.read_bytes()
            self._rows = {keys[i * _DIGEST : (i + 1) * _DIGEST]: i for i in range(rows)}
        return self._rows

    def __len__(self) -> int:
        return len(self._open())

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        rows = self._open()
        digests = [_digest(t) for t in texts]
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        found = [i for i, d in enumerate(digests) if d in rows]
        missing = [i for i, d in enumerate(digests) if d not in rows]
        if found:
            stored = np.memmap(self.directory / "vectors.f32", dtype=np.float32, mode="r").reshape(-1, self.dimension)
            out[found] = stored[[rows[digests[i]] for i in found]]
            del stored
        if missing:
            first: dict[bytes, int] = {}  # digest -> first position of that text
            for i in missing:
                first.setdefault(digests[i], i)
            vectors = np.ascontiguousarray(self.inner.embed([texts[i] for i in first.values()]), dtype=np.float32)
            self._append(list(first), vectors)
            row_of = {d: j for j, d in enumerate(first)}
            out[missing] = vectors[[row_of[digests[i]] for i in missing]]
        self.hits += len(found)
        self.misses += len(missing)
        return out

    def _append(self, digests: list[bytes], vectors: np.ndarray) -> None:
        rows = self._open()
        for name, data in (("vectors.f32", vectors.tobytes()), ("keys.bin", b"".join(digests))):
            with (self.directory / name).open("ab") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        start = len(rows)
        for j, d in enumerate(digests):
            rows[d] = start + j
