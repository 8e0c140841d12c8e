"""One writer per index, across processes: an exclusive ``flock`` on ``DIR/LOCK``.

The kernel releases the lock when its holder exits, however it exits (kill -9 included), so a lock
is never stale for long: a file left by a dead holder is simply taken over. The holder writes its
pid, command and start time into the file so that a waiting writer can say whom it waits for.
Locks are per open file, so two threads of one process exclude each other too.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from index.errors import IndexBusyError, IndexWriteError, os_reason

log = logging.getLogger(__name__)

LOCK_NAME = "LOCK"


def holder(directory: Path) -> dict[str, object]:
    """Who holds (or last held) the write lock of ``directory``: pid, command, since."""
    try:
        return dict(json.loads((directory / LOCK_NAME).read_text() or "{}"))
    except (OSError, ValueError):
        return {}


def describe(info: dict[str, object]) -> str:
    if not info:
        return "another process"
    return f"process {info.get('pid')} ({info.get('command')}, since {info.get('since')})"


class WriteLock:
    """The write lock of an index folder. ``wait``: True waits as long as it takes, a number waits
    that many seconds, False fails at once; either failure raises :class:`IndexBusyError`.
    ``on_wait`` is told once, with a message naming the holder, when the lock is busy."""

    def __init__(
        self,
        directory: Path,
        wait: bool | float = True,
        on_wait: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = directory
        self.wait = wait
        self.on_wait = on_wait or log.warning
        self._file: object = None

    def acquire(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            f = (self.directory / LOCK_NAME).open("a+")
        except OSError as e:
            raise IndexWriteError(
                f"cannot take the write lock {self.directory / LOCK_NAME}: {os_reason(e)}; nothing was changed"
            ) from e
        deadline = None if self.wait is True else time.monotonic() + float(self.wait or 0)
        told = False
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                message = f"index {self.directory} is being written by {describe(holder(self.directory))}"
                if deadline is not None and time.monotonic() >= deadline:
                    f.close()
                    raise IndexBusyError(
                        f"{message}; try again when it is done (or wait for it: leave out --no-wait)"
                    ) from None
                if not told:
                    self.on_wait(f"{message}; waiting for it to finish…")
                    told = True
                time.sleep(0.1)
        f.seek(0)
        f.truncate()
        command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:300]
        f.write(
            json.dumps(
                {"pid": os.getpid(), "command": command, "since": datetime.now(UTC).isoformat(timespec="seconds")}
            )
        )
        f.flush()
        self._file = f

    def release(self) -> None:
        f = self._file
        if f is not None:
            self._file = None
            f.close()  # type: ignore[attr-defined]  # closing the file releases the lock

    def __enter__(self) -> WriteLock:
        self.acquire()
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
