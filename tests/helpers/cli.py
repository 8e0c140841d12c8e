"""Running the `assistant` command: installed (a process) or in this process (typer's runner)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent


def cli(*args: str, index: Path | None = None, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if index is not None:
        env["ASSISTANT_INDEX"] = str(index)
    proc = subprocess.run([str(BIN / "assistant"), *args], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def cli_in_process(*args: str) -> Any:
    """The CLI in this process (no cold start): for checks of its messages and exit codes."""
    from typer.testing import CliRunner

    from assistant.cli import app

    return CliRunner().invoke(app, list(args))
