"""One typed settings tree, passed explicitly. Environment variables are read once, in
:meth:`Settings.from_env`: ``ASSISTANT_<SECTION>__<FIELD>`` (e.g. ``ASSISTANT_RETRIEVAL__TOP_K=8``),
and ``ASSISTANT_INDEX`` for the index directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydantic import Field

from index import IndexSettings, RetrievalSettings, SourcesSettings
from index.settings import Section

# Offline and quiet: no model hub, no telemetry, no download progress bars.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "GRADIO_ANALYTICS_ENABLED": "False",
}


def use_offline_environment() -> None:
    """Set :data:`OFFLINE_ENV` where the user has not set those variables."""
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)


def default_data_dir() -> Path:
    """Where built indexes live: ``ASSISTANT_DATA_DIR``, else the platform's user data folder."""
    from platformdirs import user_data_dir

    return Path(os.environ.get("ASSISTANT_DATA_DIR") or user_data_dir("news-assistant", appauthor=False))


def sample_index_dir() -> Path:
    return default_data_dir() / "indexes" / "sample"


class Engine(StrEnum):
    """Who drafts the answer: sentences copied from the passages, or an LLM."""

    EXTRACTIVE = "extractive"  # no model: the best sentences of the passages, verbatim
    OPENAI = "openai"  # any OpenAI-compatible chat endpoint (llm.base_url)
    LOCAL = "local"  # a GGUF file run by llama.cpp inside this process (llm.model_path)


class Evidence(StrEnum):
    """What an LLM engine is shown of the retrieved passages."""

    SENTENCES = "sentences"  # the sentence selector's best sentences: a short prompt, a fast first token on a CPU
    PASSAGES = "passages"  # the passages, cut to llm.evidence_tokens: more context, for large (remote) models


class Unsupported(StrEnum):
    """What happens to an answer sentence that no retrieved passage supports."""

    FLAG = "flag"  # kept, marked unverified in the UI, CLI and JSON
    REMOVE = "remove"  # dropped from the answer


class JudgeMethod(StrEnum):
    """How faithfulness is judged in evaluations."""

    LEXICAL = "lexical"  # word rules + WordNet: the default (it measured better, see docs/evaluation)
    MODEL = "model"  # the trained claim-support model shipped with the package (onnxruntime)
    LLM = "llm"  # the configured openai or local model, RAGAS-style (assistant/answering/judges/llm.py)


class AnswerSettings(Section):
    engine: Engine = Field(Engine.EXTRACTIVE, description="Answer engine: extractive (no model), openai or local.")
    unsupported: Unsupported = Field(
        Unsupported.FLAG, description="What to do with an answer sentence no retrieved passage supports."
    )
    judge: JudgeMethod = Field(
        JudgeMethod.LEXICAL,
        description="The faithfulness judge that verifies each answer sentence and judges evaluations: lexical "
        "(word rules + WordNet), model (the trained claim-support model shipped with the package; measured below "
        "the lexical judge so far, see docs/evaluation), or llm (the configured openai or local model splits each "
        "sentence into claims and judges them; needs answer.engine openai or local; too slow for every answer, so "
        "answers are then verified by the lexical judge and the llm judges evaluations).",
    )
    max_sentences: int = Field(3, ge=1, le=10, description="Most sentences in an extractive answer.")
    timeline_lines: int = Field(
        6,
        ge=2,
        le=30,
        description="Most lines in a timeline answer (the first report and the newest; the rest "
        "are counted as 'and N more reports').",
    )
    time_policy: bool = Field(
        True,
        description="Read what a question asks about time (the latest, since or before a day, how a story "
        "developed) and answer it so: the newest report, a hard date window, a timeline. Off: every question "
        "is a plain one.",
    )
    compare_reports: bool = Field(
        True,
        description="Check whether a story's reports give different values (a count, amount, date, name) for "
        "what was asked, and show each with its source, latest first.",
    )
    answer_model: bool = Field(
        True,
        description="Read the selector's best sentences with the trained answer model (it orders them, marks the "
        "short answer and keeps a sentence it is sure of from being refused); off: the selector alone.",
    )
    min_relevance: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Lowest probability (the sentence selector's) that the best evidence sentence holds the answer; "
        "below it the assistant says the articles don't answer. Default: the threshold trained with the selector.",
    )
    require_focus: bool = Field(
        True,
        description="Answer only from sentences that hold a content word of the question not in their article's "
        "title (what is asked rather than the topic), or that are very close to the question.",
    )
    focus_cosine: float = Field(
        0.6, ge=0.0, le=1.0, description="Cosine at which a sentence counts as on focus without sharing a word."
    )
    keep_ratio: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="Further sentences are kept if their probability is at least this share of the best one's. "
        "Default: the ratio chosen with the selector.",
    )
    typing: bool = Field(
        True,
        description="Answer typing with spaCy: a question asking for a count, amount or date is answered only from "
        "sentences holding one tied to what is asked; every typed question (names too) gets a short answer.",
    )
    min_tie: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Least similarity between the question's predicate and an answer's clause ('people died' "
        "against 'were ordered to leave their homes': 0.29) for the answer to count as tied to what is asked.",
    )
    max_question_chars: int = Field(
        2000, ge=100, description="Longest question (or search query) answered; a longer one is refused at once."
    )


