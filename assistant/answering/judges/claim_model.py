"""The trained claim-support model: a MiniLM cross-encoder over (passage window, claim sentence).

It ships inside the package (``assistant/answering/claim_support/``): an int8 ONNX graph, the
word-piece tokenizer it was trained with, and ``model.json`` with the sha256 of both, the
calibration and the decision threshold. Loading checks both hashes and refuses a file that does
not match (:class:`~index.errors.ConfigurationError` naming it). It runs on onnxruntime (no torch).

How a (passage, claim) pair is scored, the AlignScore/SummaC way:

- the passage is cut into windows of consecutive sentences of at most ``WINDOW_WORDS`` words,
  each overlapping the next by one sentence (a window is what the model read in training);
- the claim is cut into sentences;
- each claim sentence gets the logit of its best window, and the claim the logit of its worst
  sentence (every sentence must be supported somewhere);
- the judge (``assistant.answering.judges.judge``) applies the lexical vetoes to that logit, and
  ``sigmoid(scale * logit + bias)`` is the calibrated probability of support, ``scale`` and
  ``bias`` fitted with the vetoes on the SummEdits ``evaluation`` split (``benchmarks/train_judge.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.answering.onnx_model import load_shipped, padded
from index.language.splitter import sentence_spans

if TYPE_CHECKING:
    from tokenizers import Tokenizer

WINDOW_WORDS = 90  # the passage windows the model was trained on (benchmarks/judge_pairs.py)
MAX_WINDOWS = 24  # per passage; a longer passage keeps the windows that share most words with the claim
MAX_TOKENS = 192  # window + claim, in word pieces
# Lexical findings that veto support whatever the model says (a number the passage lacks, a negation
# flip in a claim of three or more content words, a number with another unit or moved to another
# thing): the model misses them too often.
VETO = ("novel_numbers", "negation", "changed_units", "moved_numbers")
VETO_PENALTY = 10.0  # subtracted from a vetoed claim's logit before calibration
MODEL_DIR = Path(str(resources.files("assistant.answering.judges") / "claim_support"))


def vetoed(features: dict[str, float]) -> bool:
    """Whether the lexical features veto support (see ``VETO``)."""
    return any(features.get(name, 0.0) > 0 for name in VETO)


def windows(text: str, max_words: int = WINDOW_WORDS) -> list[tuple[int, int]]:
    """Character spans of overlapping windows of whole sentences of ``text``, each at most
    ``max_words`` words (a longer sentence is a window of its own) and starting at the last
    sentence of the window before."""
    spans = sentence_spans(text) or ([(0, len(text))] if text.strip() else [])
    sizes = [len(text[s:e].split()) for s, e in spans]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        j, words = i + 1, sizes[i]
        while j < len(spans) and words + sizes[j] <= max_words:
            words += sizes[j]
            j += 1
        out.append((spans[i][0], spans[j - 1][1]))
        if j >= len(spans):
            break
        i = j - 1 if j - 1 > i else j
    return out


def claim_sentences(claim: str) -> list[str]:
    """The sentences of a claim (a one-sentence claim is itself)."""
    return [claim[s:e] for s, e in sentence_spans(claim)] or [claim.strip()]


def load_tokenizer(path: Path, max_tokens: int = MAX_TOKENS) -> Tokenizer:
    """The word-piece tokenizer, truncating a (window, claim) pair to ``max_tokens`` (the longer
    side first), unpadded (:func:`padded` pads each batch to its longest)."""
    from index.embedding.minilm import wordpiece_tokenizer

    return wordpiece_tokenizer(path, max_tokens)


def batched_logits(
    tokenizer: Tokenizer,
    pairs: Sequence[tuple[str, str]],
    run: Callable[[dict[str, np.ndarray]], np.ndarray],
    size: int,
) -> np.ndarray:
    """One logit per (window, sentence): encoded, sorted by length, run in padded batches of
    ``size`` by ``run`` (the ONNX session here, the torch model in training)."""
    encodings = tokenizer.encode_batch(list(pairs))
    order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
    out = np.zeros(len(encodings), dtype=np.float32)
    for start in range(0, len(order), size):
        chunk = order[start : start + size]
        out[chunk] = run(padded([encodings[i] for i in chunk])).reshape(len(chunk), -1)[:, 0]
    return out


@dataclass(frozen=True)
class Scored:
    """A claim's raw logit against a passage and the window span (offsets into the passage) that
    supports its weakest sentence best. The judge applies the vetoes, then :meth:`ClaimModel.probability`."""

    logit: float
    window: tuple[int, int]


class ClaimModel:
    """The shipped cross-encoder, loaded from ``directory`` with its hashes checked."""

    def __init__(self, directory: Path = MODEL_DIR, threads: int | None = None) -> None:
        shipped = load_shipped(
            directory,
            "claim-support model",
            "reinstall the package or run `make train-judge`",
            threads,
            " (set answer.judge=lexical to use the lexical judge)",
        )
        self.manifest, self.session, self.inputs, self.tokenizer = shipped.parts()
        self.scale = float(self.manifest["calibration"]["scale"])
        self.bias = float(self.manifest["calibration"]["bias"])
        self.threshold = float(self.manifest["threshold"])

    # ---- raw model ---------------------------------------------------------------------------
    def logits(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32) -> np.ndarray:
        """The model's support logit for each (window, claim sentence); batches of similar length."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)

        def run(feed: dict[str, np.ndarray]) -> np.ndarray:
            return self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]

        return batched_logits(self.tokenizer, pairs, run, batch_size)

    def probability(self, logit: float) -> float:
        """The calibrated probability of support for a (vetoed) claim logit."""
        z = self.scale * logit + self.bias
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    # ---- (passage, claim) ------------------------------------------------------------------
    def score_many(self, items: Sequence[tuple[str, str]]) -> list[Scored]:
        """Score each (passage, claim): windows × claim sentences in one batched run."""
        return [Scored(logit, span) for logit, span in claim_logits(items, self.logits)]


