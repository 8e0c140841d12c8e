"""A faithfulness judge for those who have a strong model (``answer.judge = "llm"``), RAGAS-style:
the model splits a sentence into atomic claims and gives each a verdict against the passage
(``prompts/judge_claims.v1.txt``, JSON out). The reply is validated; a malformed one is asked
again once, then the pair is counted *unknown* (and not supported). A sentence is supported when
every claim is; its score is the share of its claims supported. Works with any OpenAI-compatible
endpoint (``answer.engine = "openai"``, one line: ``llm.base_url``) or the local llama.cpp model.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from typing import Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from assistant.answering.judges.lexical import Verdict
from prompts import load_prompt

PROMPT = "judge_claims"
CACHED = 4096  # (passage, claim) verdicts kept: an evaluation asks about one pair several times
_JSON = re.compile(r"\{.*\}", re.DOTALL)


class Completes(Protocol):
    """What the judge needs of a model: one chat completion (``ChatClient`` has it)."""

    model: str

    def complete(self, messages: list[tuple[str, str]]) -> str: ...


class ClaimVerdict(BaseModel):
    claim: str = Field(min_length=1)
    verdict: Literal["supported", "unsupported"]


class Reply(BaseModel):
    claims: list[ClaimVerdict] = Field(min_length=1)


def parse_reply(text: str) -> Reply | None:
    """The model's JSON (the first {...} of its reply), validated; None when it is malformed."""
    found = _JSON.search(text or "")
    if not found:
        return None
    try:
        return Reply.model_validate(json.loads(found.group(0)))
    except (ValueError, ValidationError):
        return None


class LLMJudge:
    """Judges (passage, claim) pairs with a chat model; counts what it could not read (``unknown``)."""

    def __init__(self, client: Completes) -> None:
        self.client = client
        self.prompt = load_prompt(PROMPT)
        self.calls = 0
        self.unknown = 0
        self._cache: OrderedDict[tuple[str, str], Verdict] = OrderedDict()
        self._lock = threading.Lock()

    def describe(self) -> dict[str, object]:
        return {"method": "llm", "model": self.client.model, "prompt": self.prompt.id}

    def judge(self, passage: str, claim: str) -> Verdict:
        key = (passage, claim)
        with self._lock:
            if key in self._cache:
                return self._cache[key]
        messages = self.prompt.messages(passage=passage, claim=claim)
        reply = None
        for _ in range(2):  # a malformed reply is asked again once
            self.calls += 1
            reply = parse_reply(self.client.complete(messages))
            if reply is not None:
                break
        if reply is None:
            self.unknown += 1
            verdict = Verdict(False, 0.0, {"claims": 0.0, "supported_claims": 0.0, "unknown": 1.0}, "", method="llm")
        else:
            good = sum(c.verdict == "supported" for c in reply.claims)
            features = {"claims": float(len(reply.claims)), "supported_claims": float(good), "unknown": 0.0}
            evidence = "; ".join(f"{c.claim} ({c.verdict})" for c in reply.claims)
            verdict = Verdict(good == len(reply.claims), good / len(reply.claims), features, evidence, method="llm")
        with self._lock:
            self._cache[key] = verdict
            while len(self._cache) > CACHED:
                self._cache.popitem(last=False)
        return verdict
