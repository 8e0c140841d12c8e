"""A non-editable install gives a working CLI and `import assistant` from any folder."""

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from prompts import load_prompt

ROOT = Path(__file__).resolve().parents[1]


def test_prompts_are_versioned_files() -> None:
    prompt = load_prompt("grounded_answer")
    assert prompt.id == "grounded_answer.v3" and "{question}" in prompt.text
    with pytest.raises(KeyError, match="available"):
        load_prompt("grounded_answer", 99)


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path: Path) -> None:
    def run(*cmd: str, cwd: Path = tmp_path) -> str:
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--no-deps",
        "--no-build-isolation",
        "-q",
        "-w",
        str(tmp_path / "dist"),
        str(ROOT),
    )
    [wheel] = (tmp_path / "dist").glob("news_assistant-*.whl")
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", str(venv))
    # dependencies come from the test environment; the project itself only from the wheel
    site = Path(
        run(str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        str(venv / "bin" / "python"),
        "install",
        "-q",
        "--no-deps",
        "--ignore-installed",
        str(wheel),
    )
    out = run(
        str(venv / "bin" / "python"),
        "-c",
        "import assistant, index, ui.app, mcp_adapter, prompts; "
        "from assistant.samples_index import sample_articles_path; "
        "print(assistant.__file__); print(sample_articles_path().is_file()); "
        "print(prompts.load_prompt('grounded_answer').id); "
        "from assistant.answering.judges.judge import Calibration; print(Calibration.load().threshold > 0)",
    )
    module, has_samples, prompt, calibration = out.split()
    assert Path(module).is_relative_to(venv) and has_samples == "True" and prompt == "grounded_answer.v3"
    assert calibration == "True", "the judge's calibration ships in the wheel"
    assert "ingest" in run(str(venv / "bin" / "assistant"), "--help")
