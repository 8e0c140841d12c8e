"""An offline faithfulness judge: is this claim supported by this passage?

No language model. The claim is aligned to the passage sentences it overlaps most, and checked
for what a small edit to a true sentence usually breaks:

- numbers and names (capitalised words) in the claim that the passage never mentions;
- content words that neither occur in the passage nor are WordNet neighbours (synonym, hypernym,
  similar-to, derivation) of a word of the aligned sentences;
- words that are WordNet antonyms of a word of the aligned sentences, where the claim does not
  also use that word (``rose`` against ``fell``);
- a negation in the claim and not in the aligned sentences, or the other way round;
- low lexical coverage of the claim by the aligned sentences.

The features are combined by a logistic model whose weights were fitted on the ``evaluation``
split of SummEdits news (see ``benchmarks/judge_summedits.py``), and the decision threshold set
there for balanced accuracy. An antonym or a negation flip against the aligned sentences is a
contradiction and decides "unsupported" on its own. WordNet comes from Debian ``wordnet-base``; without it the judge
still runs, with lower accuracy (the synonym and antonym features are zero).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from assistant.answering.wordnet import wordnet
from index.splitter import sentence_spans
from index.text import STOPWORDS, stem

_TOKEN = re.compile(r"(?:[A-Za-z]\.){2,}|[A-Za-z]+(?:['’][A-Za-z]+)?|\d+(?:[.,]\d+)*")
_NEGATIONS = frozenset("not no never none nobody nothing neither nor without cannot n't".split())
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_COMMON = STOPWORDS | {"s", "t", "mr", "mrs", "ms", "also", "new", "year", "years", "people", "time"}

FEATURES = ("novel_numbers", "novel_names", "novel_words", "antonyms", "negation", "uncovered")


@dataclass(frozen=True)
class Calibration:
    """The judge's logistic weights per feature, intercept and decision threshold, as fitted by
    ``benchmarks/judge_summedits.py`` and shipped in ``assistant/answering/judge_calibration.json``."""

    coef: dict[str, float]
    intercept: float
    threshold: float
    decisive: tuple[str, ...] = ("antonyms", "negation")  # any of these found: unsupported, whatever the score
    fitted_on: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> Calibration:
        path = path or Path(str(resources.files("assistant.answering") / "judge_calibration.json"))
        data = json.loads(path.read_text())
        return cls(**{**data, "decisive": tuple(data.get("decisive", ()))})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


@dataclass(frozen=True)
class Verdict:
    """The judge's decision on one (passage, claim) pair, with its evidence."""

    supported: bool
    score: float  # probability-like support score in [0, 1]
    features: dict[str, float]
    evidence: str  # the aligned passage sentences
    span: tuple[int, int] = (0, 0)  # the passage sentence closest to the claim, as offsets into the passage


@dataclass(frozen=True)
class _Token:
    text: str
    low: str
    stem: str
    number: bool
    name: bool
    content: bool


def _tokens(text: str) -> list[_Token]:
    out = []
    for i, m in enumerate(_TOKEN.finditer(text)):
        word = m.group(0)
        low = word.lower().replace("’", "'").replace(".", "") if "." in word and word[0].isalpha() else word.lower()
        low = low.replace("’", "'")
        if low.endswith("n't"):
            out.append(_Token("not", "not", "not", False, False, False))
            low = low[:-3]
        number = word[0].isdigit() or low in _NUMBER_WORDS
        value = _NUMBER_WORDS.get(low, low.replace(",", ""))
        at_start = i == 0 or text[max(0, m.start() - 2) : m.start()].strip() in (".", '"', "“")
        name = word[0].isupper() and not at_start and low not in _COMMON and len(low) > 1
        content = not number and low not in _COMMON and len(low) > 1
        out.append(_Token(word, value if number else low, _stem(low), number, name, content))
    return out


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return stem(word)


def _negations(tokens: Sequence[_Token]) -> int:
    return sum(t.low in _NEGATIONS for t in tokens)


class FaithfulnessJudge:
    """Decides whether a passage supports a claim (see the module docstring for how)."""

    def __init__(self, calibration: Calibration | None = None, use_wordnet: bool = True) -> None:
        self.calibration = calibration or Calibration.load()
        self.wordnet = wordnet() if use_wordnet else None

    # ---- features ------------------------------------------------------------------------
    def features(self, passage: str, claim: str) -> tuple[dict[str, float], str, tuple[int, int]]:
        """The feature values of (passage, claim), the aligned passage sentences and the span of
        the closest one."""
        claim_tokens = _tokens(claim)
        spans = sentence_spans(passage) or [(0, len(passage))]
        sentences = [passage[s:e] for s, e in spans]
        sentence_tokens = [_tokens(s) for s in sentences]
        claim_stems = {t.stem for t in claim_tokens if t.content or t.number}
        overlaps = [len(claim_stems & {t.stem for t in toks}) for toks in sentence_tokens]
        order = sorted(range(len(sentences)), key=lambda i: -overlaps[i])
        aligned = sorted(order[:3])
        near = [t for i in aligned for t in sentence_tokens[i]]
        near_low = {t.low for t in near}
        everywhere_stems = {t.stem for toks in sentence_tokens for t in toks}
        near_content = {t.low for t in near if t.content}
        near_stems = {t.stem for t in near}
        wn = self.wordnet

        novel_numbers = sum(1 for t in claim_tokens if t.number and t.low not in near_low)
        novel_names = sum(1 for t in claim_tokens if t.name and t.stem not in everywhere_stems)
        novel_words = antonyms = 0
        for t in claim_tokens:
            if not t.content or t.number or t.name or t.stem in near_stems:
                continue
            if wn is not None and any(wn.antonyms(t.low, w) for w in near_content):
                antonyms += 1
            elif wn is not None and any(wn.related(t.low, w) for w in near_content):
                continue
            elif t.stem not in everywhere_stems:
                novel_words += 1
        best = sentence_tokens[order[0]]
        negation = float((_negations(claim_tokens) > 0) != (_negations(best) > 0))
        content = [t for t in claim_tokens if t.content or t.number]
        covered = sum(1 for t in content if t.stem in near_stems)
        uncovered = 1 - covered / len(content) if content else 0.0
        values = {
            "novel_numbers": float(novel_numbers),
            "novel_names": float(novel_names),
            "novel_words": float(novel_words),
            "antonyms": float(antonyms),
            "negation": negation,
            "uncovered": uncovered,
        }
        return values, " ".join(sentences[i] for i in aligned), spans[order[0]]

    # ---- decisions -----------------------------------------------------------------------
    def score(self, features: dict[str, float]) -> float:
        """Support probability: a logistic function of the features (high = supported)."""
        c = self.calibration
        z = c.intercept + sum(c.coef[name] * features[name] for name in FEATURES)
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    def decide(self, features: dict[str, float]) -> tuple[bool, float]:
        """(supported, score): the score must reach the threshold, and no decisive contradiction
        (an antonym of, or a negation missing from, the aligned sentences) may be present."""
        score = self.score(features)
        contradicted = any(features[name] > 0 for name in self.calibration.decisive)
        return score >= self.calibration.threshold and not contradicted, score

    def judge(self, passage: str, claim: str) -> Verdict:
        values, evidence, span = self.features(passage, claim)
        supported, score = self.decide(values)
        return Verdict(supported, score, values, evidence, span)

    def supports(self, passage: str, claim: str) -> bool:
        """True when ``passage`` supports ``claim`` (the signature metrics use)."""
        if not passage.strip() or not claim.strip():
            return False
        return self.judge(passage, claim).supported
