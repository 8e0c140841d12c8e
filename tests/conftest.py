"""Shared fixtures: the real embedding model, indexes built from real articles, ../shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from assistant.settings import use_offline_environment

use_offline_environment()

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
SEED = SHARED / "seed" / "us-north-korea-contact.txt"
SAMPLES = ROOT / "assistant" / "samples" / "articles.jsonl"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes into the user's real data folder."""
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture(scope="session")
def seed_path() -> Path:
    if not SEED.is_file():
        pytest.fail(f"the seed article {SEED} is missing; set SHARED_DIR to the shared folder")
    return SEED


@pytest.fixture(scope="session")
def embedder():  # type: ignore[no-untyped-def]
    from index import load_embedder

    return load_embedder("all-MiniLM-L6-v2")


@pytest.fixture(scope="session")
def seed_bot(tmp_path_factory: pytest.TempPathFactory, seed_path: Path):  # type: ignore[no-untyped-def]
    from assistant import Assistant

    return Assistant.build([seed_path], tmp_path_factory.mktemp("seed") / "index")


@pytest.fixture(scope="session")
def sample_bot(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from assistant import Assistant

    return Assistant.build([SAMPLES], tmp_path_factory.mktemp("samples") / "index")
