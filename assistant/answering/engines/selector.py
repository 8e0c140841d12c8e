"""The learned sentence selector: how likely a candidate sentence is to hold the answer.

Each sentence of the retrieved passages is described by :data:`FEATURES` (cosine to the question,
IDF-weighted coverage of the question's words, the passage's retrieval rank and
score, the sentence's place in its article, quote and attribution cues, whether spaCy finds an
entity of the asked kind tied to what is asked, …) and scored by a logistic model whose weights
were learned on RealTime QA questions (``benchmarks/train_selector.py``, ``make train-selector``;
the RealTime QA 200 sample reported in docs/design/answer-model.md is never trained on). The weights ship as
``selector.json``, checked against :data:`SHA256` on load like the embedder's weights.

The selector is linear, so it scores in two stages without retraining: first without the typing
features (every candidate; no parse), then the best few are parsed and their typing features add
their part (:meth:`Selector.typed_part`).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from index import ModelBackendError
from index.disk.files import verify_files

# what a candidate sentence is described by (the order of the weights in selector.json)
BASE_FEATURES = (
    "cosine",  # cosine of the sentence's stored vector to the question's
    "cosine_gap",  # how far below the best candidate's cosine
    "coverage",  # IDF-weighted share of the question's content words in the sentence (title words count 0.3)
    "coverage_gap",  # how far below the best candidate's coverage
    "names_asked",  # it names the thing asked about: "coach" of "who is his new coach", "people" of "how many people"
    "plain_coverage",  # unweighted share of the question's content words
    "focus",  # share of the question's words that are not in the article's title, found in the sentence
    "inverse_rank",  # 1 / (rank of its passage among the retrieved)
    "relative_score",  # its passage's retrieval score / the best passage's
    "position",  # log(1 + characters before it in its article / 1000)
    "quote",  # it holds a quotation mark
    "attribution",  # said / told / according to
    "has_number",  # it holds a digit
    "vague",  # "several channels": it names the kind of thing asked, not which
)
TYPED_FEATURES = (
    "typed_answer",  # the question asks for a kind of entity and the sentence holds one tied to what is asked
    "typed_missing",  # the question asks for a kind of entity and the sentence holds none
    "tie",  # how strongly the best such entity is tied to what is asked (0..1)
    "strict_answer",  # typed_answer for a count, amount or date question
    "strict_missing",  # typed_missing for a count, amount or date question
)
FEATURES = BASE_FEATURES + TYPED_FEATURES
FILE = "selector.json"
SHA256 = "699496658952a19ea23d08247f110305886c7f00aa71d372e7f5ae1c08e6fed9"

_QUOTE = re.compile(r"[\"“”]|(?:^|\s)['‘]")
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|according to|stated|announced|reported)\b", re.I)
_DIGIT = re.compile(r"\d")


def base_features(
    *,
    cosine: float,
    best_cosine: float,
    coverage: float,
    best_coverage: float,
    names_asked: bool,
    plain_coverage: float,
    focus: float,
    rank: int,
    relative_score: float,
    start: int,
    text: str,
    vague: bool,
) -> list[float]:
    """The :data:`BASE_FEATURES` of one candidate sentence, in order."""
    return [
        cosine,
        best_cosine - cosine,
        coverage,
        best_coverage - coverage,
        float(names_asked),
        plain_coverage,
        focus,
        1.0 / (rank + 1),
        relative_score,
        math.log1p(start / 1000),
        float(bool(_QUOTE.search(text))),
        float(bool(_ATTRIBUTION.search(text))),
        float(bool(_DIGIT.search(text))),
        float(vague),
    ]


def typed_features(typed: bool, strict: bool, tie: float | None) -> list[float]:
    """The :data:`TYPED_FEATURES`: ``tie`` is the best tied entity's tie, None when it holds none."""
    found = tie is not None
    return [
        float(typed and found),
        float(typed and not found),
        float(tie or 0.0) if typed else 0.0,
        float(strict and found),
        float(strict and not found),
    ]


@dataclass(frozen=True)
class Selector:
    """Logistic weights over standardised features; ``threshold`` is the probability below which
    the best sentence does not answer (the default of ``answer.min_relevance``), ``keep_ratio`` the
    share of the best sentence's probability a further sentence needs to be kept (the default of
    ``answer.keep_ratio``); both chosen in training."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    threshold: float
    keep_ratio: float
    trained_on: str = ""

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """Log-odds for rows of :data:`FEATURES` (typing features 0 where a sentence is not parsed)."""
        return ((rows - self.mean) / self.scale) @ self.coef + self.intercept

    def typed_part(self, typed: np.ndarray) -> np.ndarray:
        """How much parsing adds to the log-odds of sentences scored with typing features 0: the
        model is linear, so that is the typing features' own part."""
        n = len(BASE_FEATURES)
        return (typed / self.scale[n:]) @ self.coef[n:]

    @staticmethod
    def probability(logit: float) -> float:
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, logit))))

    def to_json(self) -> str:
        return (
            json.dumps(
                {
                    "features": list(self.features),
                    "mean": [round(float(x), 6) for x in self.mean],
                    "scale": [round(float(x), 6) for x in self.scale],
                    "coef": [round(float(x), 6) for x in self.coef],
                    "intercept": round(float(self.intercept), 6),
                    "threshold": round(float(self.threshold), 4),
                    "keep_ratio": round(float(self.keep_ratio), 4),
                    "trained_on": self.trained_on,
                },
                indent=1,
            )
            + "\n"
        )

    @classmethod
    def from_json(cls, text: str) -> Selector:
        data = json.loads(text)
        if tuple(data["features"]) != FEATURES:
            raise ModelBackendError(
                f"the sentence selector's features {data['features']} are not this version's {list(FEATURES)}; "
                "retrain it with `make train-selector`"
            )
        return cls(
            tuple(data["features"]),
            np.asarray(data["mean"], dtype=np.float64),
            np.asarray(data["scale"], dtype=np.float64),
            np.asarray(data["coef"], dtype=np.float64),
            float(data["intercept"]),
            float(data["threshold"]),
            float(data["keep_ratio"]),
            str(data.get("trained_on", "")),
        )


def shipped_path() -> Path:
    return Path(str(resources.files("assistant.answering.engines") / FILE))


@lru_cache(maxsize=4)
def load(path: Path | None = None, expected_sha256: str | None = SHA256) -> Selector:
    """The selector in ``path`` (default: the shipped one, checked against :data:`SHA256`)."""
    path = path or shipped_path()
    if expected_sha256:
        fix = "reinstall the package or retrain it with `make train-selector`"
        verify_files(path.parent, {path.name: expected_sha256}, "the sentence selector", fix, ModelBackendError)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ModelBackendError(f"the sentence selector {path} can't be read ({e.strerror or e})") from e
    return Selector.from_json(data.decode("utf-8"))