Logits = Callable[[Sequence[tuple[str, str]]], np.ndarray]


def claim_logits(items: Sequence[tuple[str, str]], logits: Logits) -> list[tuple[float, tuple[int, int]]]:
    """(logit, window span) of each (passage, claim): each claim sentence's best window, then the
    claim's worst sentence. ``logits`` scores (window text, sentence) pairs; training uses the
    torch model here, the judge the shipped ONNX one."""
    jobs: list[tuple[str, str]] = []
    plan: list[list[list[tuple[int, tuple[int, int]]]]] = []  # item -> sentence -> [(job, window)]
    for passage, claim in items:
        spans = windows(passage)
        if len(spans) > MAX_WINDOWS:
            spans = _nearest(passage, spans, claim)
        per_sentence = []
        for sentence in claim_sentences(claim):
            cells = []
            for span in spans:
                cells.append((len(jobs), span))
                jobs.append((passage[span[0] : span[1]], sentence))
            per_sentence.append(cells)
        plan.append(per_sentence)
    values = logits(jobs)
    out: list[tuple[float, tuple[int, int]]] = []
    for per_sentence in plan:
        best = [max(cells, key=lambda c: values[c[0]]) for cells in per_sentence if cells]
        if not best:
            out.append((-50.0, (0, 0)))
            continue
        worst = min(best, key=lambda c: values[c[0]])
        out.append((float(values[worst[0]]), worst[1]))
    return out


def _nearest(passage: str, spans: list[tuple[int, int]], claim: str) -> list[tuple[int, int]]:
    """The ``MAX_WINDOWS`` windows sharing most words with the claim, in passage order."""
    words = {w for w in claim.lower().split() if len(w) > 3}
    shared = [len(words & set(passage[s:e].lower().split())) for s, e in spans]
    keep = sorted(sorted(range(len(spans)), key=lambda i: -shared[i])[:MAX_WINDOWS])
    return [spans[i] for i in keep]


@cache
def shipped_model() -> ClaimModel:
    """The model shipped with the package, loaded once per process."""
    return ClaimModel()
