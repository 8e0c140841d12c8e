"""The ``assistant`` command line: ingest, remove, check, sources, refresh, ask, digest, story, serve, api,
info, eval, testset.
An adapter over the public ``assistant`` API; nothing in the core imports it."""

from __future__ import annotations

import sys

from assistant.cli import (  # noqa: F401  (they register the commands)
    eval_commands,
    index_commands,
    question_commands,
    source_commands,
    story_commands,
)
from assistant.cli.common import app


def main() -> None:  # pragma: no cover
    sys.exit(app())


__all__ = ["app", "main"]
