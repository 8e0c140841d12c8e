"""Answer typing with the real spaCy pipeline: what a question asks for, which entity of a sentence
answers it (tied to what is asked, not merely present), the short answer it gives, and the
pipeline's files checked against their recorded sha256."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assistant import Assistant, ModelBackendError
from assistant.answering import nlp
from assistant.answering.engines.answer_types import analyse, answer_spans


@pytest.fixture(scope="module")
def parse() -> Any:
    return nlp.pipeline()


@pytest.mark.parametrize(
    ("question", "wh", "label", "unit", "verb"),
    [
        ("How many people died in the Pine Ridge wildfire?", "how many", "CARDINAL", "people", "die"),
        ("Who proposed the protected bike lanes?", "who", "PERSON", "", "propose"),
        ("When did the council approve the plan?", "when", "DATE", "", "approve"),
        ("Where did the president sign the treaty?", "where", "GPE", "", "sign"),
        ("How much will the new stadium cost?", "how much", "MONEY", "", ""),  # "cost" read as a noun
        ("The army banned soldiers from using which popular app?", "which app", "PRODUCT", "", "use"),
        ("Fireworks in this city went ahead despite a petition.", "this city", "GPE", "", "go"),
        ("How many years did the trial last?", "how many", "DATE", "", ""),  # "last" parsed as an adjective
    ],
)
def test_what_a_question_asks_for(parse: Any, question: str, wh: str, label: str, unit: str, verb: str) -> None:
    asked = analyse(parse(question))
    assert asked.wh == wh and label in asked.labels and asked.unit == unit and asked.verb == verb, asked


def test_a_count_must_count_the_asked_thing_in_a_clause_like_the_asked_one(parse: Any, embedder: Any) -> None:
    def similarity(phrase: str, phrases: list[str]) -> list[float]:
        vectors = embedder.embed([phrase, *phrases])
        return [float(x) for x in vectors[1:] @ vectors[0]]

    text = (
        "About 6,000 people were ordered to leave their homes on Sunday. At least 30 homes have been destroyed. "
        "Three people were killed when a bridge collapsed. Fire chief Tom Bradley said crews hoped for rain."
    )
    sentences = list(parse(text).sents)

    def answers(question: str) -> list[str]:
        asked = analyse(parse(question))
        return [t.text for s in sentences for t in answer_spans(asked, s, similarity, 0.35)]

    assert answers("How many people died in the fire?") == ["Three"], "evacuees and homes are not deaths"
    # MiniLM puts "were evacuated" near "were killed" (0.53) too: both counts qualify; ranking decides
    assert answers("How many people were evacuated?")[0] == "About 6,000"
    assert answers("How many homes were destroyed?") == ["At least 30"]
    assert answers("Who is the fire chief?") == ["Tom Bradley"]
    assert answers("How many firefighters were injured?") == [], "nothing counts firefighters"


@pytest.mark.slow
def test_the_pine_ridge_deaths_question_is_refused_and_evacuees_get_a_short_answer(sample_bot: Assistant) -> None:
    deaths = sample_bot.ask("How many people died in the Pine Ridge wildfire?")
    assert not deaths.answered and deaths.short is None, deaths.text
    evacuated = sample_bot.ask("How many people were evacuated because of the Pine Ridge wildfire?")
    assert evacuated.answered and evacuated.short is not None
    cited = evacuated.citation(evacuated.short.marker)
    shown = cited.passage[evacuated.short.start : evacuated.short.end] if cited is not None else ""
    assert shown in ("About 6,000", "6,000"), shown  # the answer model's span, or spaCy's entity
    assert evacuated.short.label == "CARDINAL" and '"short"' in evacuated.to_json()
    governor = sample_bot.ask("Who is the governor of the central bank?")
    assert governor.short is not None and governor.short.label == "PERSON"
    assert governor.short.text in governor.text


def test_a_changed_pipeline_file_is_refused_by_name(tmp_path: Path) -> None:
    copy = tmp_path / "pipeline"
    shutil.copytree(nlp.model_dir(), copy)
    nlp.verify(copy)
    with (copy / "ner" / "model").open("r+b") as f:
        f.seek(100)
        byte = f.read(1)
        f.seek(100)
        f.write(bytes([byte[0] ^ 1]))
    with pytest.raises(ModelBackendError, match="ner/model"):
        nlp.verify(copy)


def test_loading_the_pipeline_imports_no_torch() -> None:
    code = (
        "import sys; from assistant.answering import nlp; p = nlp.pipeline(); "
        "print(p.pipe_names, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().endswith("False") and "ner" in out.stdout and "senter" not in out.stdout


def test_torch_is_kept_out_of_the_spacy_import_only_in_its_own_thread(tmp_path: Path) -> None:
    """The background spaCy load hides torch from its own thread; a torch model loading in another
    thread meanwhile must still find it (it once found it missing for good: "name 'nn' is not defined")."""
    import importlib
    import threading

    (tmp_path / "probe_hidden_module.py").write_text("VALUE = 1\n")
    sys.path.insert(0, str(tmp_path))
    inside, other = threading.Event(), {}

    def elsewhere() -> None:
        inside.wait(10)
        import probe_hidden_module

        other["value"] = probe_hidden_module.VALUE

    thread = threading.Thread(target=elsewhere)
    thread.start()
    try:
        with nlp.hidden_in_this_thread(["probe_hidden_module"]):
            with pytest.raises(ImportError, match="kept out"):
                import probe_hidden_module  # noqa: F401
            inside.set()
            thread.join(10)
        assert other == {"value": 1}, "another thread imports it meanwhile"
        sys.modules.pop("json.tool", None)
        with nlp.hidden_in_this_thread(["json"]):  # already imported: it and its submodules stay usable
            importlib.import_module("json.tool")
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("probe_hidden_module", None)


def test_the_fast_load_parses_as_spacys_own_load(parse: Any) -> None:
    """The pipeline loads with a blank tokenizer that its saved one replaces (issue 38, 0.05 s of a
    cold ask): tokens, tags, lemmas, parses and entities equal spaCy's own load's on odd text."""
    spacy = nlp._import_spacy()
    plain = spacy.load(nlp.model_dir(), exclude=nlp.EXCLUDED)
    texts = [
        "Dr. O'Neil's e-mail (o.neil@example.org) said the U.S. paid $3.2m - or £2.5bn? - on Jan. 5th, 2021.",
        "Can't we go? They won't, y'all... see http://news.example/a?b=1 #tag :-) 10km/h 5pm-6pm 1990s.",
        "How many people died in the Pine Ridge wildfire, and who led the rescue in St. Louis, Mo.?",
    ]
    for ours, theirs in zip(parse.pipe(texts), plain.pipe(texts), strict=True):
        row = [(t.text, t.tag_, t.lemma_, t.dep_, t.head.i, t.ent_type_, t.ent_iob_) for t in ours]
        assert row == [(t.text, t.tag_, t.lemma_, t.dep_, t.head.i, t.ent_type_, t.ent_iob_) for t in theirs]
        assert len(row) > 10
