"""The lexical faithfulness judge: the fallback to the trained claim-support model, and the
features answer-time verification reads (``assistant.answering.citations``).

No model. The claim is aligned to the passage sentences it overlaps most, and checked
for what a small edit to a true sentence usually breaks:

- numbers and names (capitalised words) in the claim that the passage never mentions;
- content words that neither occur in the passage nor are WordNet neighbours (synonym, hypernym,
  similar-to, derivation) of a word of the aligned sentences;
- words that are WordNet antonyms of a word of the aligned sentences, where the claim does not
  also use that word (``rose`` against ``fell``);
- a negation flip: a word the claim shares with its closest passage sentence is negated (the
  content word before "not", "no", "never" … or the three after it) in one of them and not in the
  other;
- low lexical coverage of the claim by the aligned sentences.

A claim of several sentences (a summary) is judged sentence by sentence and gets its weakest
sentence's verdict. Beside the scored features, checks can veto support (``Calibration.decisive``):
a negation flip, a number with another unit, a number moved to another thing, and (off by default)
an entity spaCy finds in the claim and not in the passage.

A name is a capitalised word that is not a common word, also at the start of the claim when
WordNet does not know it as a word ("Biden said" has a name, "Officials said" has none); a
possessive is its name ("Smith's" is "smith"). A negation flip is only looked for in a claim of at
least three content words: a short answer ("No", "north") does not restate its sentence's polarity.

The features are combined by a logistic model whose weights were fitted on the claim pairs the
trained model learns from (``benchmarks/judge_pairs.py``; each feature's weight kept at or below
zero, and at least ``MIN_WEIGHT`` in size, so every feature counts), with the decision threshold set
for balanced accuracy on the SummEdits news ``evaluation`` split (``benchmarks/judge_benchmark.py``).
A negation flip in a long claim decides "unsupported" on its own; an antonym only lowers the score
(as a rule it rejected a third of correct summaries). WordNet comes from Debian ``wordnet-base``;
without it the judge still runs, with lower accuracy (the synonym and antonym features are zero).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from assistant.answering.judges.units import numbers_in_place, units_hold
from assistant.answering.judges.wordnet import WordNet, wordnet
from index.language.splitter import sentence_spans
from index.language.words import STOPWORDS, stem

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
# findings that are not scored but can veto support (``Calibration.decisive``): a number written with
# another unit than the passage gives it, a number moved to another thing (:mod:`units`), and, only
# when a calibration makes it decisive, an entity spaCy finds in the claim and not in the passage
CHECKS = ("changed_units", "moved_numbers", "novel_entities")


@dataclass(frozen=True)
class Calibration:
    """The lexical judge's logistic weights per feature, intercept and decision threshold, as fitted
    by ``benchmarks/judge_benchmark.py --fit-lexical`` and shipped in ``lexical_calibration.json``."""

    coef: dict[str, float]
    intercept: float
    threshold: float
    decisive: tuple[str, ...] = ("negation",)  # any of these found (FEATURES, CHECKS): unsupported, whatever the score
    fitted_on: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> Calibration:
        path = path or Path(str(resources.files("assistant.answering.judges") / "lexical_calibration.json"))
        data = json.loads(path.read_text())
        return cls(**{**data, "decisive": tuple(data.get("decisive", ()))})

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=2) + "\n")


@dataclass(frozen=True)
class Verdict:
    """The judge's decision on one (passage, claim) pair, with its evidence."""

    supported: bool
    score: float  # probability of support in [0, 1] (calibrated for the model, logistic for the lexical judge)
    features: dict[str, float]  # the lexical features (always computed: answer-time verification reads them)
    evidence: str  # the aligned passage sentences
    span: tuple[int, int] = (0, 0)  # the passage sentence closest to the claim, as offsets into the passage
    method: str = "lexical"  # "model" (the trained claim-support model) or "lexical"


@dataclass(frozen=True)
class _Token:
    text: str
    low: str
    stem: str
    number: bool
    name: bool
    content: bool


def _tokens(text: str, known: Callable[[str], bool] | None = None) -> list[_Token]:
    """The claim's words; ``known`` tells whether a lower-case word is a dictionary word (a
    capitalised word at the start of a sentence is a name unless it is)."""
    out = []
    matches = list(_TOKEN.finditer(text))
    for i, m in enumerate(matches):
        word = m.group(0).replace("’", "'")
        if word[-2:] in ("'s", "'S") and len(word) > 3:  # possessive: "Smith's" is Smith
            word = word[:-2]
        low = word.lower().replace(".", "") if "." in word and word[0].isalpha() else word.lower()
        if low.endswith("n't"):
            out.append(_Token("not", "not", "not", False, False, False))
            low = low[:-3]
        number = word[0].isdigit() or low in _NUMBER_WORDS
        value = _NUMBER_WORDS.get(low, low.replace(",", ""))
        at_start = i == 0 or text[max(0, m.start() - 2) : m.start()].strip() in (".", '"', "“", "?", "!")
        name = word[0].isupper() and low not in _COMMON and len(low) > 1
        if name and at_start:
            following = matches[i + 1].group(0) if i + 1 < len(matches) else ""
            name = following[:1].isupper() or not (known(low) if known else low in STOPWORDS)
        content = not number and low not in _COMMON and len(low) > 1
        out.append(_Token(word, value if number else low, _stem(low), number, name, content))
    return out


