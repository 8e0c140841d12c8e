from assistant import Answer, Citation
from assistant.answering.citations import parse_markers, split_claims


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
    from assistant.answering.judge import FaithfulnessJudge
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
