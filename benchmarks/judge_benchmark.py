"""How faithful is the faithfulness judge? The table in the README, reproduced.

    .venv/bin/python -m benchmarks.judge_benchmark [--fit-lexical] [--bootstrap 2000]

Data (human labels only):
- SummEdits news (../shared/datasets/summedits-news): 686 ``test`` pairs, reported; the 133
  ``evaluation`` pairs only choose thresholds (the model's calibration was fitted on them too);
- ``whole summaries``: the 40 summaries of ``summaries`` whole against their article, supported when
  every sentence is (a summary-level set, as held-out summary benchmarks are);
- ``written``: the written answer sentences of both local models labelled for answer-time
  verification (``benchmarks/verification.py``; 167, shipped set and BBC), each against the passage
  the pipeline cites;
- ``answers``: sentences of extractive and LLM answers against the passage they cite, and
  ``summaries``: sentences of small-model summaries of BBC articles against the article, both
  labelled by hand (``benchmarks/judge_sets.py`` makes them; labels in
  ``benchmarks/data/judge-labels.jsonl``). Pairs whose text is missing are counted and skipped.

Methods, each with balanced accuracy and ROC AUC and bootstrap 95 % intervals:
- ``judge (model)``: the shipped claim-support model, its own threshold;
- ``judge (lexical)``: the lexical fallback, its own threshold;
- ``no new numbers or names``: supported when the claim brings no number or name the passage lacks;
- ``no new spaCy entities``: the same rule with spaCy's entities (names, numbers, dates, amounts)
  instead of the judge's regular expressions and capitalisation;
- ``token overlap``: share of the claim's content words found in the passage, thresholded. On
  SummEdits the threshold is chosen on the evaluation split; on a hand-labelled set on one half
  for the other half and the other way round (two folds, seeded), so no pair picks its own cut.

Speed: ms per (passage, claim) judgement on SummEdits test, and per encoder pair (window,
sentence), batched, on this machine's threads.

``--fit-lexical`` first refits the lexical judge's weights on claim pairs from
``benchmarks/judge_pairs.py`` (never SummEdits) and its threshold on the SummEdits evaluation
split, and writes ``assistant/answering/judges/lexical_calibration.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.answering.judges import claim_model as cm
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.answering.judges.lexical import FEATURES, MIN_WEIGHT, Calibration, LexicalJudge
from benchmarks.judge_sets import LABELS, SETS
from benchmarks.train_judge import balanced_accuracy, best_threshold, roc_auc
from index.language.words import STOPWORDS, stem

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))


SUMMEDITS = SHARED / "datasets" / "summedits-news" / "summedits_news.json"


def overlap(passage: str, claim: str) -> float:
    """Share of the claim's content words (stemmed, not stop words) that occur in the passage."""
    words = [stem(w) for w in _words(claim) if w not in STOPWORDS]
    have = {stem(w) for w in _words(passage)}
    return sum(w in have for w in words) / len(words) if words else 1.0


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def bootstrap(metric: Callable[[np.ndarray], float], n: int, draws: int, seed: int = 0) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    values = [metric(rng.integers(0, n, n)) for _ in range(draws)]
    values = [v for v in values if not np.isnan(v)]
    return float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5))


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 0.1, steps: int = 4000) -> tuple[np.ndarray, float]:
    """Class-balanced logistic regression, features standardised inside; every weight kept at or
    below ``-MIN_WEIGHT`` (standardised): each feature is evidence against support, none ignored."""
    mean, scale = x.mean(0), x.std(0) + 1e-6
    z = (x - mean) / scale
    weight = np.where(y == 1, 0.5 / max(1, (y == 1).sum()), 0.5 / max(1, (y == 0).sum()))
    coef, bias = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z @ coef + bias)))
        grad = weight * (p - y)
        coef -= 0.5 * (z.T @ grad + l2 * coef / len(y))
        bias -= 0.5 * grad.sum()
        coef = np.minimum(coef, -MIN_WEIGHT)
    return coef / scale, bias - float((coef / scale) @ mean)


