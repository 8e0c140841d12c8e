"""Durable writes and checksums: every file of an index goes through these, and every shipped model
file is checked with :func:`verify_files`."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read a megabyte at a time."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verify_files(
    folder: Path, expected: Mapping[str, str], what: str, fix: str, error: type[Exception] = ValueError
) -> dict[str, str]:
    """Check each file ``name`` of ``folder`` against its recorded sha256 (``expected``); the first
    that is missing, unreadable or different raises ``error`` naming ``what`` and the file, and
    saying how to fix it. Returns the digests."""
    digests = {}
    for name, sha256 in expected.items():
        path = folder / name
        try:
            digest = file_digest(path)
        except OSError as e:
            raise error(f"{what} file {path} is missing or unreadable ({e.strerror or e}): {fix}") from None
        if digest != sha256:
            raise error(f"{what} file {path} has sha256 {digest[:12]}…, expected {sha256[:12]}…: {fix}")
        digests[name] = digest
    return digests


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: str | bytes) -> None:
    with path.open("wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
        f.flush()
        os.fsync(f.fileno())


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write lines one by one (no second copy of the whole docstore in memory) and sync."""
    with path.open("w", encoding="utf-8") as f:
        for line in lines:
            f.write(line)
            f.write("\n")
        f.flush()
        os.fsync(f.fileno())


def write_matrix(path: Path, rows: int, columns: int, dtype: str, chunks: Iterable[np.ndarray]) -> None:
    """An ``.npy`` file written chunk by chunk (no whole copy in memory)."""
    with path.open("wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": dtype, "fortran_order": False, "shape": (rows, columns)})
        for chunk in chunks:
            f.write(np.ascontiguousarray(chunk, dtype=np.dtype(dtype)).tobytes())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
