"""The evaluation harness: test-set files, metrics on hand-made cases, the faithfulness judge,
and `assistant eval` end to end over the shipped test set with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.evaluation.metrics import (
    Claim,
    citation_scores,
    contains_reference,
    exact_match,
    normalize,
    retrieval_scores,
    token_f1,
)
from assistant.evaluation.synthetic import BLANK, cloze, generate_testset
from assistant.evaluation.testset import TestSetError, load_testset
from tests.conftest import ROOT

SAMPLE_TESTSET = ROOT / "assistant" / "samples" / "testset.jsonl"


# ---- test-set files ------------------------------------------------------------------------
def test_jsonl_and_csv_test_sets_load_with_defaults(tmp_path: Path) -> None:
    jsonl = tmp_path / "t.jsonl"
    jsonl.write_text(
        json.dumps({"id": "a", "question": "Who?", "reference_answer": "Kim", "reference_article_ids": "doc-1"})
        + "\n\n"
        + json.dumps({"question": "Why?", "answerable": False, "metadata": {"topic": "x"}})
        + "\n"
    )
    a, b = load_testset(jsonl)
    assert (a.id, a.reference_answer, a.reference_article_ids, a.answerable) == ("a", ["Kim"], ["doc-1"], True)
    assert (b.id, b.answerable, b.metadata) == ("3", False, {"topic": "x"}), "id defaults to the line number"

    csv = tmp_path / "t.csv"
    csv.write_text(
        'id,question,reference_answer,answerable\nq1,How many?,"[""40"", ""forty""]",true\nq2,Which?,,false\n'
    )
    c1, c2 = load_testset(csv)
    assert c1.reference_answer == ["40", "forty"] and c2.reference_answer == [] and not c2.answerable


def test_every_bad_line_is_reported_with_its_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        '{"id": "ok", "question": "Fine?"}\n'
        "{not json\n"
        '{"id": "x", "question": "  "}\n'
        '{"id": "ok", "question": "Again?"}\n'
        '{"id": "y", "question": "Q?", "colour": "red"}\n'
    )
    with pytest.raises(TestSetError) as e:
        load_testset(path)
    message = str(e.value)
    assert "4 bad line(s)" in message
    for line in ("line 2:", "line 3:", "line 4: id 'ok' repeats line 1", "line 5:"):
        assert line in message
    with pytest.raises(TestSetError, match="a .jsonl or .csv file"):
        load_testset(tmp_path / "t.txt")


def test_the_shipped_test_set_is_valid_and_has_unanswerable_questions() -> None:
    cases = load_testset(SAMPLE_TESTSET)
    assert len(cases) >= 30
    assert sum(not c.answerable for c in cases) >= 5
    assert all(c.reference_article_ids and c.reference_answer for c in cases if c.answerable)


# ---- metrics -------------------------------------------------------------------------------
def test_answer_metrics_on_known_cases() -> None:
    assert normalize("The rate is 4.5 percent [1].") == "rate is 4 5 percent"
    assert exact_match("The 4.5 percent.", ["4.5 percent"]) == 1.0
    assert exact_match("", ["4.5 percent"]) == 0.0
    assert token_f1("rate of 4.5 percent", ["4.5 percent"]) == pytest.approx(2 * (3 / 5) * 1 / (3 / 5 + 1))
    assert token_f1("", ["x"]) == 0.0, "an empty answer scores zero, not NaN"
    assert contains_reference("It cost 3.2 million dollars [2].", ["3.2 million dollars"]) == 1.0
    assert contains_reference("It cost 13.2 million dollars.", ["3.2 million dollars"]) == 0.0
    assert exact_match("anything", []) is None, "no reference: the metric does not apply"


def test_retrieval_metrics() -> None:
    scores = retrieval_scores(["d", "a", "b"], {"a", "z"})
    assert scores["hit@1"] == 0.0 and scores["hit@5"] == 1.0 and scores["recall@5"] == 0.5
    assert scores["mrr"] == 0.5
    assert retrieval_scores([], {"a"})["mrr"] == 0.0
    assert retrieval_scores(["a"], set()) == {}


def test_citation_metrics_follow_alce() -> None:
    def supports(passage: str, claim: str) -> bool:  # a passage supports a claim when it holds its key word
        return claim.split()[0] in passage

    claims = [
        Claim("alpha rose", ("alpha beta", "gamma")),  # joint support; 'gamma' is not needed
        Claim("delta fell", ("delta", "delta too")),  # each alone supports: both precise
        Claim("omega left", ("gamma",)),  # unsupported
        Claim("alpha again", ()),  # no citation
    ]
    scores = citation_scores(claims, supports)
    assert scores["citation_recall"] == pytest.approx(2 / 4)
    assert scores["citation_precision"] == pytest.approx(3 / 5), "gamma is not needed for claim 1; claim 3 has 0"
    assert scores["faithfulness"] == pytest.approx(3 / 4), "'alpha again' is supported by the answer's passages"
    assert citation_scores([], supports) == {}, "a refusal has no claims"


# ---- synthetic test sets -------------------------------------------------------------------
def test_cloze_blanks_a_number_or_a_name() -> None:
    question, answer = cloze("The project will cost 3.2 million dollars, the council said.")  # type: ignore[misc]
    assert answer == "3.2 million" and BLANK in question
    assert cloze("nothing here to blank out at all today") is None


def test_generated_test_sets_are_never_silently_empty(sample_bot) -> None:  # type: ignore[no-untyped-def]
    cases, skipped = generate_testset(sample_bot.index, count=12, seed=1)
    assert len(cases) == 12 and sum(skipped.values()) > 0
    again, _ = generate_testset(sample_bot.index, count=12, seed=1)
    assert [c.question for c in again] == [c.question for c in cases], "the same seed gives the same set"
    for case in cases:
        article = sample_bot.index.article(case.reference_article_ids[0])
        assert case.reference_passages[0].split()[0] in article.text
        assert case.reference_answer[0] in " ".join(article.text.split())


# ---- end to end ----------------------------------------------------------------------------
@pytest.mark.slow
def test_eval_over_the_shipped_test_set_writes_a_resumable_run_folder(sample_bot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from assistant.evaluation import compare_runs, evaluate

    run = tmp_path / "run"
    result = evaluate(sample_bot, SAMPLE_TESTSET, run)
    for name in ("run.json", "results.jsonl", "summary.json", "report.md", "report.html"):
        assert (run / name).is_file(), name
    rows = [json.loads(line) for line in (run / "results.jsonl").read_text().splitlines()]
    assert len(rows) == len(load_testset(SAMPLE_TESTSET)) and all(r["error"] is None for r in rows)
    summary = result.summary
    m = summary["metrics"]
    assert summary["errors"] == 0 and summary["unanswerable"] >= 5
    assert m["hit@5"] >= 0.9, "each sample question's article is retrieved"
    assert m["faithfulness"] >= 0.9, "extractive answers copy their cited sentences"
    assert m["contains_reference"] >= 0.6
    assert m["false_refusal_rate"] <= 0.2
    assert 0.0 <= m["refusal_rate"] <= 1.0
    for value in m.values():
        assert value is None or value == value, "no NaN"
    nk = next(r for r in rows if r["id"] == "nk-1")
    assert "New York" in nk["answer"] and nk["metrics"]["hit@1"] == 1.0 and nk["retrieved"][0] == "sample-001"
    html = (run / "report.html").read_text()
    assert "<svg" in html and "faithfulness" in html and result.summary["questions"] == len(rows)

    # resume: drop the last three results, run again: only those are asked, nothing is doubled
    lines = (run / "results.jsonl").read_text().splitlines()
    (run / "results.jsonl").write_text("\n".join(lines[:-3]) + "\n" + lines[-3][:20])
    again = evaluate(sample_bot, SAMPLE_TESTSET, run)
    assert again.summary["metrics"] == summary["metrics"] and again.summary["questions"] == summary["questions"]
    assert len((run / "results.jsonl").read_text().splitlines()) == len(rows)
    diff = compare_runs(run, run)
    assert all(d["delta"] in (0, None) for d in diff["metrics"].values()) and diff["questions"] == []


def test_scoring_an_answer_with_an_out_of_range_citation_and_a_refusal() -> None:
    from assistant import NOT_IN_ARTICLES, Answer, Citation
    from assistant.evaluation.harness import score_case
    from assistant.evaluation.testset import TestCase

    passage = "The project will cost 3.2 million dollars. Work starts in September."
    cite = Citation(marker=1, passage_id=0, article_id="a", passage=passage, start=0, end=len(passage), score=1.0)
    answer = Answer(
        question="How much?",
        text="The project will cost 3.2 million dollars. [1] Work starts in September. [3]",
        answered=True,
        citations=[cite],
    )
    case = TestCase(id="q", question="How much?", reference_answer=["3.2 million dollars"])
    m = score_case(case, answer, ["a"], FaithfulnessJudge())
    assert m["citation_recall"] == 0.5, "the [3] points at no citation: that claim is unsupported by its citations"
    assert m["faithfulness"] == 1.0, "but the answer's cited passage supports both claims"
    assert m["citation_precision"] == 1.0 and m["contains_reference"] == 1.0 and m["refused"] == 0.0

    refusal = Answer(question="Who?", text=NOT_IN_ARTICLES, answered=False)
    unanswerable = TestCase(id="u", question="Who?", answerable=False)
    assert score_case(unanswerable, refusal, [], FaithfulnessJudge()) == {"refused": 1.0}
    scored = score_case(case, refusal, [], FaithfulnessJudge())
    assert scored == {"refused": 1.0, "exact_match": 0.0, "token_f1": 0.0, "contains_reference": 0.0}


def test_worst_questions_are_failures_not_correct_refusals_or_perfect_answers() -> None:
    from assistant.evaluation.report import worst_rows

    def row(qid: str, answerable: bool, **metrics: float) -> dict:  # type: ignore[type-arg]
        return {"id": qid, "answerable": answerable, "metrics": metrics}

    rows = [
        row("refused-right", False, refused=1.0),
        row("answered-unanswerable", False, refused=0.0, faithfulness=1.0),
        row("good", True, refused=0.0, faithfulness=1.0, contains_reference=1.0, **{"hit@10": 1.0}),
        row("refused-wrong", True, refused=1.0, **{"hit@10": 1.0}),
        row("half", True, refused=0.0, faithfulness=1.0, contains_reference=0.0, **{"hit@10": 1.0}),
        {"id": "crashed", "answerable": True, "error": "boom", "metrics": {}},
    ]
    assert [r["id"] for r in worst_rows(rows, 10)] == [
        "crashed",
        "answered-unanswerable",
        "refused-wrong",
        "half",
    ], "a perfect answer is never listed as gone wrong"
    assert [r["id"] for r in worst_rows(rows, 2)] == ["crashed", "answered-unanswerable"]


def test_the_report_opens_with_plain_counts_and_shows_only_informative_charts() -> None:
    from assistant.evaluation.report import html_body, markdown, plain_counts

    def row(i: int, answerable: bool, **metrics: float) -> dict:
        return {
            "id": f"q{i}",
            "question": f"Question {i}?",
            "answerable": answerable,
            "reference_answer": ["x"],
            "answer": "An answer [1]",
            "citations": [],
            "metrics": metrics,
            "error": None,
        }

    rows = [
        row(1, True, contains_reference=1.0, faithfulness=1.0, refused=0.0, token_f1=0.2),
        row(2, True, contains_reference=0.0, faithfulness=1.0, refused=0.0, token_f1=0.9),
        row(3, True, contains_reference=0.0, refused=1.0),
        row(4, False, refused=1.0),
    ]
    summary = {
        "questions": 4,
        "answerable": 3,
        "unanswerable": 1,
        "answered": 2,
        "errors": 0,
        "metrics": {"faithfulness": 1.0, "contains_reference": 0.333},
        "applies_to": {},
        "latency_ms": {"p50": 1, "p95": 2},
        "first_token_ms": {},
    }
    config = {
        "testset": "t.jsonl",
        "index": "i",
        "index_fingerprint": "f",
        "articles": 1,
        "engine": "extractive",
        "prompt": "none",
    }
    counts = plain_counts(summary, rows)
    assert counts == (
        "1 of 3 answers contain the reference answer; 1 of 1 unanswerable questions refused; "
        "1 of 3 answerable questions refused (false refusals)."
    )
    assert markdown(config, summary, rows).split("\n")[2] == counts
    page = html_body(config, summary, rows)
    assert page.index("plain-counts") < page.index("Questions that went wrong") < page.index('id="metrics"')
    assert "1 by construction" in page  # faithfulness of copied sentences
    metrics = page[page.index('id="metrics"') :]
    assert metrics.index("contains_reference") < metrics.index("faithfulness"), "by construction: listed last"
    assert "token_f1 (n=2)" in page and "faithfulness (n=" not in page  # one bar: not drawn
    assert "the answer lacks the reference" in page and "<summary>Settings" in page
