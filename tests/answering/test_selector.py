"""The learned sentence selector: the shipped file, its check, and what it ranks on real articles."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from assistant import Article, Assistant, Settings
from assistant.answering.engines import selector
from assistant.answering.engines.extractive import ExtractiveEngine
from index import ModelBackendError


def test_the_shipped_selector_is_the_recorded_file_and_loads() -> None:
    path = selector.shipped_path()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == selector.SHA256
    model = selector.load()
    assert model.features == selector.FEATURES
    assert len(model.coef) == len(model.mean) == len(model.scale) == len(selector.FEATURES)
    assert 0.0 < model.threshold < 1.0 and 0.0 < model.keep_ratio <= 1.0
    assert "200 sample excluded" in model.trained_on
    # it learned what the hand-set weights assumed: closeness to the question and its words count for a sentence
    weight = dict(zip(model.features, model.coef, strict=True))
    assert weight["cosine"] > 0 and weight["coverage"] > 0
    assert weight["typed_missing"] < 0  # a sentence without the kind of entity asked for is less likely


def test_a_changed_or_mismatched_selector_file_is_refused_by_name(tmp_path: Path) -> None:
    data = json.loads(selector.shipped_path().read_text())
    data["coef"][0] += 1.0
    changed = tmp_path / "selector.json"
    changed.write_text(json.dumps(data))
    with pytest.raises(ModelBackendError, match="selector.json has sha256 .* expected"):
        selector.load(changed)
    data["features"] = data["features"][:-1]
    changed.write_text(json.dumps(data))
    with pytest.raises(ModelBackendError, match="retrain it with `make train-selector`"):
        selector.load(changed, expected_sha256=None)
    with pytest.raises(ModelBackendError, match="can't be read"):
        selector.load(tmp_path / "missing.json", expected_sha256=None)


def test_typing_features_add_the_linear_models_own_part() -> None:
    model = selector.load()
    n = len(selector.BASE_FEATURES)
    rng = np.random.default_rng(0)
    rows = rng.random((4, len(selector.FEATURES)))
    base = rows.copy()
    base[:, n:] = 0.0
    assert np.allclose(model.logits(base) + model.typed_part(rows[:, n:]), model.logits(rows))


@pytest.mark.slow
def test_the_selector_ranks_the_sentence_that_answers_above_the_topic_sentence(tmp_path: Path) -> None:
    """On real embeddings and a real parse: the lede repeats the question's words, the later sentence holds
    the coach's name; the selector puts the name first and the answer's short answer is that name."""
    story = Article(
        title="Runner Mara Quist eyes indoor title",
        text=(
            "Runner Mara Quist says she is ready to win her first indoor title at the championships in Lyon. "
            "The 26-year-old has won four races this winter. "
            "Her new coach, Tomas Brell, has changed how she trains. "
            "She now lives in Geneva and races for a local club."
        ),
    )
    bot = Assistant.open(tmp_path / "idx", Settings(), create=True)
    bot.add([story])
    engine = bot.engine
    assert isinstance(engine, ExtractiveEngine)
    question = "Who is Mara Quist's new coach?"
    hits = bot.index.search(question, None, bot.settings.retrieval, None)
    ranked, _ = engine.rank(question, list(hits), bot.index.query_vector(question), bot.index.sentence_vectors)
    assert "Tomas Brell" in ranked[0].text, [c.text for c in ranked]
    assert all(0.0 <= c.score <= 1.0 for c in ranked)
    answer = bot.ask(question)
    assert answer.short is not None and answer.short.text == "Tomas Brell", answer
    bot.close()