def fit_lexical(evaluation: list[tuple[str, str]], labels: np.ndarray) -> Calibration:
    pairs = ROOT / "build" / "judge" / "lexical-pairs.jsonl"
    if not pairs.is_file():
        pairs.parent.mkdir(parents=True, exist_ok=True)
        script = ROOT / "benchmarks" / "judge_pairs.py"
        subprocess.run([sys.executable, str(script), str(pairs), "--articles", "700", "--seed", "1"], check=True)
    rows = [json.loads(line) for line in pairs.open()]
    judge = LexicalJudge()
    x = np.array([[judge.features(r["passage"], r["claim"])[0][f] for f in FEATURES] for r in rows])
    y = np.array([int(r["label"]) for r in rows])
    coef, intercept = fit_logistic(x, y)
    draft = Calibration({f: round(float(c), 4) for f, c in zip(FEATURES, coef, strict=True)}, round(intercept, 4), 0.5)
    scorer = LexicalJudge(draft)
    scores = np.array([scorer.score(scorer.features(p, c)[0]) for p, c in evaluation])
    threshold = best_threshold(scores, labels)
    return Calibration(
        draft.coef,
        draft.intercept,
        round(threshold, 4),
        fitted_on=f"weights: {len(rows)} claim pairs from benchmarks/judge_pairs.py (seed 1); threshold: SummEdits "
        "news, split evaluation (133 pairs)",
    )


def summedits(split: str) -> tuple[list[tuple[str, str]], np.ndarray]:
    rows = [r for r in json.loads(SUMMEDITS.read_text()) if r["split"] == split]
    return [(r["doc"], r["summary"]) for r in rows], np.array([int(r["label"]) for r in rows])


def labelled(name: str) -> tuple[list[tuple[str, str]], np.ndarray, int]:
    """A hand-labelled set: its pairs, labels, and how many labels found no text."""
    labels = {}
    for line in LABELS.open(encoding="utf-8"):
        r = json.loads(line)
        if r["set"] == name:
            labels[r["key"]] = int(r["label"])
    texts = {}
    path = SETS / f"{name}.jsonl"
    if path.is_file():
        for line in path.open(encoding="utf-8"):
            r = json.loads(line)
            texts[r["key"]] = (r["passage"], r["claim"])
    keys = [k for k in labels if k in texts]
    return [texts[k] for k in keys], np.array([labels[k] for k in keys]), len(labels) - len(keys)


def whole_summaries() -> tuple[list[tuple[str, str]], np.ndarray]:
    """Each labelled three-sentence summary of ``summaries`` whole against its article: supported
    when every sentence is (how a summary-level benchmark labels a summary)."""
    labels = {r["key"]: int(r["label"]) for r in map(json.loads, LABELS.open(encoding="utf-8"))}
    groups: dict[tuple[str, str], list[dict[str, str]]] = {}
    path = SETS / "summaries.jsonl"
    for r in map(json.loads, path.open(encoding="utf-8")) if path.is_file() else []:
        groups.setdefault((r["article"], r["model"]), []).append(r)
    items, out = [], []
    for rows in groups.values():
        if all(r["key"] in labels for r in rows):
            items.append((rows[0]["passage"], " ".join(r["claim"] for r in rows)))
            out.append(int(all(labels[r["key"]] for r in rows)))
    return items, np.array(out)


def written() -> tuple[list[tuple[str, str]], np.ndarray]:
    """The written answer sentences of both local models labelled for answer-time verification
    (``benchmarks/verification.py``: the shipped set and the BBC questions), each against the passage
    the pipeline ends up citing; the drafts are in ``runs/verification`` (``verification.py drafts``)."""
    import verification

    known = verification.labels()
    every = (
        verification.sentences(verification.RUNS / "drafts.jsonl")
        if (verification.RUNS / "drafts.jsonl").is_file()
        else []
    )
    pairs = {r["key"]: (r["passage"], r["claim"]) for r in every if r["key"] in known}
    return list(pairs.values()), np.array([known[k] for k in pairs])


