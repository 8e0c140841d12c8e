"""Evaluation metrics, each a plain function with its definition in the docstring.

Every metric of an answer is defined for refusals and empty answers too (a number, never NaN);
a metric that does not apply to a question (no reference answer, say) is ``None`` and left out
of the averages.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKERS = re.compile(r"\[\d+\]")

# Each metric's definition, shown in reports and the docs.
DEFINITIONS: dict[str, str] = {
    "hit@k": "1 if any reference article is among the first k retrieved articles, else 0 (recall@k at article "
    "level when a question has one reference article).",
    "recall@k": "Share of the reference articles found among the first k retrieved articles.",
    "mrr": "1 / rank of the first reference article among the retrieved articles (0 if none is retrieved).",
    "exact_match": "1 if the normalised answer (its short answer when it has one; lower case, no punctuation, "
    "articles or [n] markers) equals a normalised reference answer.",
    "token_f1": "Best token-overlap F1 between the normalised answer (its short answer when it has one) and any "
    "reference answer.",
    "contains_reference": "1 if a normalised reference answer appears inside the normalised answer.",
    "faithfulness": "Share of the answer's claims (sentences) supported, by the judge, by the passages the answer "
    "cites (all of them together). A refusal has no claims and is not scored.",
    "citation_recall": "ALCE citation recall: share of claims whose cited passages, taken together, support them.",
    "citation_precision": "ALCE citation precision: share of citations that are needed: a citation is precise "
    "if the claim is supported by all its citations and either the citation supports it alone or the "
    "others do not without it.",
    "verified": "Share of the answer's sentences the answering pipeline verified against the passage it cites "
    "(the stricter answer-time check: the judge, no new numbers or names, at most a third new words).",
    "refused": "1 if the assistant said the articles don't answer.",
    "refusal_rate": "Share of unanswerable questions (answerable: false) that the assistant refused.",
    "false_refusal_rate": "Share of answerable questions that the assistant refused.",
}


def normalize(text: str) -> str:
    """Lower case, without [n] markers, punctuation, the articles a/an/the, and extra spaces."""
    text = _MARKERS.sub(" ", text.lower())
    text = "".join(" " if ch in string.punctuation or ch in "‘’“”–—" else ch for ch in text)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(answer: str, references: Sequence[str]) -> float | None:
    if not references:
        return None
    return float(any(normalize(answer) == normalize(r) for r in references))


def token_f1(answer: str, references: Sequence[str]) -> float | None:
    if not references:
        return None
    tokens = normalize(answer).split()
    best = 0.0
    for reference in references:
        ref = normalize(reference).split()
        common = sum((Counter(tokens) & Counter(ref)).values())
        if common:
            precision, recall = common / len(tokens), common / len(ref)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def contains_reference(answer: str, references: Sequence[str]) -> float | None:
    if not references:
        return None
    padded = f" {normalize(answer)} "
    return float(any(normalize(r) and f" {normalize(r)} " in padded for r in references))


def retrieval_scores(retrieved: Sequence[str], relevant: set[str], ks: Sequence[int] = (1, 5, 10)) -> dict[str, float]:
    """hit@k, recall@k and MRR of a ranked list of article ids (no repeats) against the reference ids."""
    if not relevant:
        return {}
    out: dict[str, float] = {}
    for k in ks:
        found = relevant & set(retrieved[:k])
        out[f"hit@{k}"] = float(bool(found))
        out[f"recall@{k}"] = len(found) / len(relevant)
    first = next((i for i, aid in enumerate(retrieved) if aid in relevant), None)
    out["mrr"] = 0.0 if first is None else 1 / (first + 1)
    return out


Supports = Callable[[str, str], bool]  # (passage, claim) -> is the claim supported by the passage?


@dataclass(frozen=True)
class Claim:
    """One sentence of an answer and the passages it cites (texts, in marker order)."""

    text: str
    cited: tuple[str, ...]


def citation_scores(claims: Sequence[Claim], supports: Supports) -> dict[str, float]:
    """Faithfulness, citation recall and citation precision (ALCE, Gao et al. 2023) of an answer's
    claims, judged by ``supports``. Empty when there are no claims (a refusal)."""
    if not claims:
        return {}
    everything = "\n".join(dict.fromkeys(p for claim in claims for p in claim.cited))
    faithful = sum(bool(everything) and supports(everything, claim.text) for claim in claims)
    supported = 0
    precise = citations = 0
    for claim in claims:
        joint = bool(claim.cited) and supports("\n".join(claim.cited), claim.text)
        supported += joint
        citations += len(claim.cited)
        if not joint:
            continue
        if len(claim.cited) == 1:
            precise += 1
            continue
        for i, passage in enumerate(claim.cited):
            others = claim.cited[:i] + claim.cited[i + 1 :]
            if supports(passage, claim.text) or not supports("\n".join(others), claim.text):
                precise += 1
    out = {"faithfulness": faithful / len(claims), "citation_recall": supported / len(claims)}
    out["citation_precision"] = precise / citations if citations else 0.0
    return out


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values`` by nearest rank; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def mean(values: Sequence[float | None]) -> float | None:
    """Average of the values that are not None; None when there are none."""
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None
