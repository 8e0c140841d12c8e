"""Helpers for tests that kill a writer process in the middle of its work."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], what: str, timeout: float = 180) -> None:
    """SIGKILL ``proc`` as soon as ``ready()`` holds; fail if it exits first or ``timeout`` passes."""
    try:
        deadline = time.monotonic() + timeout
        while not ready():
            assert proc.poll() is None, f"the process exited before {what}"
            assert time.monotonic() < deadline, f"the process never reached {what}"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
