"""Third-party data from ../shared (the seed article, the BBC set, the test models): a test that needs
it skips, naming the missing file, on a clone with nothing beside it; with ``REQUIRE_SHARED=1`` (CI,
`.ci/run`) the skip is a failure, so CI still runs every test."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def needs_shared(path: Path, what: str) -> Path:
    """``path`` when it is there; otherwise skip (fail under ``REQUIRE_SHARED=1``) with the reason."""
    if path.exists():
        return path
    message = f"needs {what}: {path} is missing (third-party data from ../shared; set SHARED_DIR to that folder)"
    if os.environ.get("REQUIRE_SHARED") == "1":
        pytest.fail(message)
    pytest.skip(message)
