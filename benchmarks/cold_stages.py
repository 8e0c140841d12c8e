"""Where a cold `assistant ask` spends its time, stage by stage, in fresh processes (issue 38):

    .venv/bin/python -m benchmarks.cold_stages --index DIR [--runs 5]

Each run is a new interpreter that does what `assistant ask` does and stamps each stage from the
interpreter's start: importing the command line, opening the index, the question retrieved (the
embedding model's session and the search), spaCy ready (loaded in a thread from the start), the
answer verified, and printed. Prints the medians. Not part of the test run.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

QUESTION = "What did the government announce?"
CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
stamps = {}
import assistant.cli  # noqa: F401  (what `assistant ask` imports)
from assistant import Assistant, Finished, Retrieved, load_nlp_in_background
stamps["import the command line"] = time.perf_counter() - t0
spacy = load_nlp_in_background()
spacy.add_done_callback(lambda _: stamps.setdefault("spaCy ready (in a thread)", time.perf_counter() - t0))
bot = Assistant.open(sys.argv[1])
stamps["open the index"] = time.perf_counter() - t0
if sys.argv[3] == "preload":
    bot.preload()
for event in bot.stream(sys.argv[2]):
    if isinstance(event, Retrieved):
        stamps["retrieved (embedder session, search)"] = time.perf_counter() - t0
    elif isinstance(event, Finished):
        stamps["answer verified"] = time.perf_counter() - t0
        print(event.answer.text[:10], file=sys.stderr)
stamps["printed"] = time.perf_counter() - t0
print(json.dumps(stamps))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = os.environ | {"OMP_WAIT_POLICY": "PASSIVE"}
    rows: dict[str, dict[str, list[float]]] = {"preload": {}, "no preload": {}}
    for _ in range(args.runs):  # interleaved, so a noisy moment hits both alike
        for mode in ("no-preload", "preload"):
            done = subprocess.run(
                [sys.executable, "-c", CHILD, str(args.index), QUESTION, mode],
                capture_output=True, text=True, env=env, check=True,
            )  # fmt: skip
            stamps = json.loads(done.stdout.strip().splitlines()[-1])
            for name, value in stamps.items():
                rows["preload" if mode == "preload" else "no preload"].setdefault(name, []).append(value)
    names = list(rows["preload"])
    print("| stage (seconds from the interpreter's start) | without preload | with preload |")
    print("|---|---|---|")
    for name in names:
        a, b = rows["no preload"].get(name, [0.0]), rows["preload"][name]
        print(f"| {name} | {statistics.median(a):.2f} | {statistics.median(b):.2f} |")


if __name__ == "__main__":
    main()
