"""Generation folders of an index directory, and the atomic switch between them.

Layout of an index directory::

    CURRENT            name of the live generation, replaced atomically (os.replace)
    LOCK               the write lock (see index.disk.writelock): who writes, since when
    gen-000007/        manifest.json and the files of each segment (see index.store)

A save writes a new generation into a temporary folder (named for the writing process), syncs
it, renames it into place, and only then points CURRENT at it, so a process killed at any moment
leaves the previous generation loadable. A reader holds a shared lock on the manifest while it
loads, and garbage collection skips a generation someone is loading and a temporary folder of a
live process.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from index.disk.files import fsync_dir, pid_alive, write_synced
from index.errors import IndexChangedError, IndexCorruptError, IndexNotFoundError, os_reason

log = logging.getLogger(__name__)

CURRENT = "CURRENT"
_GENERATION = re.compile(r"gen-\d{6,}")
T = TypeVar("T")


def exists(directory: Path) -> bool:
    return (directory / CURRENT).is_file()


def current_generation(directory: Path) -> str | None:
    """The name of the live generation (None when there is no index); a CURRENT that names no
    generation (damaged bytes, another kind of file) is reported, never followed."""
    try:
        name = (directory / CURRENT).read_bytes().decode("ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        reason = os_reason(e) if isinstance(e, OSError) else "not a generation name"
        raise IndexCorruptError(f"index {directory} is damaged: {directory / CURRENT} is unreadable ({reason})") from e
    if name and not _GENERATION.fullmatch(name):
        raise IndexCorruptError(
            f"index {directory} is damaged: {directory / CURRENT} names no generation ({name[:40]!r})"
        )
    return name or None


def live_generation(directory: Path) -> Path:
    """The live generation's folder (its manifest checked to be there)."""
    if not (directory / CURRENT).is_file():
        raise IndexNotFoundError(
            f"no index at {directory}: build one with `assistant ingest --index {directory} PATH...`"
        )
    gen = directory / str(current_generation(directory))
    if not (gen / "manifest.json").is_file():
        raise IndexCorruptError(f"index {directory} is damaged: {gen.name} lacks manifest.json")
    return gen


def load_live(directory: Path, load: Callable[[Path], T]) -> T:
    """``load(folder)`` of the live generation, holding a shared lock on its manifest meanwhile
    (garbage collection leaves it alone). A generation replaced (and collected) while it was being
    opened is retried with the new one; files of an unexpected shape are reported as damage."""
    for _ in range(3):
        name = current_generation(directory)
        try:
            lease = (directory / (name or CURRENT) / "manifest.json").open("rb")
        except (FileNotFoundError, NotADirectoryError):
            if name and current_generation(directory) != name:
                continue  # collected between reading CURRENT and opening it: take the newer one
            live_generation(directory)  # says what is missing
            raise
        with lease:
            fcntl.flock(lease, fcntl.LOCK_SH)
            if current_generation(directory) != name:
                continue
            try:
                return load(live_generation(directory))
            except (TypeError, AttributeError, KeyError, ValueError, IndexError) as e:  # valid JSON, wrong shape
                raise IndexCorruptError(
                    f"index {directory} ({name}) is damaged: its manifest or files have an unexpected shape "
                    f"({type(e).__name__}: {str(e)[:120]}); rebuild it (remove {directory} and run "
                    "`assistant ingest` again)"
                ) from e
    raise IndexChangedError(f"index {directory} changed three times while it was being opened; try again")


def ensure_current(directory: Path, generation: str | None) -> None:
    """Refuse to save unless the live generation is ``generation`` (the one a writer started from)."""
    directory.mkdir(parents=True, exist_ok=True)
    live = current_generation(directory)
    if live != generation:
        raise IndexChangedError(
            f"index {directory} changed while this process was writing to it (it now holds {live}, "
            f"this process started from {generation or 'no index'}); nothing was overwritten. "
            "Run the command again: it starts from the newer index."
        )


def new_folder(directory: Path) -> Path:
    """A temporary folder for the next generation, named for this process."""
    return Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=directory))


def publish(directory: Path, folder: Path) -> str:
    """Rename the synced ``folder`` into place as the next generation and point CURRENT at it."""
    fsync_dir(folder)
    numbers = [int(p.name[4:]) for p in directory.glob("gen-*") if p.name[4:].isdigit()]
    gen = directory / f"gen-{max(numbers, default=0) + 1:06d}"
    folder.rename(gen)
    write_synced(directory / (CURRENT + ".tmp"), gen.name)
    os.replace(directory / (CURRENT + ".tmp"), directory / CURRENT)
    fsync_dir(directory)
    return gen.name


def collect_garbage(directory: Path, keep: str) -> None:
    """Delete older generations nobody is loading, and temporary folders of dead processes."""
    for path in directory.iterdir():
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
            if not (owner.isdigit() and int(owner) != os.getpid() and pid_alive(int(owner))):
                shutil.rmtree(path, ignore_errors=True)
