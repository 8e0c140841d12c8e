"""The README's Python examples run as pasted, in an empty folder."""

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


def python_examples() -> list[str]:
    section = ROOT.joinpath("README.md").read_text(encoding="utf-8").split("## Python API", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


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
