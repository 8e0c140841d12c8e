"""The faithfulness judge: is this claim supported by this passage?

Three methods, one interface (``answer.judge``):

- ``lexical`` (the default): the word-matching judge (:mod:`assistant.answering.judges.lexical`), chosen
  by the rule in docs/evaluation (the largest smallest margin over the simple baselines across every labelled
  set, SummEdits included; "How faithful is the judge"); answer-time verification reads its
  features in any case.
- ``model``: the trained claim-support cross-encoder shipped with the package
  (:mod:`assistant.answering.judges.claim_model`): the claim is judged sentence by sentence against the
  passage's best window, and the score is a calibrated probability of support. Lexical findings
  veto support whatever the model says: a number the passage lacks, a negation flip, a number with
  another unit or moved to another thing (the model misses them too often). The model loads on
  first use, its files checked against their sha256. A claim of fewer than three content words
  ("North.", "Liz Cheney") states no relation for the model to check; it gets the lexical verdict
  (is what it names in the passage?).

- ``llm``: the configured ``openai`` or ``local`` model, RAGAS-style (:mod:`assistant.answering.judges.llm`):
  it splits the claim into atomic claims and judges each; for those who have a strong model.

Every verdict of the first two carries the lexical features (``assistant.answering.citations`` reads them).

Measured on SummEdits news and two hand-labelled sets: see docs/evaluation ("How faithful is the
judge?") and ``benchmarks/judge_benchmark.py``.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.answering.judges.lexical import (
    MIN_CONTENT_FOR_NEGATION,
    Calibration,
    LexicalJudge,
    Verdict,
    content_words,
)
from assistant.answering.judges.llm import Completes, LLMJudge
from assistant.settings import JudgeMethod
from index import ConfigurationError

__all__ = ["Calibration", "FaithfulnessJudge", "JudgeMethod", "Verdict"]


class FaithfulnessJudge:
    """Decides whether a passage supports a claim, with the trained model or the lexical rules."""

    def __init__(
        self, method: JudgeMethod | str = JudgeMethod.LEXICAL, use_wordnet: bool = True, client: Completes | None = None
    ) -> None:
        self.method = JudgeMethod(method)
        self.lexical = LexicalJudge(use_wordnet=use_wordnet)
        self._model = None
        self.llm: LLMJudge | None = None
        if self.method is JudgeMethod.LLM:
            if client is None:
                raise ConfigurationError(
                    "answer.judge=llm needs a model: set answer.engine to openai (llm.base_url, llm.model) or local "
                    "(llm.model_path)"
                )
            self.llm = LLMJudge(client)

    @property
    def wordnet(self):  # type: ignore[no-untyped-def]
        return self.lexical.wordnet

    @property
    def model(self):  # type: ignore[no-untyped-def]
        """The claim-support model (loaded, and its files checked, on first use)."""
        if self._model is None:
            from assistant.answering.judges.claim_model import shipped_model

            self._model = shipped_model()
        return self._model

    def describe(self) -> dict[str, object]:
        """What judged: method, model file hash and calibration, WordNet (recorded with evaluations)."""
        if self.llm is not None:
            return self.llm.describe()
        out: dict[str, object] = {"method": self.method.value, "wordnet": self.wordnet is not None}
        if self.method is JudgeMethod.MODEL:
            manifest = self.model.manifest
            out |= {
                "model_sha256": manifest["model"]["sha256"],
                "calibration": manifest["calibration"].get("fitted_on", ""),
                "threshold": manifest["threshold"],
            }
        else:
            out["calibration"] = self.lexical.calibration.fitted_on
        return out

    def judge_many(self, items: Sequence[tuple[str, str]]) -> list[Verdict]:
        """Verdicts for many (passage, claim) pairs, the model run in batches."""
        if self.llm is not None:
            return [self.llm.judge(passage, claim) for passage, claim in items]
        lexical = [self.lexical.judge(passage, claim) for passage, claim in items]
        if self.method is JudgeMethod.LEXICAL:
            return lexical
        model = self.model
        out = []
        from assistant.answering.judges.claim_model import VETO_PENALTY, vetoed

        for (passage, claim), verdict, scored in zip(items, lexical, model.score_many(items), strict=True):
            if content_words(claim) < MIN_CONTENT_FOR_NEGATION:
                out.append(verdict)  # a bare answer ("North.") states no relation to check: is it named?
                continue
            logit = scored.logit - (VETO_PENALTY if vetoed(verdict.features) else 0.0)
            probability = model.probability(logit)
            supported = probability >= model.threshold
            evidence = passage[scored.window[0] : scored.window[1]]
            out.append(Verdict(supported, probability, verdict.features, evidence, verdict.span, "model"))
        return out

    def judge(self, passage: str, claim: str) -> Verdict:
        return self.judge_many([(passage, claim)])[0]

    def check_many(self, items: Sequence[tuple[str, str]]) -> list[Verdict]:
        """Verdicts for answer-time verification, each carrying the lexical features: the model's
        (``model``) or the lexical judge's. An ``llm`` judge is a chat call per pair, too slow for
        every answer sentence against every passage: answers are checked by the lexical judge then,
        and the llm judges evaluations."""
        if self.llm is not None:
            return [self.lexical.judge(passage, claim) for passage, claim in items]
        return self.judge_many(items)

    def supports(self, passage: str, claim: str) -> bool:
        """True when ``passage`` supports ``claim`` (the signature metrics use)."""
        if not passage.strip() or not claim.strip():
            return False
        return self.judge(passage, claim).supported
