"""The ``assistant`` command line: ingest, remove, check, sources, refresh, ask, digest, story, serve, api,
info, eval, testset.
An adapter over the public ``assistant`` API; nothing in the core imports it."""

from __future__ import annotations

import logging
import os
import sys
import threading

from assistant.cli import (  # noqa: F401  (they register the commands)
    eval_commands,
    index_commands,
    question_commands,
    source_commands,
    story_commands,
)
from assistant.cli.common import app


def main() -> None:  # pragma: no cover  (run as a process by the tests)
    try:
        app()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        if not isinstance(e.code, int | None):
            print(e.code, file=sys.stderr)
    leave(code)


def leave(code: int) -> None:
    """End the process with ``code``. When nothing else runs (no thread but this one, not daemon),
    the output is flushed and the process ends at once: tearing down the interpreter (spaCy's
    vocabulary, onnxruntime's sessions, thousands of modules) took 0.18 s of a 1.3 s cold ask, and
    every file the command wrote is already synced and closed. Otherwise the usual exit waits for
    the other threads."""
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if others:
        sys.exit(code)
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: nothing more can be said on it
            pass
    os._exit(code)


__all__ = ["app", "main"]
