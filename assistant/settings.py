"""One typed settings tree, passed explicitly. Environment variables are read once, in
:meth:`Settings.from_env`: ``ASSISTANT_<SECTION>__<FIELD>`` (e.g. ``ASSISTANT_RETRIEVAL__TOP_K=8``),
and ``ASSISTANT_INDEX`` for the index directory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from index import DEFAULT_MODEL, Fusion, Mode, SearchOptions

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


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndexSettings(_Section):
    directory: Path | None = Field(
        None, description="Index folder; None means the bundled sample index in the user data folder."
    )
    embed_model: str = Field(
        DEFAULT_MODEL, description="Embedding model: a registry name or a local sentence-transformers folder."
    )
    max_tokens: int = Field(200, ge=16, le=256, description="Passage size limit in the embedder's word-pieces.")
    overlap_tokens: int = Field(40, ge=0, le=128, description="Overlap between consecutive passages, in word-pieces.")
    vector_index: Literal["auto", "flat", "ivf"] = Field(
        "auto",
        description="FAISS index type: flat (exact search), ivf (approximate: k-means lists, searches nprobe of "
        "them), or auto: flat up to approximate_above passages, ivf above.",
    )
    approximate_above: int = Field(100_000, ge=0, description="Passages above which `auto` switches to IVF.")
    embed_cache: Path | None = Field(
        None,
        description="Folder of an on-disk embedding cache (keyed by model and passage text); None: no cache. "
        "Makes re-ingesting, and resuming an interrupted ingest, cost a file read per passage.",
    )


class RetrievalSettings(_Section):
    top_k: int = Field(5, ge=1, le=50, description="Passages retrieved per question.")
    mode: Mode = Field(Mode.HYBRID, description="dense, keyword (BM25) or hybrid (both, fused as `fusion` says).")
    candidates: int = Field(50, ge=1, le=1000, description="Candidates each side hands to the fusion.")
    fusion: Fusion = Field(
        Fusion.SCORES,
        description="How hybrid fuses the two sides: scores (dense_weight × normalised cosine + the rest × "
        "normalised BM25) or rrf (reciprocal rank fusion).",
    )
    dense_weight: float = Field(0.3, ge=0.0, le=1.0, description="Weight of the dense side in score fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant: score = sum 1 / (rrf_k + rank).")
    per_article: int = Field(2, ge=1, description="Most passages of one article among the top_k.")
    duplicate_threshold: float = Field(
        0.95, ge=0.0, le=1.0, description="Cosine above which a passage of another article counts as a copy."
    )
    nprobe: int = Field(32, ge=1, description="IVF lists searched per query (only for an IVF vector index).")

    def options(self) -> SearchOptions:
        return SearchOptions(
            mode=self.mode,
            candidates=self.candidates,
            fusion=self.fusion,
            dense_weight=self.dense_weight,
            rrf_k=self.rrf_k,
            per_article=self.per_article,
            duplicate_threshold=self.duplicate_threshold,
            nprobe=self.nprobe,
        )


class Engine(StrEnum):
    EXTRACTIVE = "extractive"


class AnswerSettings(_Section):
    engine: Engine = Field(Engine.EXTRACTIVE, description="Answer engine.")
    max_sentences: int = Field(3, ge=1, le=10, description="Most sentences in an extractive answer.")
    min_relevance: float = Field(
        0.30,
        ge=0.0,
        le=1.0,
        description="Lowest relevance of the best evidence sentence; below it the assistant says the "
        "articles don't answer.",
    )
    require_focus: bool = Field(
        True,
        description="Answer only from sentences that hold a content word of the question not in their article's "
        "title (what is asked rather than the topic), or that are very close to the question.",
    )
    focus_cosine: float = Field(
        0.6, ge=0.0, le=1.0, description="Cosine at which a sentence counts as on focus without sharing a word."
    )
    keep_ratio: float = Field(
        0.85, ge=0.0, le=1.0, description="Further sentences are kept if they score at least this share of the best."
    )


class UISettings(_Section):
    host: str = Field("127.0.0.1", description="Address the web UI binds to.")
    port: int = Field(7860, ge=0, le=65535, description="Port of the web UI (0 picks a free one).")


class Settings(_Section):
    """All settings of the assistant. Build it in code, or with :meth:`from_env`."""

    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    ui: UISettings = Field(default_factory=UISettings)

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
