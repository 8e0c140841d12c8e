"""The LLM judge (``answer.judge = "llm"``) measured on the sets the other judges are measured on
(``benchmarks/judge_benchmark.py``), with a local GGUF model.

    .venv/bin/python -m benchmarks.llm_judge [--set written|summedits|summaries] [--model PATH] [--limit N]

``--limit N`` judges a seeded random sample of N pairs (the whole set without it): SummEdits' and the
summaries' claims are judged against whole articles, which takes the small model seconds each.

Prints balanced accuracy and ROC AUC (score: the share of a sentence's claims judged supported)
with bootstrap intervals, the seconds per judgement, and how many replies stayed unreadable.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

import numpy as np

from benchmarks.judge_benchmark import bootstrap, labelled, summedits, written
from benchmarks.train_judge import balanced_accuracy, roc_auc

ROOT = Path(__file__).resolve().parents[1]


MODEL = Path.home() / ".cache" / "test-models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=MODEL)
    parser.add_argument("--set", default="written", choices=["written", "summedits", "summaries"])
    parser.add_argument("--limit", type=int, default=None, help="a seeded random sample of N pairs")
    args = parser.parse_args()
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from assistant.answering.engines.llm import ChatClient, LocalServer
    from assistant.answering.judges.judge import FaithfulnessJudge
    from assistant.settings import LLMSettings

    if args.set == "written":
        items, labels = written()
        name = "written answer sentences"
    elif args.set == "summedits":
        items, labels = summedits("test")
        name = "SummEdits news test"
    else:
        items, labels, _ = labelled("summaries")
        name = "summaries"
    if args.limit and args.limit < len(items):
        chosen = sorted(random.Random(0).sample(range(len(items)), args.limit))
        items, labels = [items[i] for i in chosen], labels[chosen]
        name += f" (sample of {args.limit})"
    settings = LLMSettings(model_path=args.model, threads=2)
    server = LocalServer(args.model, settings)
    client = ChatClient(server.base_url, args.model.name, "", settings, "llm.model_path")
    judge = FaithfulnessJudge("llm", client=client)
    started = time.perf_counter()
    verdicts = judge.judge_many(items)
    seconds = (time.perf_counter() - started) / len(items)
    predicted = np.array([v.supported for v in verdicts]).astype(int)
    scores = np.array([v.score for v in verdicts])
    ba = balanced_accuracy(predicted, labels)
    lo, hi = bootstrap(lambda i: balanced_accuracy(predicted[i], labels[i]), len(items), 2000)
    auc = roc_auc(scores, labels)
    alo, ahi = bootstrap(lambda i: roc_auc(scores[i], labels[i]), len(items), 2000)
    assert judge.llm is not None
    print(
        f"| {name} | {len(items)} ({int(labels.sum())}) | judge: llm ({args.model.name}) | "
        f"{100 * ba:.1f} [{100 * lo:.1f}–{100 * hi:.1f}] | {auc:.3f} [{alo:.3f}–{ahi:.3f}] |"
    )
    print(
        f"{seconds:.2f} s per judgement on 2 threads; {judge.llm.calls} model calls; "
        f"{judge.llm.unknown} unreadable replies"
    )
    server.close()


if __name__ == "__main__":
    main()
