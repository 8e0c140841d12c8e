"""Durable writes and checksums: every file of an index goes through these, and every shipped model
file is checked with :func:`verify_files`."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np


def file_digest(path: Path) -> str:
    """SHA-256 of a file, read a megabyte at a time."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


# Digests of files read before, so that an unchanged file is not read again at every start: a
# model's weights (90 MB), an index's segments (0.23 s of each open of a 306 MB
# index measured; 2.5 GB at the full RealTime QA corpus).
# A file counts as unchanged while its size, modification time (ns) and inode are those recorded;
# `assistant check` reads everything again (full_checksums).
_DIGESTS_LIMIT = 5_000
_digests: dict[str, list[object]] | None = None
_digests_lock = threading.Lock()  # the preload thread verifies model files while the main one opens an index
_reread = threading.local()


def digests_path() -> Path:
    """Where the digests of files read before are recorded (``ASSISTANT_DIGESTS``, else the user's cache)."""
    return Path(os.environ.get("ASSISTANT_DIGESTS") or Path.home() / ".cache" / "news-assistant" / "digests.json")


@contextmanager
def full_checksums() -> Iterator[None]:
    """Inside (this thread), :func:`known_digest` reads every file again, whatever was recorded."""
    _reread.on = True
    try:
        yield
    finally:
        _reread.on = False


def _recorded() -> dict[str, list[object]]:
    global _digests
    if _digests is None:
        try:
            found = json.loads(digests_path().read_text(encoding="utf-8"))
            _digests = found if isinstance(found, dict) else {}
        except (OSError, ValueError):
            _digests = {}
    return _digests


def known_digest(path: Path) -> str:
    """SHA-256 of ``path``: the one recorded when the file was last read, if it is unchanged since
    (size, modification time, inode), else read now and recorded. A record that cannot be saved
    only costs a reading next time."""
    stat = path.stat()
    key, signature = str(path.resolve()), [stat.st_size, stat.st_mtime_ns, stat.st_ino]
    with _digests_lock:
        record = _recorded().get(key)
    if not getattr(_reread, "on", False) and isinstance(record, list) and record[:3] == signature:
        return str(record[3])
    digest = file_digest(path)  # outside the lock: hashing a large file releases the GIL
    with _digests_lock:
        records = _recorded()
        records.pop(key, None)
        records[key] = [*signature, digest]
        while len(records) > _DIGESTS_LIMIT:
            records.pop(next(iter(records)))
        text = json.dumps(records)
    target = digests_path()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, target)
    except OSError:
        pass
    return digest


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
            digest = known_digest(path)
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