class LLMSettings(Section):
    """The model behind the ``openai`` and ``local`` engines."""

    base_url: str = Field(
        "", description="OpenAI-compatible endpoint for engine=openai, e.g. http://127.0.0.1:8080/v1."
    )
    model: str = Field("", description="Model name sent to the endpoint (engine=openai).")
    api_key_env: str = Field(
        "OPENAI_API_KEY", description="Environment variable holding the endpoint's API key (may be unset locally)."
    )
    model_path: Path | None = Field(None, description="GGUF model file for engine=local.")
    context_size: int = Field(4096, ge=512, le=131072, description="Context window in tokens.")
    threads: int = Field(2, ge=1, le=256, description="CPU threads for llama.cpp (engine=local).")
    parallel: int = Field(
        2, ge=1, le=16, description="Answers llama.cpp generates at once (engine=local); each gets context_size."
    )
    max_tokens: int = Field(160, ge=16, le=4096, description="Most tokens an answer may have.")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="Sampling temperature (0: always the likeliest).")
    timeout_s: float = Field(120.0, gt=0, description="Seconds one generation may take before it is abandoned.")
    evidence: Evidence = Field(
        Evidence.SENTENCES,
        description="What the model reads: the sentence selector's best sentences (llm.evidence_sentences of "
        "them, with their article's number, title and date; prompt short_answer) or the passages cut to "
        "llm.evidence_tokens (prompt grounded_answer).",
    )
    evidence_sentences: int = Field(
        5,
        ge=1,
        le=12,
        description="Most sentences the model reads with evidence=sentences: the best three, then those the "
        "selector finds likely to answer.",
    )
    evidence_tokens: int = Field(
        450,
        ge=64,
        description="Token budget for passage text in the prompt with evidence=passages: each passage is cut to "
        "its sentences closest to the question. Less evidence is a faster first token.",
    )
    fallback: bool = Field(
        True,
        description="When nothing the model wrote holds (it says the articles don't say, or no passage supports "
        "it) but the sentence selector finds an answer, answer with the extractive engine's sentences (marked "
        "so, the model's words kept) instead of refusing.",
    )
    connect_timeout_s: float = Field(5.0, gt=0, description="Seconds to wait for the endpoint to answer at all.")


class UISettings(Section):
    host: str = Field("127.0.0.1", description="Address the web UI binds to.")
    port: int = Field(7860, ge=0, le=65535, description="Port of the web UI (0 picks a free one).")
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names the web UI answers besides the loopback names and the bind address (others get "
        "400: no DNS rebinding).",
    )
    max_upload_mb: float = Field(50.0, gt=0, description="Largest file the web UI accepts as an upload.")


class APISettings(Section):
    host: str = Field("127.0.0.1", description="Address the HTTP API binds to.")
    port: int = Field(8000, ge=0, le=65535, description="Port of the HTTP API (0 picks a free one).")
    api_key_env: str = Field(
        "ASSISTANT_API_KEY",
        description="Environment variable with the bearer key clients must send; required when the API binds "
        "beyond loopback, optional (checked when set) on loopback. Beyond loopback the web UI needs it too.",
    )
    max_request_kb: float = Field(
        1000.0,
        gt=0,
        description="Largest request body of the API's chat and search endpoints (articles: max_upload_mb).",
    )
    max_upload_mb: float = Field(50.0, gt=0, description="Largest body of POST /v1/articles (records to add).")
    max_records: int = Field(
        5000, ge=1, description="Most records one POST /v1/articles may carry (more: 413, send several requests)."
    )
    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Host names the API answers to beyond loopback and its bind address (as ui.allowed_hosts).",
    )


class ChatSettings(Section):
    """Saved conversations (the web UI, the HTTP API's /v1/conversations, ``Assistant.conversations``)."""

    history: Path | None = Field(
        None, description="SQLite file of saved conversations (default: conversations.sqlite3 in the data folder)."
    )

    def history_file(self) -> Path:
        return self.history or default_data_dir() / "conversations.sqlite3"


class Settings(Section):
    """All settings of the assistant. Build it in code, or with :meth:`from_env`."""

    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    ui: UISettings = Field(default_factory=UISettings)
    api: APISettings = Field(default_factory=APISettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)

    def index_dir(self) -> Path:
        return self.index.directory or sample_index_dir()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **sections: Any) -> Settings:
        """Settings from ``ASSISTANT_*`` environment variables; keyword sections override them."""
        env = os.environ if environ is None else environ
        data: dict[str, dict[str, Any]] = {}
        for key, value in env.items():
            if key.startswith("ASSISTANT_") and "__" in key:
                section, _, name = key.removeprefix("ASSISTANT_").lower().partition("__")
                data.setdefault(section, {})[name] = value
        if env.get("ASSISTANT_INDEX"):
            data.setdefault("index", {})["directory"] = env["ASSISTANT_INDEX"]
        for section, values in sections.items():
            data.setdefault(section, {}).update(values)
        return cls.model_validate(data)
