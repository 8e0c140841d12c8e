"""Accuracy of the offline faithfulness judge on human labels: SummEdits news.

    .venv/bin/python benchmarks/judge_summedits.py [--write]

Computes the judge's features for every (article, summary) pair of
``../shared/datasets/summedits-news/summedits_news.json``, fits the logistic weights and the
decision threshold on the ``evaluation`` split only (133 pairs), and reports balanced accuracy on
the ``test`` split (686 pairs), with the time per claim. For comparison it also scores a simple
rule (flag numbers or capitalised words absent from the article) and the judge without WordNet.
``--write`` stores the fitted calibration in ``assistant/answering/judge_calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from assistant.answering.judge import FEATURES, Calibration, FaithfulnessJudge  # noqa: E402

DATA = ROOT.parent / "shared" / "datasets" / "summedits-news" / "summedits_news.json"


def balanced_accuracy(predicted: np.ndarray, labels: np.ndarray) -> float:
    positive, negative = labels == 1, labels == 0
    return 0.5 * (float(np.mean(predicted[positive] == 1)) + float(np.mean(predicted[negative] == 0)))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1, steps: int = 5000) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression by gradient descent (features standardised inside). The
    coefficients are kept at or below zero: every feature is evidence against support, and more of
    it may never raise the score (this stops the fit from learning the data set's quirks, such as
    paraphrased summaries being labelled consistent more often)."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    weight = np.where(y == 1, 0.5 / max(1, (y == 1).sum()), 0.5 / max(1, (y == 0).sum()))
    coef, bias = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ coef + bias)))
        grad = weight * (p - y)
        coef -= 0.5 * (z.T @ grad + l2 * coef / len(y))
        bias -= 0.5 * grad.sum()
        coef = np.minimum(coef, 0.0)
    return coef / scale, bias - float((coef / scale) @ mean)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> float:
    candidates = np.unique(scores)
    accuracies = [balanced_accuracy((scores >= t).astype(int), labels) for t in candidates]
    best = int(np.argmax(accuracies))
    upper = candidates[best + 1] if best + 1 < len(candidates) else candidates[best]
    return float((candidates[best] + upper) / 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true", help="store the calibration in assistant/")
    args = parser.parse_args()
    rows = json.loads(DATA.read_text())
    labels = np.array([int(r["label"]) for r in rows])
    split = np.array([r["split"] for r in rows])
    cal, test = split == "evaluation", split == "test"

    results = {}
    for name, use_wordnet in (("judge", True), ("judge without WordNet", False)):
        judge = FaithfulnessJudge(use_wordnet=use_wordnet)
        judge.features("warm up.", "warm up")
        t0 = time.perf_counter()
        values = [judge.features(r["doc"], r["summary"])[0] for r in rows]
        ms = 1000 * (time.perf_counter() - t0) / len(rows)
        feats = np.array([[v[f] for f in FEATURES] for v in values])
        coef, intercept = fit_logistic(feats[cal], labels[cal])
        scores = 1 / (1 + np.exp(-(feats @ coef + intercept)))
        fitted = Calibration(
            {f: round(float(c), 4) for f, c in zip(FEATURES, coef, strict=True)},
            round(float(intercept), 4),
            round(best_threshold(scores[cal], labels[cal]), 4),
            fitted_on="SummEdits news, split evaluation (133 pairs)",
        )
        judge = FaithfulnessJudge(fitted, use_wordnet=use_wordnet)
        predicted = np.array([int(judge.decide(v)[0]) for v in values])
        results[name] = (
            balanced_accuracy(predicted[cal], labels[cal]),
            balanced_accuracy(predicted[test], labels[test]),
            ms,
        )
        if use_wordnet:
            calibration = fitted
            score_only = (scores >= fitted.threshold).astype(int)
            results["judge, score alone (no decisive contradictions)"] = (
                balanced_accuracy(score_only[cal], labels[cal]),
                balanced_accuracy(score_only[test], labels[test]),
                ms,
            )
            rule = (feats[:, FEATURES.index("novel_numbers")] + feats[:, FEATURES.index("novel_names")]) == 0
            results["rule: no new numbers or names"] = (
                balanced_accuracy(rule[cal].astype(int), labels[cal]),
                balanced_accuracy(rule[test].astype(int), labels[test]),
                ms,
            )
    print(f"SummEdits news: {cal.sum()} calibration pairs (evaluation), {test.sum()} test pairs")
    print("| method | balanced acc. (evaluation) | balanced acc. (test) | ms per claim |")
    print("|---|---|---|---|")
    for name, (on_cal, on_test, ms) in results.items():
        print(f"| {name} | {100 * on_cal:.1f} | {100 * on_test:.1f} | {ms:.1f} |")
    print("published on SummEdits news: ChatGPT 74.4, Claude v2 75.5, QAFactEval 74.4, SummaCConv 61.9")
    print(
        "calibration:",
        json.dumps(calibration.coef),
        "intercept",
        calibration.intercept,
        "threshold",
        calibration.threshold,
    )
    if args.write:
        calibration.save(ROOT / "assistant" / "answering" / "judge_calibration.json")
        print("written to assistant/answering/judge_calibration.json")


if __name__ == "__main__":
    main()
