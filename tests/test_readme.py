"""The README's and the docs' Python examples run as pasted, in an empty folder; the README stays a
front page; every link in them resolves; the settings reference is current."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SHARED
from tests.helpers.shared import needs_shared

ROOT = Path(__file__).resolve().parents[1]


def blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)


def python_examples() -> list[str]:
    """The Python API page's examples: the first runs as pasted, the second needs a GGUF model."""
    return blocks(ROOT / "docs" / "usage" / "python-api.md")


def test_the_readme_is_a_front_page_whose_links_resolve() -> None:
    readme = ROOT / "README.md"
    assert len(readme.read_text(encoding="utf-8").splitlines()) <= 300
    for page in [readme, *sorted((ROOT / "docs").rglob("*.md"))]:
        for target in re.findall(r"\]\(((?!https?:|#|mailto:)[\w./-]+)[)#]", page.read_text(encoding="utf-8")):
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)} links to {target}, which is missing"


def test_the_settings_reference_is_current() -> None:
    from assistant.settings_reference import settings_reference

    written = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert written == settings_reference(), "docs/settings.md is stale: run `make docs`"


@pytest.mark.slow
def test_the_readme_example_runs_as_pasted_in_an_empty_folder(tmp_path: Path) -> None:
    [example] = blocks(ROOT / "README.md")
    done = run(example, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "[1]" in done.stdout.splitlines()[0] and "0 added" in done.stdout


def run(code: str, folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=folder, capture_output=True, text=True, env=env, timeout=600
    )


@pytest.mark.slow
def test_the_python_example_runs_as_pasted_in_an_empty_folder(tmp_path: Path) -> None:
    first = python_examples()[0]
    done = run(first, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "[1]" in lines[0], done.stdout  # a cited answer
    assert (tmp_path / "my-index").is_dir()
    assert "0 added" in done.stdout  # the same articles again change nothing


@pytest.mark.slow
@pytest.mark.model
def test_the_model_example_runs_with_a_real_gguf_model(tmp_path: Path) -> None:
    tool = needs_shared(SHARED / "tools" / "test-models", "the test-models tool")  # the model the model tests use
    found = subprocess.run([str(tool), "qwen-0.5b"], capture_output=True, text=True, timeout=900)
    assert found.returncode == 0, found.stderr[-500:]
    model = found.stdout.strip().split("\t")[1]
    code = python_examples()[1].replace('"qwen.gguf"', repr(model))
    done = run(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.rstrip().endswith("extractive"), done.stdout