@lru_cache(maxsize=100_000)
def _stem(word: str) -> str:
    return stem(word)


# the content words a negation ("not", "no", "never" …) applies to: the one before it ("passwords were
# not taken") and three after it ("did not attend the vote"); chosen on the labelled sets of
# benchmarks/judge_benchmark.py, so their figures for it are optimistic
NEGATION_SCOPE = (1, 3)


def _negated(tokens: Sequence[_Token]) -> set[str]:
    """Stems of the content words (and numbers) in a negation's scope (``NEGATION_SCOPE``)."""
    before, after = NEGATION_SCOPE
    out: set[str] = set()
    for i, t in enumerate(tokens):
        if t.low in _NEGATIONS:
            preceding = [u.stem for u in tokens[:i] if u.content or u.number]
            out.update(preceding[len(preceding) - before :])
            out.update([u.stem for u in tokens[i + 1 :] if u.content or u.number][:after])
    return out


MIN_WEIGHT = 0.1  # every feature's weight is at most -MIN_WEIGHT: none of them is ignored
MIN_CONTENT_FOR_NEGATION = 3  # content words a claim needs before a negation flip counts


def content_words(claim: str) -> int:
    """How many content words (not stop words; numbers count) a claim has."""
    return sum(1 for t in _tokens(claim) if t.content or t.number)


class LexicalJudge:
    """Decides whether a passage supports a claim from its words (see the module docstring)."""

    def __init__(self, calibration: Calibration | None = None, use_wordnet: bool = True) -> None:
        self.calibration = calibration or Calibration.load()
        self.use_wordnet = use_wordnet

    @property
    def wordnet(self) -> WordNet | None:
        """The WordNet database, read on first need (seconds): a claim whose every word is in the
        passage never needs it, so verbatim (extractive) answers never wait for it."""
        return wordnet() if self.use_wordnet else None

    # ---- features ------------------------------------------------------------------------
    def features(self, passage: str, claim: str) -> tuple[dict[str, float], str, tuple[int, int]]:
        """The feature values of (passage, claim), the aligned passage sentences and the span of
        the closest one."""
        spans = sentence_spans(passage) or [(0, len(passage))]
        sentences = [passage[s:e] for s, e in spans]
        sentence_tokens = [_tokens(s) for s in sentences]  # only the claim's names matter
        claim_tokens = _tokens(claim)
        claim_stems = {t.stem for t in claim_tokens if t.content or t.number}
        overlaps = [len(claim_stems & {t.stem for t in toks}) for toks in sentence_tokens]
        order = sorted(range(len(sentences)), key=lambda i: -overlaps[i])
        aligned = sorted(order[:3])
        near = [t for i in aligned for t in sentence_tokens[i]]
        near_low = {t.low for t in near}
        everywhere_stems = {t.stem for toks in sentence_tokens for t in toks}
        near_content = {t.low for t in near if t.content}
        near_stems = {t.stem for t in near}
        # WordNet (names at a sentence's start, synonyms, antonyms) only speaks to words the aligned
        # sentences lack; with none, the features are the same without it
        wn = self.wordnet if any(t.stem not in near_stems for t in claim_tokens) else None
        if wn is not None:
            claim_tokens = _tokens(claim, wn.known)

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
        content = [t for t in claim_tokens if t.content or t.number]
        # a flip: a word the claim shares with its closest sentence is negated in one and not the other
        # ("did not attend" against "attended"); a negation elsewhere in the sentence is not one
        shared = {t.stem for t in content} & {t.stem for t in best if t.content or t.number}
        negation = float(
            len(content) >= MIN_CONTENT_FOR_NEGATION and bool((_negated(claim_tokens) ^ _negated(best)) & shared)
        )
        covered = sum(1 for t in content if t.stem in near_stems)
        uncovered = 1 - covered / len(content) if content else 0.0
        values = {
            "novel_numbers": float(novel_numbers),
            "novel_names": float(novel_names),
            "novel_words": float(novel_words),
            "antonyms": float(antonyms),
            "negation": negation,
            "uncovered": uncovered,
            "changed_units": float(not units_hold(passage, claim)),
            "moved_numbers": float(not numbers_in_place(passage, claim)),
        }
        if "novel_entities" in self.calibration.decisive:
            from assistant.answering.judges.entities import novel_entities  # spaCy: loaded only when asked

            values["novel_entities"] = float(len(novel_entities(passage, claim)))
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
        contradicted = any(features.get(name, 0.0) > 0 for name in self.calibration.decisive)
        return score >= self.calibration.threshold and not contradicted, score

    def judge(self, passage: str, claim: str) -> Verdict:
        """The verdict on ``claim``; a claim of several sentences is judged sentence by sentence and
        gets its weakest sentence's verdict (a summary holds when each of its sentences does: judged
        whole, its sentences' words from all over the passage looked unsupported next to any three)."""
        spans = sentence_spans(claim)
        if len(spans) > 1:
            verdicts = [self.judge(passage, claim[s:e]) for s, e in spans]
            return min(verdicts, key=lambda v: (v.supported, v.score))
        values, evidence, span = self.features(passage, claim)
        supported, score = self.decide(values)
        return Verdict(supported, score, values, evidence, span, "lexical")
