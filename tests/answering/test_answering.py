"""The answering pipeline's own logic: sentence splitting, citation attaching and checking,
refusals, prompt fitting, follow-up rules and backend errors. The judge and the index are real; a
scripted engine stands in for a model only where the test is about what we do with its text."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import (
    NOT_IN_ARTICLES,
    Assistant,
    ConfigurationError,
    Finished,
    ModelBackendError,
    Retrieved,
    Rewritten,
    Settings,
    Token,
)
from assistant.answering.citations import attach_citations, is_refusal, split_sentences
from assistant.answering.engines.base import Draft, DraftRequest, engine_names
from assistant.answering.engines.llm import build_messages, select_evidence
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.answering.rewrite import is_follow_up, rule_rewrite
from assistant.settings import LLMSettings
from index import Article, Hit, Passage
from prompts import load_prompt


def hit(text: str, title: str = "T", pid: int = 0, start: int = 0) -> Hit:
    article = Article(text=text, title=title, source="Wire", date="2024-05-01")
    return Hit(Passage(pid, article.id, start, start + len(text), text), 1.0, article)


def test_markers_belong_to_the_sentence_they_stand_in_or_follow() -> None:
    text = "The vote was 7 to 2 [1]. Work starts in September.[2] It costs money [1, 3] and more. Bad [0][9]."
    assert split_sentences(text, 3) == [
        ("The vote was 7 to 2.", [1]),
        ("Work starts in September.", [2]),
        ("It costs money and more.", [1, 3]),
        ("Bad.", []),
    ]
    assert split_sentences("No markers at all. Second one", 2) == [("No markers at all.", []), ("Second one", [])]


def test_refusals_are_recognised_in_the_shared_phrase_and_in_paraphrase() -> None:
    assert is_refusal(NOT_IN_ARTICLES)
    assert is_refusal("The passages do not mention who won.")
    assert is_refusal("The population is not mentioned in the given passages.")
    assert not is_refusal("The council voted 7 to 2 in favour. [1]")


def test_citations_are_attached_corrected_and_flagged() -> None:
    judge = FaithfulnessJudge()
    hits = [
        hit("The city council approved the Mill Street bike lanes by a vote of 7 to 2 on Tuesday."),
        hit("Construction of the lanes is expected to start in September, officials said.", pid=1),
    ]
    sentences = [
        ("The council approved the bike lanes by 7 to 2.", [1]),  # right marker
        ("Construction is expected to start in September.", [1]),  # wrong marker: [2] supports it
        ("The lanes will be painted green.", []),  # nothing supports it
    ]
    checked = attach_citations(sentences, hits, judge)
    assert [c.hits for c in checked[:2]] == [[0], [1]]
    assert checked[0].verified and not checked[0].reattached
    assert checked[1].verified and checked[1].reattached
    assert not checked[2].verified and checked[2].hits == []
    s, e = checked[1].spans[1]
    assert "September" in hits[1].passage.text[s:e]


def test_follow_up_rule() -> None:
    history = [("What did the Harbourton council approve?", "Bike lanes. [1]")]
    assert is_follow_up("When will construction of it start?", history)
    assert is_follow_up("And what did his sister say?", history)
    assert not is_follow_up("And what did Kim Yo-jong say?", history)
    assert rule_rewrite("And what did Kim Yo-jong say?", history) == "What did Kim Yo-jong say?"
    assert rule_rewrite("Why?", history) == "What did the Harbourton council approve? Why?"
    assert rule_rewrite("Why?", None) == "Why?"


def test_prompt_keeps_its_instructions_and_trims_passages_to_fit() -> None:
    prompt = load_prompt("grounded_answer")
    long = " ".join(f"Sentence {i} is about the harbour budget of year {2000 + i}." for i in range(200))
    hits = [hit(long, title="Budget"), hit("The mayor is Ada Lane. She took office in May.", pid=1)]
    settings = LLMSettings(context_size=1024, max_tokens=128, evidence_tokens=2000)
    messages = build_messages(prompt, "Who is the mayor?", hits, settings)
    system, user = messages[0][1], messages[1][1]
    assert messages[0][0] == "system" and "articles don't say" in system and "[1]" in system
    assert "[2] T · Wire · 2024-05-01\nThe mayor is Ada Lane." in user and user.rstrip().endswith(
        "Question: Who is the mayor?\nAnswer:"
    )
    assert len(user) < len(long) / 2 and (len(system) + len(user)) / 3.5 < 1024 - 128
    assert select_evidence("Who is the mayor?", hits, 8) == {1: "The mayor is Ada Lane."}
    with pytest.raises(ConfigurationError, match="llm.context_size"):
        build_messages(prompt, "Who?", hits, LLMSettings(context_size=512, max_tokens=500))


def test_bad_engine_settings_fail_fast_with_the_setting_named(tmp_path: Path) -> None:
    assert {"extractive", "local", "openai"} <= set(engine_names())
    from assistant.answering.engines.base import create_engine

    def embed(texts: list[str]) -> None:
        return None

    with pytest.raises(ConfigurationError, match="llm.model_path"):
        create_engine(Settings(answer={"engine": "local"}), embed)
    with pytest.raises(ConfigurationError, match="does not exist"):
        create_engine(Settings(answer={"engine": "local"}, llm={"model_path": tmp_path / "none.gguf"}), embed)
    (tmp_path / "fake.gguf").write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(ConfigurationError, match="not a GGUF"):
        create_engine(Settings(answer={"engine": "local"}, llm={"model_path": tmp_path / "fake.gguf"}), embed)
    with pytest.raises(ConfigurationError, match="llm.base_url"):
        create_engine(Settings(answer={"engine": "openai"}), embed)


def test_an_endpoint_that_is_down_gives_a_clear_error_within_seconds() -> None:
    from assistant.answering.engines.base import create_engine

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once the socket closes
    settings = Settings(answer={"engine": "openai"}, llm={"base_url": f"http://127.0.0.1:{port}/v1", "model": "m"})
    engine = create_engine(settings, lambda texts: np.ones((len(texts), 4), dtype=np.float32))  # any vectors
    started = time.monotonic()
    with pytest.raises(ModelBackendError, match="llm.base_url"):
        list(engine.draft(DraftRequest("Who?", [hit("Ada Lane is mayor.")])))
    assert time.monotonic() - started < 10


class ScriptedEngine:
    """Writes a fixed answer a few characters at a time (a stand-in for a model's text)."""

    name, model, prompt = "scripted", "script", "none"

    def __init__(self, text: str) -> None:
        self.text = text

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        for i in range(0, len(self.text), 8):
            yield self.text[i : i + 8]
        yield Draft(self.text, list(request.hits))


@pytest.mark.slow
def test_pipeline_streams_events_and_verifies_a_scripted_draft(seed_bot: Assistant) -> None:
    draft = (
        "The US tried to contact North Korea through various channels since mid-February, particularly in "
        "New York. North Korea agreed to talks in Paris. [1]"
    )
    bot = Assistant(seed_bot.index, seed_bot.settings, ScriptedEngine(draft))
    events = list(bot.stream("What channels did the US use?"))
    kinds = [type(e) for e in events]
    assert kinds[:2] == [Rewritten, Retrieved] and kinds[-1] is Finished
    assert sum(k is Token for k in kinds) > 5
    answer = events[-1].answer
    first, second = answer.sentences
    assert first.verified and first.markers == [1] and first.reattached
    assert not second.verified and answer.unverified == [second]
    assert "New York" in answer.citations[0].passage
    assert answer.engine == "scripted" and answer.model == "script" and answer.timings["first_token_ms"] > 0

    strict = Assistant(seed_bot.index, Settings(answer={"unsupported": "remove"}), ScriptedEngine(draft))
    kept = strict.ask("What channels did the US use?")
    assert "Paris" not in kept.text and all(s.verified for s in kept.sentences)
    refusing = Assistant(seed_bot.index, seed_bot.settings, ScriptedEngine("The passages do not say."))
    refusal = refusing.ask("Who won the World Cup?")
    assert not refusal.answered and refusal.text == NOT_IN_ARTICLES and refusal.related
    invented = Assistant(seed_bot.index, seed_bot.settings, ScriptedEngine("Pyongyang sent 40 envoys to Paris. [1]"))
    unsupported = invented.ask("How many envoys did North Korea send?")
    assert not unsupported.answered and unsupported.text == NOT_IN_ARTICLES
    assert unsupported.draft.startswith("Pyongyang sent 40 envoys")


@pytest.mark.slow
def test_extractive_engine_completes_a_topic_sentence_with_the_fact_asked(tmp_path: Path) -> None:
    story = Article(
        title="Oil giant's unit sold",
        text=(
            "A little-known firm has bought the main production unit of Petrova Oil at an auction. "
            "The buyer, Baikal Amber Holdings, paid 9 billion dollars. "
            "Analysts said the sale ends a long dispute."
        ),
    )
    quiz = Article(
        title="Weekly news quiz",
        text="Who bought the main production unit of Petrova Oil? Test yourself with our weekly quiz.",
    )
    bot = Assistant.open(tmp_path / "idx", create=True)
    bot.add([story, quiz])
    answer = bot.ask("Who bought the main production unit of Petrova Oil?")
    assert "Baikal Amber Holdings" in answer.text, answer.text
    assert "Test yourself" not in answer.text and "?" not in answer.text
    refusal = bot.ask("How many workers did the production unit of Petrova Oil employ?")
    assert not refusal.answered, refusal.text


class ScriptedClient:
    """Streams a fixed text as a chat endpoint would, and keeps the messages it was sent."""

    model = "scripted-model"

    def __init__(self, text: str) -> None:
        self.text = text
        self.sent: list[list[tuple[str, str]]] = []

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        self.sent.append(messages)
        yield from (self.text[i : i + 8] for i in range(0, len(self.text), 8))


@pytest.mark.slow
def test_a_model_that_refuses_what_the_selector_finds_gets_the_extractive_answer(seed_bot: Assistant) -> None:
    """The LLM engine reads the selector's best sentences (not whole passages); when the model says the
    articles don't say, or writes nothing the passages support, but the selector finds the answer, the
    answer is the extractive one, marked, with the model's words kept; with the fallback off, or when the
    selector finds nothing, the refusal stands; a supported written answer is kept as written."""
    from assistant.answering.engines.extractive import ExtractiveEngine
    from assistant.answering.engines.llm import LLMEngine

    settings = seed_bot.settings
    refusal = "The articles don't say which channels were used."

    def engine(llm: LLMSettings, text: str = refusal) -> LLMEngine:
        client = ScriptedClient(text)
        return LLMEngine("local", client, llm, ExtractiveEngine(settings.answer, seed_bot.index.embedder.embed))  # type: ignore[arg-type]

    llm = engine(settings.llm)
    bot = Assistant(seed_bot.index, settings, llm)
    answer = bot.ask("What channels did the US use?")
    assert answer.answered and answer.fallback and answer.engine == "local", answer
    assert "New York" in answer.text and answer.draft == refusal
    assert answer.prompt.startswith("short_answer.")
    system, user = llm.client.sent[0]  # type: ignore[attr-defined]
    passages = user[1].split("Question:")[0]
    assert "[1] " in passages and "New York" in passages
    # sentences, not passages: the prompt holds far less than the retrieved passages' text
    assert len(passages) < sum(len(c.passage) for c in answer.citations + answer.related)

    no_fallback = settings.model_copy(update={"llm": settings.llm.model_copy(update={"fallback": False})})
    off = Assistant(seed_bot.index, no_fallback, engine(no_fallback.llm))
    kept = off.ask("What channels did the US use?")
    assert not kept.answered and not kept.fallback
    nothing = Assistant(seed_bot.index, settings, engine(settings.llm, "The articles don't say."))
    assert not nothing.ask("What is the capital of Peru?").answered
    copied = next(s.text for s in answer.sentences if "New York" in s.text)  # the article's own sentence
    written = Assistant(seed_bot.index, settings, engine(settings.llm, f"{copied} [1]"))
    plain = written.ask("What channels did the US use?")
    assert plain.answered and not plain.fallback and plain.draft == ""

    invented = "Pyongyang sent 40 envoys to Paris. [1]"  # nothing of it is in the passages
    rescued = Assistant(seed_bot.index, settings, engine(settings.llm, invented)).ask("What channels did the US use?")
    assert rescued.answered and rescued.fallback and rescued.draft == invented and "Paris" not in rescued.text

    passages_mode = engine(settings.llm.model_copy(update={"evidence": "passages"}), "New York. [1]")
    Assistant(seed_bot.index, settings, passages_mode).ask("What channels did the US use?")
    assert passages_mode.prompt.startswith("grounded_answer.")


def test_the_judge_the_settings_name_verifies_answers_and_judges_evaluations(seed_bot: Assistant) -> None:
    """One judge per assistant: ``answer.judge`` decides answer-time verification (not only
    evaluations), so the model judge's calibrated probabilities are what an answer's sentences carry."""
    from assistant.evaluation.harness import default_judge

    answer = seed_bot.settings.answer.model_copy(update={"judge": "model"})
    modelled = Assistant(seed_bot.index, seed_bot.settings.model_copy(update={"answer": answer}))
    lexical = seed_bot.ask("What channels did the US use?")
    judged = modelled.ask("What channels did the US use?")
    assert default_judge(modelled) is modelled.judge and modelled.judge.method.value == "model"
    assert lexical.answered and judged.answered
    assert [s.support for s in judged.sentences] != [s.support for s in lexical.sentences]
    # the model's score is the calibrated probability it gives the cited passage
    first = judged.sentences[0]
    passage = judged.citation(first.markers[0]).passage
    assert first.support == pytest.approx(modelled.judge.judge(passage, first.text).score, abs=1e-3)
