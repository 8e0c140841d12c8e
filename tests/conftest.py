"""Shared fixtures: the real embedding model, indexes built from real articles, ../shared data."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.settings import use_offline_environment

use_offline_environment()

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
SEED = SHARED / "seed" / "us-north-korea-contact.txt"
SAMPLES = ROOT / "assistant" / "samples" / "articles.jsonl"
STORIES = ROOT / "tests" / "data" / "stories" / "articles.jsonl"  # dated reports written for the time questions
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test writes into the user's real data folder."""
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.fixture(scope="session")
def seed_path() -> Path:
    from tests.helpers.shared import needs_shared

    return needs_shared(SEED, "the seed article")


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


@pytest.fixture(scope="session")
def stories_bot(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """Six dated stories (24 reports, one revised figure each in five of them) and an unrelated
    newer article from the bridge's town, beside the sample articles."""
    from assistant import Assistant

    return Assistant.build([STORIES, SAMPLES], tmp_path_factory.mktemp("stories") / "index")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make chromium` (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            yield browser
        finally:
            browser.close()
