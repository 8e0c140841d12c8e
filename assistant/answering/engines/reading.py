"""The answer model at answer time (issue 34): it reads the selector's best candidate sentences in
their context, orders them by the probability that they answer the question, and marks the short
answer inside the best one.

- **Order.** The selector (:mod:`assistant.answering.engines.selector`) ranks every candidate
  cheaply; the best ``READ`` of them are read by the model (one batched run) and ordered by a blend
  of its log-odds and the selector's (``MODEL_WEIGHT``); the rest keep the selector's order behind.
- **Short answer.** The model's span in the first chosen sentence, shown only when its probability
  clears the threshold chosen on held-out weeks and, for a question of a typed kind ("how many",
  "when", "who", "which country"), the span overlaps an entity of that kind spaCy found in the
  sentence; for a count, an amount or a date, a less sure span that falls on such an entity shows
  the entity; otherwise no short answer at all (a bold line of the wrong kind under a ✓ reads as
  verified).
- **Refusal.** A question is refused only when neither the selector nor the model finds a sentence
  about it (the best selector probability under its floor and the best model probability under
  the model's): a sentence the model is sure of is an answer even when its wording is far from the
  question's ("What did Time Warner report?").

When the model can't be loaded (file missing, checksum wrong) the engine says so once in the log
and answers with the selector alone, as before.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable

from assistant.answering.engines.answer_model import AnswerModel, Reading, model_input, shipped_answer_model
from assistant.answering.engines.answer_types import Asked
from assistant.answering.engines.candidates import Candidate
from index import Hit, sentence_spans
from index.errors import ConfigurationError

log = logging.getLogger(__name__)
READ = 16  # candidates read by the model per question (the selector's best)
# the model's share of the order (log-odds; the selector's the rest): 0.5, chosen on the BBC and shipped
# sets (1.0 / 0.7 / 0.5 gave contains-reference 0.75 / 0.82 / 0.80 on BBC, 0.73 / 0.77 / 0.80 shipped)
# before the RealTime QA 200 sample was run
MODEL_WEIGHT = 0.5


def blended(c: Candidate) -> float:
    """The order of read candidates: the model's log-odds, weighted, plus the selector's."""
    p = min(max(c.reading.probability, 1e-6), 1 - 1e-6)  # type: ignore[union-attr]
    return MODEL_WEIGHT * math.log(p / (1 - p)) + (1 - MODEL_WEIGHT) * c.logit


class Reader:
    """Reads candidates with the answer model (loaded on first use; None when it can't be)."""

    def __init__(self, load: Callable[[], AnswerModel] = shipped_answer_model) -> None:
        self._load = load
        self._model: AnswerModel | None = None
        self._failed = False
        self._lock = threading.Lock()

    @property
    def model(self) -> AnswerModel | None:
        with self._lock:
            if self._model is None and not self._failed:
                try:
                    self._model = self._load()
                except (ConfigurationError, OSError, ValueError) as e:
                    self._failed = True
                    log.warning("the answer model can't be used (%s); sentences are chosen by the selector alone", e)
            return self._model

    def read(self, question: str, ranked: list[Candidate], hits: list[Hit]) -> list[Candidate]:
        """``ranked`` (the selector's order) with its best ``READ`` re-ordered by the model, each read
        one carrying its :class:`Reading`; unchanged when there is no model."""
        model = self.model
        if model is None or not ranked:
            return ranked
        top = ranked[:READ]
        items = [(*model_input(question, c.text, *context(c, hits)), len(c.text)) for c in top]
        for c, reading in zip(top, model.read(items), strict=True):
            c.reading = reading
        order = {id(c): i for i, c in enumerate(top)}
        top = sorted(top, key=lambda c: (-blended(c), order[id(c)]))
        return top + ranked[READ:]

    def floor(self) -> float:
        model = self.model
        return model.answer_threshold if model is not None else 1.0

    def short(self, asked: Asked | None, chosen: list[Candidate]) -> tuple[int, int, int, str] | None:
        """(hit index, start, end in the article, label) of the short answer, or None: the model's
        span in the first chosen sentence when it is sure enough and of the kind asked; or, for a
        question asking a count, an amount or a date, the entity of that kind the model's span falls
        on when the model is less sure (the two agree)."""
        model = self.model
        first = chosen[0] if chosen else None
        if model is None or first is None or first.reading is None or first.reading.span is None:
            return None
        reading: Reading = first.reading
        begin, end = reading.span
        typed = asked is not None and asked.typed
        fitting = [t for t in first.answers or [] if t.start < end and begin < t.end] if typed else []
        if model.short_score(reading) >= model.span_threshold:
            if typed and not fitting:
                return None  # the span is not of the kind asked (a city for a country, "ET" for a place)
            return first.hit_index, first.start + begin, first.start + end, fitting[0].label if fitting else ""
        if fitting and asked is not None and asked.strict:
            entity = fitting[0]
            return first.hit_index, first.start + entity.start, first.start + entity.end, entity.label
        return None


def context(c: Candidate, hits: list[Hit]) -> tuple[str, str, str, str]:
    """(title, date, sentence before, sentence after) of a candidate, from its article."""
    hit = hits[c.hit_index]
    text = hit.article.text
    window = text[max(0, c.start - 400) : min(len(text), c.end + 400)]
    offset = max(0, c.start - 400)
    spans = [(offset + s, offset + e) for s, e in sentence_spans(window)]
    before = next((text[s:e] for s, e in reversed(spans) if e <= c.start), "")
    after = next((text[s:e] for s, e in spans if s >= c.end), "")
    return hit.article.title, hit.article.date, before, after
