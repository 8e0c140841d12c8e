"""The ``assistant`` command line: ingest, remove, check, ask, serve, api, info, eval, testset.
An adapter over the public ``assistant`` API; nothing in the core imports it."""

from __future__ import annotations

import sys

from assistant.cli import eval_commands, index_commands, question_commands  # noqa: F401  (they register the commands)
from assistant.cli.common import app


def main() -> None:  # pragma: no cover
    sys.exit(app())


__all__ = ["app", "main"]
