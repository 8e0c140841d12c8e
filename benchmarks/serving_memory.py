"""Peak RSS of a serving process: a fresh process opens an index and answers questions (issue 38).

    .venv/bin/python -m benchmarks.serving_memory --index DIR [--questions 20] [--runs 2] [--before CHECKOUT]

``--before CHECKOUT``: the same with another checkout's code (a ``git worktree`` of an earlier
commit), interleaved in the same run. The questions are RealTime QA's first ones. Not part of the
test run.
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from benchmarks.realtimeqa import questions
from benchmarks.retrieval_realtimeqa import serving_rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True)
    parser.add_argument("--questions", type=int, default=20)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--before", type=Path, default=None)
    args = parser.parse_args()
    asks = [q.text for q in questions()[: args.questions]]
    rows: dict[str, list[float]] = {}
    for _ in range(args.runs):
        if args.before:
            rows.setdefault(f"before ({args.before.name})", []).append(serving_rss(args.index, asks, args.before))
        rows.setdefault("this checkout", []).append(serving_rss(args.index, asks))
    print(f"| code | peak RSS, {args.questions} questions (MB) | median |")
    print("|---|---|---|")
    for name, values in rows.items():
        print(f"| {name} | {' / '.join(f'{v:.0f}' for v in values)} | {statistics.median(values):.0f} |")


if __name__ == "__main__":
    main()
