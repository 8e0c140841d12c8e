"""The faithfulness judge: the shipped claim-support model (loaded offline, hashes checked, windows,
calibrated probability) and the lexical fallback, each on fixed pairs for the errors found in it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.answering.judges import claim_model as cm
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.answering.judges.lexical import FEATURES, MIN_WEIGHT, Calibration, LexicalJudge
from index.disk.files import file_digest
from index.errors import ConfigurationError

PASSAGE = (
    "The city council voted 7 to 2 on Tuesday to build protected bike lanes along Mill Street. "
    "The project will cost 3.2 million dollars. Councillor Dana Okafor proposed the plan. "
    "Prices rose sharply last year. The mayor did not attend the vote."
)

# (claim, supported): the pairs both judges must get right
FIXED = [
    ("The council voted 7 to 2 to build protected bike lanes on Mill Street.", True),
    ("The project will cost 3.2 million dollars.", True),
    ("The project will cost 5.9 million dollars.", False),  # number changed
    ("Councillor Maria Lopez proposed the plan.", False),  # name changed
    ("Biden proposed the plan.", False),  # a name at the start of the claim
    ("The council did not vote to build bike lanes along Mill Street.", False),  # negation added
    ("The mayor attended the vote.", False),  # negation removed
    ("Prices fell sharply last year.", False),  # antonym
    ("The lanes will be painted green.", False),  # nothing in it is a number, name or negation
    ("The project will cost 3.2 million pounds.", False),  # the number's unit changed
    ("Dana Okafor is 7 years old.", False),  # the number moved to another thing
]


# ---- the lexical judge ---------------------------------------------------------------------------
@pytest.mark.parametrize(("claim", "supported"), FIXED)
def test_the_lexical_judge_on_fixed_pairs(claim: str, supported: bool) -> None:
    judge = LexicalJudge()
    assert judge.wordnet is not None, "WordNet (Debian wordnet-base) is installed by `make test`"
    verdict = judge.judge(PASSAGE, claim)
    assert verdict.supported is supported, verdict


def test_a_name_at_the_start_of_a_claim_is_a_name() -> None:
    judge = LexicalJudge()
    assert judge.features(PASSAGE, "Biden proposed the plan.")[0]["novel_names"] == 1
    assert judge.features(PASSAGE, "Okafor proposed the plan.")[0]["novel_names"] == 0
    assert judge.features(PASSAGE, "Officials said the plan will cost 3.2 million dollars.")[0]["novel_names"] == 0


def test_a_summary_is_judged_sentence_by_sentence() -> None:
    judge = LexicalJudge()
    summary = "The council voted 7 to 2 to build bike lanes on Mill Street. The mayor did not attend the vote."
    assert judge.judge(PASSAGE, summary).supported  # two sentences from two ends of the passage
    wrong = "The council voted 7 to 2 to build bike lanes on Mill Street. The mayor attended the vote."
    verdict = judge.judge(PASSAGE, wrong)
    assert not verdict.supported and verdict.features["negation"] == 1  # the weakest sentence's verdict


def test_units_and_places_of_numbers_are_checks_that_veto() -> None:
    judge = LexicalJudge()
    pounds = judge.judge(PASSAGE, "The project will cost 3.2 million pounds.")
    assert pounds.features["changed_units"] == 1 and pounds.features["moved_numbers"] == 0
    assert not pounds.supported and "changed_units" in judge.calibration.decisive
    dollars = judge.judge(PASSAGE, "The project will cost 3.2 million dollars.")
    assert dollars.features["changed_units"] == 0 and dollars.supported


def test_spacy_entities_the_passage_lacks() -> None:
    from assistant.answering.judges.entities import novel_entities

    missing = novel_entities(PASSAGE, "Dana Okafor of Marseille proposed the plan on Tuesday for $3.2 million.")
    assert [(e.text, e.is_name) for e in missing] == [("Marseille", True)]
    assert [e.text for e in novel_entities(PASSAGE, "The project will cost $4.1 million.")] == ["$4.1 million"]
    # as a decisive check (off in the shipped calibration: it rejected correct answer sentences)
    strict = Calibration.load()
    strict = Calibration(strict.coef, strict.intercept, strict.threshold, (*strict.decisive, "novel_entities"))
    verdict = LexicalJudge(strict).judge(PASSAGE, "Dana Okafor of Marseille proposed the plan.")
    assert verdict.features["novel_entities"] == 1 and not verdict.supported
    assert "novel_entities" not in LexicalJudge().judge(PASSAGE, "Dana Okafor proposed the plan.").features


def test_a_possessive_is_its_name() -> None:
    verdict = LexicalJudge().judge("The car was bought by Smith.", "It was Smith's car.")
    assert verdict.features["novel_names"] == 0 and verdict.supported, verdict
    assert LexicalJudge().features("The car was bought by Smith.", "It was Jones's car.")[0]["novel_names"] == 1


def test_a_short_answer_is_not_a_negation_flip() -> None:
    passage = "The storm did not reach the coast. It turned north on Friday."
    judge = LexicalJudge()
    for answer in ("North.", "No.", "north"):
        assert judge.features(passage, answer)[0]["negation"] == 0, answer
    assert judge.features(passage, "The storm reached the coast.")[0]["negation"] == 1


def test_every_lexical_feature_has_a_weight_and_an_antonym_alone_does_not_decide() -> None:
    calibration = Calibration.load()
    assert set(calibration.coef) == set(FEATURES)
    assert all(weight <= -MIN_WEIGHT / 10 for weight in calibration.coef.values()), calibration.coef
    assert "antonyms" not in calibration.decisive
    judge = LexicalJudge()
    none_fires = judge.score({f: 0.0 for f in FEATURES})
    uncovered = judge.score({f: 0.0 for f in FEATURES} | {"uncovered": 0.5, "novel_words": 1.0})
    assert uncovered < none_fires, "claims with new words score lower than claims with none"


# ---- the trained model ---------------------------------------------------------------------------
def test_windows_cover_the_passage_in_overlapping_whole_sentences() -> None:
    text = " ".join(f"Sentence number {i} has exactly seven words." for i in range(40))
    spans = cm.windows(text, max_words=30)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(len(text[s:e].split()) <= 30 for s, e in spans)
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start < end, "each window starts at the last sentence of the one before"
    assert cm.windows("") == []
    assert cm.claim_sentences("One. Two here.") == ["One.", "Two here."]


def test_the_model_judge_is_the_shipped_model_checked_by_sha256() -> None:
    assert FaithfulnessJudge().method.value == "lexical", "the lexical judge measured better: it is the default"
    judge = FaithfulnessJudge("model")
    described = judge.describe()
    assert described["method"] == "model"
    assert described["model_sha256"] == file_digest(cm.MODEL_DIR / judge.model.manifest["model"]["file"])
    assert (cm.MODEL_DIR / judge.model.manifest["model"]["file"]).stat().st_size < 50e6
    verdicts = judge.judge_many([(PASSAGE, c) for c, _ in FIXED])
    assert all(0.0 <= v.score <= 1.0 and v.method == "model" for v in verdicts)
    assert all(v.evidence and v.evidence in PASSAGE for v in verdicts)


def test_a_damaged_model_file_is_refused_by_name(tmp_path: Path) -> None:
    copy = tmp_path / "claim_support"
    shutil.copytree(cm.MODEL_DIR, copy)
    tokenizer = copy / "tokenizer.json"
    tokenizer.write_bytes(tokenizer.read_bytes().replace(b'"[CLS]"', b'"[CLX]"', 1))
    with pytest.raises(ConfigurationError, match="tokenizer.json.*sha256"):
        cm.ClaimModel(copy)
    with pytest.raises(ConfigurationError, match="not found"):
        cm.ClaimModel(tmp_path / "nowhere")


@pytest.mark.parametrize(("claim", "supported"), [pair for pair in FIXED if "fell" not in pair[0]])
def test_the_model_judge_on_fixed_pairs(claim: str, supported: bool) -> None:
    # The antonym pair ("Prices fell" against "Prices rose") is a known miss of the model (p 0.62);
    # the lexical judge above catches it.
    verdict = FaithfulnessJudge("model").judge(PASSAGE, claim)
    assert verdict.supported is supported, verdict


def test_the_model_judge_on_the_lexical_judges_listed_errors() -> None:
    judge = FaithfulnessJudge("model")
    assert judge.supports("The car was bought by Smith.", "It was Smith's car.")
    storm = "The storm did not reach the coast. It turned north on Friday."
    assert judge.supports(storm, "North.") and judge.supports(storm, "The storm turned north.")
    assert not judge.supports(storm, "The storm reached the coast.")
    assert not judge.supports(PASSAGE, "The lanes will be painted green.")


def test_a_multi_sentence_claim_is_as_supported_as_its_weakest_sentence() -> None:
    model = FaithfulnessJudge("model").model
    good = "The council voted 7 to 2 to build protected bike lanes on Mill Street."
    bad = "The lanes will be painted green."
    [one, worse, both] = model.score_many([(PASSAGE, good), (PASSAGE, bad), (PASSAGE, f"{good} {bad}")])
    assert worse.logit < one.logit
    # the same pair in another batch may differ in the last digits (int8 activations are scaled per batch)
    assert both.logit == pytest.approx(worse.logit, abs=0.05)


def test_the_lexical_judge_never_loads_the_model() -> None:
    judge = FaithfulnessJudge()
    assert judge.describe()["method"] == "lexical" and judge.judge(PASSAGE, FIXED[0][0]).method == "lexical"
    assert judge._model is None, "the lexical judge never loads the model"


def test_the_judge_refuses_empty_input() -> None:
    assert FaithfulnessJudge().supports("", "Anything.") is False
    assert FaithfulnessJudge("model").supports("Some passage.", " ") is False


def test_a_negation_elsewhere_in_the_sentence_is_not_a_flip() -> None:
    passage = "Governor Elena Marsh, who took office in May, said rates would not rise this year."
    judge = LexicalJudge()
    assert judge.features(passage, "Elena Marsh took office in May as governor.")[0]["negation"] == 0
    assert judge.features(passage, "Elena Marsh said rates would rise this year.")[0]["negation"] == 1
    assert judge.features(passage, "Marsh said rates will not rise this year.")[0]["negation"] == 0
    # the word before the negation is in its scope too: "passwords were not taken"
    stolen = "Payment card numbers and passwords were not taken, the company said."
    assert judge.features(stolen, "The hackers took the passwords of customers.")[0]["negation"] == 1
