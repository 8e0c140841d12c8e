"""The LLM judge's reading of a model's reply (assistant/answering/judges/llm.py): validated JSON, one
retry, then *unknown*; its wiring into answer.judge. The judge against a real OpenAI-compatible
server is in tests/answering/test_models.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import Assistant, ConfigurationError, Settings
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.answering.judges.llm import parse_reply

GOOD = (
    '{"claims": [{"claim": "The lanes cost 3.2 million dollars", "verdict": "supported"}, '
    '{"claim": "x", "verdict": "unsupported"}]}'
)


class Replies:
    """A chat client that answers from a list (the judge's parsing and retry are under test here)."""

    model = "scripted"

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.asked: list[list[tuple[str, str]]] = []

    def complete(self, messages: list[tuple[str, str]]) -> str:
        self.asked.append(messages)
        return self.replies.pop(0)


def test_a_reply_is_read_from_its_json_or_refused() -> None:
    reply = parse_reply("Sure! Here it is:\n" + GOOD + "\nHope this helps.")
    assert reply is not None and [c.verdict for c in reply.claims] == ["supported", "unsupported"]
    for bad in ("", "supported", '{"claims": []}', '{"claims": [{"claim": "a", "verdict": "maybe"}]}', "{not json}"):
        assert parse_reply(bad) is None, bad


def test_a_malformed_reply_is_asked_again_once_then_counted_unknown() -> None:
    client = Replies("I think it is supported.", GOOD)
    judge = FaithfulnessJudge("llm", client=client)
    verdict = judge.judge("The lanes will cost 3.2 million dollars.", "The lanes cost 3.2 million dollars.")
    assert len(client.asked) == 2 and not verdict.supported and verdict.score == 0.5
    assert verdict.features == {"claims": 2.0, "supported_claims": 1.0, "unknown": 0.0}
    assert "The lanes will cost 3.2 million dollars." in client.asked[0][-1][1], "the passage is in the prompt"
    again = judge.judge("The lanes will cost 3.2 million dollars.", "The lanes cost 3.2 million dollars.")
    assert again == verdict and len(client.asked) == 2, "a pair is judged once"

    lost = Replies("no", "still no")
    judge = FaithfulnessJudge("llm", client=lost)
    verdict = judge.judge("A passage.", "A claim.")
    assert not verdict.supported and verdict.features["unknown"] == 1.0
    assert judge.llm is not None and (judge.llm.calls, judge.llm.unknown) == (2, 1)
    assert judge.describe() == {"method": "llm", "model": "scripted", "prompt": "judge_claims.v1"}


def test_every_claim_must_hold() -> None:
    all_good = GOOD.replace('"unsupported"', '"supported"')
    judge = FaithfulnessJudge("llm", client=Replies(all_good))
    assert judge.supports("The lanes will cost 3.2 million dollars.", "The lanes cost 3.2 million dollars.")


def test_the_llm_judge_needs_a_model_and_says_which_setting(tmp_path: Path, seed_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="answer.engine"):
        FaithfulnessJudge("llm")
    Assistant.build([seed_path], tmp_path / "idx").close()
    with pytest.raises(ConfigurationError, match="answer.judge=llm needs a model"):
        Assistant.open(tmp_path / "idx", Settings(answer={"judge": "llm"}))  # one judge, named at open
