"""Cold starts from the shell: `assistant ask` until its answer is printed, `assistant serve` until the
UI answers HTTP, each a fresh process over an existing index.

    .venv/bin/python -m benchmarks.cold_start --index DIR [--runs 3] [--before CHECKOUT]

``--before CHECKOUT``: also time ``assistant ask`` from another checkout of the project (a ``git
worktree`` of an earlier commit) in the same run, with this environment's packages.

Baselines measured in the same run (the machine is noisy): a bare Python start, importing
gradio alone (the floor of any Gradio UI's start) and importing sentence_transformers alone. Prints
each run's wall time and the medians. Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent
QUESTION = "What did the government announce?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def timed(command: list[str], checkout: Path | None = None) -> float:
    env = os.environ | {"OMP_WAIT_POLICY": "PASSIVE"}
    if checkout is not None:  # that checkout's code first on the path
        env["PYTHONPATH"] = str(checkout)
    t = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=checkout)
    return time.perf_counter() - t


CLI = "import sys; from assistant.cli import main; sys.argv[0] = 'assistant'; main()"


def serve_until_up(index: Path) -> float:
    port = free_port()
    t = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "assistant"), "serve", "--index", str(index), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=os.environ | {"OMP_WAIT_POLICY": "PASSIVE"},
    )
    try:
        while True:
            if proc.poll() is not None:
                raise SystemExit(f"serve exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:
                    if response.status == 200:
                        return time.perf_counter() - t
            except OSError:
                time.sleep(0.02)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="an existing index folder")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout whose `assistant ask` to time too")
    args = parser.parse_args()

    rows: dict[str, list[float]] = {
        "python -c pass (baseline)": [],
        "import gradio (baseline)": [],
        "import sentence_transformers (baseline)": [],
        "assistant ask (answer printed)": [],
        "assistant serve (UI answers HTTP)": [],
    }
    for _ in range(args.runs):  # interleaved, so a noisy moment hits every row alike
        rows["python -c pass (baseline)"].append(timed([sys.executable, "-c", "pass"]))
        rows["import gradio (baseline)"].append(timed([sys.executable, "-c", "import gradio"]))
        rows["import sentence_transformers (baseline)"].append(
            timed([sys.executable, "-c", "import sentence_transformers"])
        )
        rows["assistant ask (answer printed)"].append(
            timed([str(BIN / "assistant"), "ask", "--index", str(args.index), QUESTION])
        )
        rows["assistant serve (UI answers HTTP)"].append(serve_until_up(args.index))
        if args.before:
            command = [sys.executable, "-c", CLI, "ask", "--index", str(args.index.resolve()), QUESTION]
            rows.setdefault(f"assistant ask, {args.before.name} (before)", []).append(timed(command, args.before))
            rows.setdefault("assistant ask, this checkout (same way)", []).append(
                timed(command, Path(__file__).resolve().parents[1])
            )
    gradio = statistics.median(rows["import gradio (baseline)"])
    st = statistics.median(rows["import sentence_transformers (baseline)"])
    print("| start | runs (s) | median (s) | × import gradio | × import sentence_transformers |")
    print("|---|---|---|---|---|")
    for name, times in rows.items():
        median = statistics.median(times)
        runs = " / ".join(f"{t:.2f}" for t in times)
        print(f"| {name} | {runs} | {median:.2f} | {median / gradio:.2f} | {median / st:.2f} |")


if __name__ == "__main__":
    main()
