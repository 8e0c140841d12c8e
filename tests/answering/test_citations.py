from collections.abc import Iterator

import pytest

from assistant import Answer, Assistant, Citation
from assistant.answering.citations import parse_markers, split_claims
from assistant.answering.engines.base import Draft, DraftRequest
from index import sentence_spans


def test_markers_out_of_range_are_dropped_not_wrapped() -> None:
    assert parse_markers("A [1]. B [3]. C [0]. D [2][2]. E [-1] [12]", count=3) == [1, 3, 2]
    assert parse_markers("no markers", count=3) == []


def test_claims_carry_their_own_markers_and_uncited_text_is_visible() -> None:
    text = "The talks stalled in 2019. [1] Officials tried New York. [2][3] An extra claim."
    assert split_claims(text, count=2) == [
        ("The talks stalled in 2019.", [1]),
        ("Officials tried New York.", [2]),
        ("An extra claim.", []),
    ]
    assert split_claims("", count=2) == []


def test_answer_round_trips_through_json() -> None:
    c = Citation(
        marker=1,
        passage_id=4,
        article_id="abc",
        passage="One. Two.",
        start=10,
        end=19,
        sentences=[(15, 19)],
        score=0.5,
        title="T",
        source="S",
        date="2024-01-01",
        url="u",
    )
    answer = Answer(question="q?", text="Two. [1]", answered=True, citations=[c], query="q?", timings={"total_ms": 3.0})
    again = Answer.from_json(answer.to_json())
    assert again == answer and again.citation(1) == c and again.citation(2) is None
    assert c.passage_sentences == [(5, 9)] and c.passage[5:9] == "Two."


def test_a_sentence_the_judge_scores_under_its_threshold_is_not_verified() -> None:
    from assistant.answering.citations import attach_citations
    from assistant.answering.judges.judge import FaithfulnessJudge
    from index import Article, Hit, Passage

    text = (
        "The city council voted 7 to 2 on Tuesday to build protected bike lanes on Mill Street. "
        "The project will cost 3.2 million dollars, paid from the transport budget."
    )
    article = Article(text=text, title="Bike lanes")
    hit = Hit(Passage(0, article.id, 0, len(text), text), 1.0, article)
    judge = FaithfulnessJudge()
    held = "The council voted 7 to 2 to build protected bike lanes on Mill Street."
    # each adds no number, name or negation and few new words, yet the judge scores it unsupported
    misread = [
        "Mill Street lanes will cost 3.2 million euros in taxes.",
        "The council voted to build unprotected bike lanes.",
    ]
    checked = attach_citations([(held, [1]), *[(s, [1]) for s in misread]], [hit], judge)
    assert checked[0].verified and checked[0].support >= judge.lexical.calibration.threshold
    for c in checked[1:]:
        assert not c.verified and c.support < judge.lexical.calibration.threshold, c


def test_a_number_keeps_its_unit_or_currency() -> None:
    from assistant.answering.judges.units import changed_units, units_hold

    passage = (
        "The project will cost 3.2 million dollars. About 40 percent of riders are new. It cost 790m euros ($1.1bn)."
    )
    assert changed_units(passage, "The lanes will cost 3.2 million pounds.") == ["3.2 GBP (the passage: USD)"]
    assert units_hold(passage, "The lanes will cost $3.2m.") and units_hold(passage, "It will cost 3.2 million.")
    assert units_hold(passage, "About 40% of riders are new.") and not units_hold(passage, "About 40 km of lanes.")
    assert units_hold(passage, "It cost 790m euros.") and not units_hold(passage, "It cost 790 million dollars.")


def test_a_number_keeps_its_place() -> None:
    from assistant.answering.judges.units import numbers_in_place

    passage = "He is one of the country's 23,000 centenarians, and the oldest member of the club is 114."
    assert not numbers_in_place(passage, "Torao Toshitsune is 114 years old.")  # the oldest member is
    assert numbers_in_place(passage, "The oldest centenarian is 114.")
    assert numbers_in_place(passage, "The country has 23,000 centenarians.")
    vote = "The council approved the Mill Street bike lanes by a vote of 7 to 2."
    assert numbers_in_place(vote, "The council approved the bike lanes by 7 to 2.")  # "a vote of" dropped


@pytest.mark.slow
def test_a_unit_swapped_sentence_is_unverified_while_a_correct_one_keeps_its_check(sample_bot: Assistant) -> None:
    """The local model's "3.2 million pounds" for a passage's dollars: a scripted draft through the real
    pipeline, with a correct sentence beside it; the ✓ stays on the correct one only."""
    question = "How much will the Mill Street bike lanes cost?"
    hits = sample_bot.search(question)
    passage = next(h.passage.text for h in hits if "3.2 million dollars" in h.passage.text)
    vote = next(passage[s:e] for s, e in sentence_spans(passage) if "voted" in passage[s:e])  # read at test time
    draft = f"The bike lanes will cost 3.2 million pounds [1]. {vote.rstrip('.')} [1]."
    bot = Assistant(sample_bot.index, sample_bot.settings, ScriptedDraft(draft))
    answer = bot.ask(question)
    swapped, kept = answer.sentences
    assert not swapped.verified and "pounds" in swapped.text
    assert kept.verified and "voted" in kept.text
    assert answer.answered and answer.unverified == [swapped]


class ScriptedDraft:
    """Writes a fixed answer (a stand-in for a model's text; what is checked is our pipeline)."""

    name, model, prompt = "scripted", "script", "none"

    def __init__(self, text: str) -> None:
        self.text = text

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        yield self.text
        yield Draft(self.text, list(request.hits))
