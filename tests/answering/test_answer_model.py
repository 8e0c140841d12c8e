"""The trained answer model (issue 34): the shipped files and their checks, what it does to answers
over real articles, and the no-model path."""

from __future__ import annotations

import gzip
import json
import logging
import shutil
from pathlib import Path

import pytest

from assistant import Article, Assistant, ConfigurationError, Settings
from assistant.answering.engines import answer_model as am
from assistant.answering.engines.reading import Reader
from tests.conftest import SHARED
from tests.helpers.shared import needs_shared

pytestmark = pytest.mark.slow
BBC = SHARED / "datasets" / "bbc-news" / "bbc_news.jsonl.gz"


def test_the_shipped_model_loads_with_its_checks_and_reads_a_span() -> None:
    model = am.AnswerModel()
    assert 0.0 < model.answer_threshold < 1.0 and 0.0 < model.span_threshold <= 1.0
    sentence = "The city council approved a 7 percent pay rise for bus drivers on Tuesday."
    question = "How big is the pay rise for bus drivers?"
    off = "The weather stayed mild across the region over the weekend, forecasters said."
    right, wrong = model.read(
        [
            (*am.model_input(question, sentence, "Bus drivers get a raise", "2026-11-28"), len(sentence)),
            (*am.model_input(question, off, "Mild weekend", "2026-11-28"), len(off)),
        ]
    )
    assert right.probability > wrong.probability
    assert right.span is not None and "7 percent" in sentence[right.span[0] : right.span[1]]


def test_a_changed_model_file_is_refused_by_name(tmp_path: Path) -> None:
    copy = tmp_path / "answer_model"
    shutil.copytree(am.MODEL_DIR, copy)
    tokenizer = copy / "tokenizer.json"
    tokenizer.write_text(tokenizer.read_text().replace('"[UNK]"', '"[UNKNOWN]"', 1))
    with pytest.raises(ConfigurationError, match="tokenizer.json has sha256 .* expected"):
        am.AnswerModel(copy)
    (copy / "model.json").unlink()
    with pytest.raises(ConfigurationError, match="answer model not found"):
        am.AnswerModel(copy)


def test_without_the_model_the_engine_says_so_once_and_answers_with_the_selector(
    sample_bot: Assistant, caplog: pytest.LogCaptureFixture
) -> None:
    def missing() -> am.AnswerModel:
        raise ConfigurationError("answer model not found: model.json is missing")

    selector_only = Assistant(sample_bot.index, Settings(answer={"answer_model": False}))
    broken = Assistant(sample_bot.index, sample_bot.settings)
    broken.engine.reader = Reader(missing)  # type: ignore[attr-defined]
    question = "How much will the Mill Street bike lanes cost?"
    with caplog.at_level(logging.WARNING):
        answers = [broken.ask(question) for _ in range(2)]
    said = [r for r in caplog.records if "answer model can't be used" in r.getMessage()]
    assert len(said) == 1, "said once"
    assert answers[0].text == answers[1].text == selector_only.ask(question).text


def test_the_pine_ridge_deaths_stay_refused_and_the_bike_lanes_are_answered(sample_bot: Assistant) -> None:
    assert isinstance(sample_bot.engine.reader.model, am.AnswerModel)  # type: ignore[attr-defined]
    refused = sample_bot.ask("How many people died in the Pine Ridge wildfire?")
    assert not refused.answered, refused.text
    answered = sample_bot.ask("How much will the Mill Street bike lanes cost?")
    assert answered.answered and "3.2 million dollars" in answered.text
    if answered.short is not None:  # shown only when right and of the kind asked
        assert "3.2 million" in answered.short.text


def test_an_open_question_about_a_report_is_answered_from_it(tmp_path: Path) -> None:
    """'What did Time Warner report?' was refused although the report was the first passage found:
    an open question has no typed answer, and the selector's threshold refused it."""
    needs_shared(BBC, "the BBC articles")
    rows = [json.loads(line) for line in gzip.open(BBC, "rt", encoding="utf-8")]
    story = next(r for r in rows if r["title"].startswith("Ad sales boost Time Warner profit"))
    others = [r for r in rows if r["category"] == "business" and r["id"] != story["id"]][:40]
    bot = Assistant.open(tmp_path / "bbc", create=True)
    bot.add([Article(text=r["body"], title=r["title"], key=r["id"], source="BBC") for r in [story, *others]])
    answer = bot.ask("What did Time Warner report?", as_of="2005-12-31")
    assert answer.answered, answer.text
    assert any(c.article_id == bot.index.article(story["id"]).id for c in answer.citations)  # type: ignore[union-attr]
