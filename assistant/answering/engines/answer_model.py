"""The trained answer model (issue 34): a MiniLM cross-encoder over (question, candidate sentence in
its context) with two heads — the probability that the sentence answers the question, and
start/end logits of the answer span inside the sentence (an extractive-QA head).

It ships inside the package (``assistant/answering/answer_model/``): an int8 ONNX graph, the
word-piece tokenizer it was trained with, and ``model.json`` with the sha256 of both, the
calibration and the thresholds chosen on held-out weeks (``benchmarks/train_answer_model.py``,
recipe in ``RECIPE.md``). Loading checks both hashes; a missing or changed file is a
:class:`~index.errors.ConfigurationError` naming it, and the extractive engine then says so once
and uses its selector. It runs on onnxruntime (no torch).

What the model reads (:func:`model_input`): the question, then the sentence, then its context —
the article's title and date and the sentences before and after it — so that the span the model
marks lies in the sentence, which comes first in the second segment.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from assistant.answering.onnx_model import load_shipped, padded

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MAX_TOKENS = 160  # question + sentence + context, in word pieces
CONTEXT_WORDS = 24  # of the sentence before and of the one after
MAX_SPAN_TOKENS = 12  # a short answer is at most this many word pieces
SEPARATOR = " | "  # between the sentence and its context
MODEL_DIR = Path(str(resources.files("assistant.answering.engines") / "answer_model"))


def _clip(text: str, words: int, tail: bool = False) -> str:
    parts = text.split()
    if len(parts) <= words:
        return " ".join(parts)
    return "… " + " ".join(parts[-words:]) if tail else " ".join(parts[:words]) + " …"


def model_input(
    question: str, sentence: str, title: str = "", date: str = "", before: str = "", after: str = ""
) -> tuple[str, str]:
    """The (first, second) segments the model reads; the sentence starts the second segment (its
    characters are ``second[:len(sentence)]``, so a span found there is a span of the sentence)."""
    context = " · ".join(p for p in (title.strip(), date.strip()[:10]) if p)
    around = " ".join(p for p in (_clip(before, CONTEXT_WORDS, tail=True), "[…]", _clip(after, CONTEXT_WORDS)) if p)
    if before.strip() or after.strip():
        context = f"{context} — {around}" if context else around
    return question.strip(), sentence + (SEPARATOR + context if context else "")


@dataclass(frozen=True)
class Reading:
    """What the model says of one candidate: the probability that it answers the question, and the
    best answer span (character offsets into the sentence) with its probability (None: no span)."""

    probability: float
    span: tuple[int, int] | None
    span_probability: float


def best_span(
    start: np.ndarray, end: np.ndarray, offsets: Sequence[tuple[int, int]], allowed: np.ndarray, limit: int
) -> tuple[tuple[int, int] | None, float]:
    """The (start token ≤ end token < start + ``MAX_SPAN_TOKENS``) span with the highest start +
    end logit among the ``allowed`` tokens, as character offsets ending by ``limit``; with the
    softmax probability of the pair (start and end independent)."""
    idx = np.flatnonzero(allowed)
    if not len(idx):
        return None, 0.0
    s_log = start[idx] - np.logaddexp.reduce(start[idx])
    e_log = end[idx] - np.logaddexp.reduce(end[idx])
    best, where = -math.inf, None
    for a, i in enumerate(idx):
        for b in range(a, min(len(idx), a + MAX_SPAN_TOKENS)):
            j = idx[b]
            if j - i >= MAX_SPAN_TOKENS:
                break
            score = s_log[a] + e_log[b]
            if score > best:
                best, where = score, (i, j)
    if where is None:
        return None, 0.0
    begin, finish = offsets[where[0]][0], min(offsets[where[1]][1], limit)
    if finish <= begin:
        return None, 0.0
    return (int(begin), int(finish)), float(math.exp(best))


class AnswerModel:
    """The shipped answer model, loaded from ``directory`` with its hashes checked."""

    def __init__(self, directory: Path = MODEL_DIR, threads: int | None = None) -> None:
        shipped = load_shipped(directory, "answer model", "reinstall the package or run `make train-answer`", threads)
        self.manifest, self.session, self.inputs, self.tokenizer = shipped.parts()
        self.scale = float(self.manifest["calibration"]["scale"])
        self.bias = float(self.manifest["calibration"]["bias"])
        self.answer_threshold = float(self.manifest["thresholds"]["answers"])
        self.span_threshold = float(self.manifest["thresholds"]["short_answer"])
        # what the threshold is compared with: the span's probability, or that times the sentence's
        self.span_score = str(self.manifest["thresholds"].get("short_answer_score", "product"))

    def short_score(self, reading: Reading) -> float:
        """What decides whether a reading's span is shown as the short answer (see ``span_score``)."""
        return reading.span_probability * (1.0 if self.span_score == "span" else reading.probability)

    def probability(self, logit: float) -> float:
        z = self.scale * logit + self.bias
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    def read(self, items: Sequence[tuple[str, str, int]], batch_size: int = 32) -> list[Reading]:
        """One :class:`Reading` per (first segment, second segment, sentence length) — the pairs
        :func:`model_input` makes."""
        if not items:
            return []
        encodings = self.tokenizer.encode_batch([(a, b) for a, b, _ in items])
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out: list[Reading | None] = [None] * len(items)
        for begin in range(0, len(order), batch_size):
            chunk = order[begin : begin + batch_size]
            feed = padded([encodings[i] for i in chunk])
            logit, start, end = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})
            for row, i in enumerate(chunk):
                allowed = sentence_tokens(encodings[i], items[i][2])
                n = len(encodings[i].ids)
                span, p = best_span(start[row, :n], end[row, :n], encodings[i].offsets, allowed, items[i][2])
                out[i] = Reading(self.probability(float(logit[row])), span, p)
        return [r for r in out if r is not None]


def sentence_tokens(encoding: object, sentence_chars: int) -> np.ndarray:
    """Which tokens of an encoded pair belong to the sentence (the second segment's first
    ``sentence_chars`` characters): where a span may be."""
    seq = np.array([-1 if s is None else s for s in encoding.sequence_ids])  # type: ignore[attr-defined]
    offsets = encoding.offsets  # type: ignore[attr-defined]
    return np.array(
        [seq[k] == 1 and offsets[k][1] <= sentence_chars and offsets[k][1] > offsets[k][0] for k in range(len(seq))]
    )


def load_tokenizer(path: Path, max_tokens: int = MAX_TOKENS) -> Tokenizer:
    """The word-piece tokenizer, truncating a pair to ``max_tokens`` (the longer side first)."""
    from index.embedding.minilm import wordpiece_tokenizer

    return wordpiece_tokenizer(path, max_tokens)


@cache
def shipped_answer_model() -> AnswerModel:
    """The model shipped with the package, loaded once per process."""
    return AnswerModel()