def timed(run: Callable[[], np.ndarray], count: int) -> tuple[np.ndarray, float]:
    """What ``run`` returns and its milliseconds per pair."""
    started = time.perf_counter()
    out = run()
    return out, 1000 * (time.perf_counter() - started) / max(1, count)


def evaluate(
    name: str, items: list[tuple[str, str]], labels: np.ndarray, tune: tuple[list[tuple[str, str]], np.ndarray] | None
) -> list[dict[str, object]]:
    """Every method on one set, with its ms per pair on this machine; ``tune`` is the set token
    overlap's threshold is chosen on (None: two folds of this set)."""
    from assistant.answering.judges.entities import novel_entities_many

    model_judge, lexical_judge = FaithfulnessJudge("model"), FaithfulnessJudge("lexical")
    lexical_judge.judge_many(items[:2])  # WordNet and the model load outside the timings
    model_judge.judge_many(items[:2])
    novel_entities_many(items[:2])
    model_verdicts, model_ms = timed(lambda: model_judge.judge_many(items), len(items))  # type: ignore[arg-type,return-value]
    lexical_verdicts, lexical_ms = timed(lambda: lexical_judge.judge_many(items), len(items))  # type: ignore[arg-type,return-value]
    whole = [lexical_judge.lexical.features(p, c)[0] for p, c in items]  # the rule reads the whole claim
    rule = np.array([-(f["novel_numbers"] + f["novel_names"]) for f in whole])
    entities, entities_ms = timed(lambda: -np.array([len(e) for e in novel_entities_many(items)]), len(items))
    over, over_ms = timed(lambda: np.array([overlap(p, c) for p, c in items]), len(items))
    if tune is not None:
        cut = best_threshold(np.array([overlap(p, c) for p, c in tune[0]]), tune[1])
        over_predicted = (over >= cut).astype(int)
    else:
        order = list(range(len(items)))
        random.Random(0).shuffle(order)
        halves = [np.array(order[: len(order) // 2]), np.array(order[len(order) // 2 :])]
        over_predicted = np.zeros(len(items), dtype=int)
        for a, b in (halves, halves[::-1]):
            cut = best_threshold(over[a], labels[a])
            over_predicted[b] = (over[b] >= cut).astype(int)
    methods = {
        "judge (model)": (
            np.array([v.score for v in model_verdicts]),
            np.array([v.supported for v in model_verdicts]),
            model_ms,
        ),
        "judge (lexical)": (
            np.array([v.score for v in lexical_verdicts]),
            np.array([v.supported for v in lexical_verdicts]),
            lexical_ms,
        ),
        "no new numbers or names": (rule, (rule == 0).astype(int), lexical_ms),  # read from the lexical features
        "no new spaCy entities": (entities, (entities == 0).astype(int), entities_ms),
        "token overlap": (over, over_predicted, over_ms),
    }
    out = []
    for method, (scores, predicted, ms) in methods.items():
        predicted = predicted.astype(int)
        row: dict[str, object] = {
            "set": name,
            "method": method,
            "pairs": len(items),
            "supported": int(labels.sum()),
            "balanced_accuracy": balanced_accuracy(predicted, labels),
            "balanced_accuracy_ci": bootstrap(
                lambda i, p=predicted: balanced_accuracy(p[i], labels[i]), len(items), DRAWS
            ),
            "roc_auc": roc_auc(scores, labels),
            "roc_auc_ci": bootstrap(lambda i, s=scores: roc_auc(s[i], labels[i]), len(items), DRAWS),
            "ms_per_pair": ms,
        }
        out.append(row)
    return out


CANDIDATES = ("judge (lexical)", "judge (model)")  # the judges the package can make its default
BASELINES = ("no new numbers or names", "token overlap")


TIE_BAND = 0.02  # smallest margins this close are a tie: inside the bootstrap noise of these sets


def choose_default(rows: list[dict[str, object]]) -> tuple[str, dict[str, dict[str, float]]]:
    """The README's rule for the default judge: on every set, a candidate's margin is its balanced
    accuracy minus the better baseline's. The candidate with the largest smallest margin wins;
    candidates whose smallest margin is within ``TIE_BAND`` of that are tied, and the larger mean
    margin breaks the tie. Every set weighs the same, SummEdits and our own."""
    margins: dict[str, dict[str, float]] = {c: {} for c in CANDIDATES}
    for name in dict.fromkeys(str(r["set"]) for r in rows):
        ba = {str(r["method"]): float(r["balanced_accuracy"]) for r in rows if r["set"] == name}  # type: ignore[arg-type]
        for c in CANDIDATES:
            margins[c][name] = ba[c] - max(ba[b] for b in BASELINES)
    worst = max(min(m.values()) for m in margins.values())
    tied = [c for c in CANDIDATES if min(margins[c].values()) >= worst - TIE_BAND]
    return max(tied, key=lambda c: float(np.mean(list(margins[c].values())))), margins


DRAWS = 2000


def speed(items: list[tuple[str, str]]) -> dict[str, float]:
    """ms per encoder pair (window, sentence), batched, on a fixed sample of SummEdits windows."""
    model = cm.shipped_model()
    pairs = []
    for passage, claim in items[:60]:
        for s, e in cm.windows(passage):
            pairs.append((passage[s:e], cm.claim_sentences(claim)[0]))
    model.logits(pairs[:8])
    started = time.perf_counter()
    model.logits(pairs)
    return {"encoder_pairs": len(pairs), "ms_per_encoder_pair": 1000 * (time.perf_counter() - started) / len(pairs)}


def main() -> None:
    global DRAWS
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit-lexical", action="store_true")
    parser.add_argument("--bootstrap", type=int, default=DRAWS)
    parser.add_argument(
        "--sets", nargs="*", default=["summedits", "answers", "summaries", "whole-summaries", "written"]
    )
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "judge-benchmark.json")
    args = parser.parse_args()
    DRAWS = args.bootstrap
    evaluation = summedits("evaluation")
    if args.fit_lexical:
        calibration = fit_lexical(*evaluation)
        calibration.save(ROOT / "assistant" / "answering" / "lexical_calibration.json")
        print("lexical calibration:", json.dumps(calibration.__dict__))
    rows: list[dict[str, object]] = []
    extra: dict[str, object] = {}
    for name in args.sets:
        if name == "summedits":
            items, labels = summedits("test")
            rows += evaluate("SummEdits news test", items, labels, evaluation)
            extra["speed"] = speed(items)
        elif name == "written":
            items, labels = written()
            if len(items):
                rows += evaluate("written answer sentences", items, labels, None)
        elif name == "whole-summaries":
            items, labels = whole_summaries()
            if len(items):
                rows += evaluate("whole summaries", items, labels, None)
        else:
            items, labels, missing = labelled(name)
            if missing:
                print(f"{name}: {missing} labelled pairs have no text; run benchmarks/judge_sets.py {name}")
            if len(set(labels.tolist())) < 2:
                print(f"{name}: {len(items)} pairs with text, not both labels among them; not measured")
            else:
                rows += evaluate(name, items, labels, None)
    print("| set | pairs (supported) | method | balanced accuracy [95% CI] | ROC AUC [95% CI] | ms per pair |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        lo, hi = r["balanced_accuracy_ci"]  # type: ignore[misc]
        alo, ahi = r["roc_auc_ci"]  # type: ignore[misc]
        print(
            f"| {r['set']} | {r['pairs']} ({r['supported']}) | {r['method']} | "
            f"{100 * r['balanced_accuracy']:.1f} [{100 * lo:.1f}–{100 * hi:.1f}] | "  # type: ignore[operator]
            f"{r['roc_auc']:.3f} [{alo:.3f}–{ahi:.3f}] | {r['ms_per_pair']:.1f} |"
        )
    default, margins = choose_default(rows)
    for c, m in margins.items():
        print(f"{c}: margins over the better baseline " + ", ".join(f"{k} {100 * v:+.1f}" for k, v in m.items()))
    print(f"the rule's default: {default}")
    extra["default"] = default
    if "speed" in extra:
        print(json.dumps(extra["speed"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"rows": rows, **extra}, indent=2))


if __name__ == "__main__":
    main()
