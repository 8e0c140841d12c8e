"""The index's typed settings sections. ``assistant.Settings`` holds them as its ``index`` and
``retrieval`` sections; the index takes them whole, so each default lives here and only here."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from index.embedding.embedder import DEFAULT_MODEL
from index.reading.safe_read import Limits
from index.retrieval import Fusion, Mode
from index.web.fetch import USER_AGENT, FetchLimits


class Section(BaseModel):
    """A settings section: unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class IndexSettings(Section):
    directory: Path | None = Field(
        None, description="Index folder; None means the bundled sample index in the user data folder."
    )
    embed_model: str | None = Field(
        None,
        description="Embedding model: a registry name or a local sentence-transformers folder; None: the one "
        f"an existing index was built with, {DEFAULT_MODEL} for a new index.",
    )
    max_tokens: int = Field(200, ge=16, le=256, description="Passage size limit in the embedder's word-pieces.")
    overlap_tokens: int = Field(40, ge=0, le=128, description="Overlap between consecutive passages, in word-pieces.")
    sentence_vectors: bool = Field(
        True,
        description="Embed each passage's sentences at ingest and store their vectors (float16) beside the "
        "passages, so extractive answers never embed a sentence again; about doubles the embedding work of an "
        "ingest and adds ~6 KB per passage.",
    )
    sentence_vectors_from_passage: bool = Field(
        False,
        description="Take each sentence's vector from its passage's own pass of the model (the mean of its "
        "word pieces' states there) instead of embedding every sentence again: one pass per passage, an ingest "
        "1.8x faster (300 RealTime QA articles with the embedding workers: 7.7 against 4.3 articles/s). Off by "
        "default: such vectors carry their passage's context (cosine 0.68 on average with a sentence's own "
        "pass); short-answer precision fell with them (BBC 0.680 to 0.630, RealTime QA 0.609 to 0.576), and a "
        "sentence selector retrained on them ranked worse than the shipped one on its own vectors (top sentence "
        "holds the answer 0.558 against 0.576, cross-validated on 494 RealTime QA questions); see "
        "docs/benchmarks.md.",
    )
    store: str | None = Field(
        None,
        description="Where a new index keeps its vectors and keyword postings: None (or 'faiss'): FAISS and BM25 "
        "files in the index folder; a Milvus Lite file (ending in .db) or 'milvus://host:port' (a Milvus server "
        "or cluster): a Milvus collection. The article docstore stays in the index folder; an existing index "
        "keeps the store it was built with.",
    )
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
    ingest_processes: int | None = Field(
        None,
        ge=1,
        le=16,
        description="Worker processes that embed a big ingest (one onnxruntime thread each; ONNX embedders "
        "only). None: one per CPU, at most 4. They start only when an ingest has a full batch of passages to "
        "embed (128), so one-article uploads and questions never wait for them; 1: embed in this process. Two "
        "processes embedded 1.45x the passages per second of one process with two threads on 2 cores, with the "
        "same vectors.",
    )
    copy_similarity: float = Field(
        0.8,
        ge=0.0,
        le=1.0,
        description="Resemblance (Jaccard of word 3-shingles) at which a new article counts as a near-identical "
        "copy of an indexed one (the same story as HTML and PDF, one wire story from two outlets): it is kept "
        "as a copy of that article, listed with it, and not indexed again. 0: every article is indexed.",
    )
    max_file_mb: float = Field(
        100.0, gt=0, description="Largest file read whole (txt, md, html, json, pdf); JSONL is streamed, no limit."
    )
    max_article_chars: int = Field(
        1_000_000, ge=1000, description="Longest article text (a record or a file); longer ones are skipped."
    )

    max_pdf_pages: int = Field(300, ge=1, description="Most pages of a PDF read as one article; longer ones fail.")
    max_parse_s: float = Field(
        20.0, gt=0, description="Longest one PDF may take to read (it fails by name, and the write lock is freed)."
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> IndexSettings:
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError(
                f"overlap_tokens ({self.overlap_tokens}) must be smaller than max_tokens ({self.max_tokens})"
            )
        return self

    def limits(self) -> Limits:
        return Limits(
            int(self.max_file_mb * 1_000_000),
            self.max_article_chars,
            max_pdf_pages=self.max_pdf_pages,
            max_parse_s=self.max_parse_s,
        )


class RetrievalSettings(Section):
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
    date_prior: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="With an as-of day, how much an article's date weighs in ranking: its score is multiplied by "
        "1 - date_prior + date_prior * closeness, closeness being 1 inside the window the question's time words "
        "name ('last week', 'in March 2021') or, with none, on the as-of day, halving every "
        "recency_half_life_days away from it. 0: off.",
    )
    window_prior: float = Field(
        0.6,
        ge=0.0,
        le=1.0,
        description="The same weight when the question names its time ('last week', 'in March 2021'): such words "
        "say more than 'news is about now'. Not a filter: an article written later about those days still counts.",
    )
    recency_half_life_days: float = Field(30.0, gt=0, description="Days after which an article's closeness halves.")
    nprobe: int = Field(32, ge=1, description="IVF lists searched per query (only for an IVF vector index).")


class SourcesSettings(Section):
    """Articles from the web: feeds and pages (``index/fetch.py``, ``index/sources.py``)."""

    allow_private: bool = Field(
        False,
        description="Let the web UI and the HTTP API fetch from loopback, private, link-local and other non-public "
        "addresses (intranet news). The CLI always may fetch the URLs its user types.",
    )
    user_agent: str = Field(
        USER_AGENT,
        min_length=1,
        description="User agent sent with every request and matched against robots.txt.",
    )
    connect_timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds to wait for a connection.")
    timeout_s: float = Field(20.0, gt=0, le=600, description="Seconds one response may take in all.")
    max_response_mb: float = Field(10.0, gt=0, le=1000, description="Largest response read (a page, feed or PDF).")
    max_redirects: int = Field(5, ge=0, le=5, description="Redirects followed per request.")
    per_host: int = Field(2, ge=1, le=4, description="Requests at once to one host.")
    host_delay_s: float = Field(0.5, ge=0, le=60, description="Seconds between the starts of two requests to one host.")
    max_articles: int = Field(500, ge=1, description="Most pages fetched in one refresh (the rest wait for the next).")
    max_refresh_mb: float = Field(200.0, gt=0, description="Most bytes downloaded in one refresh.")
    max_refresh_minutes: float = Field(15.0, gt=0, description="Longest a refresh fetches before it stops.")
    retry_minutes: float = Field(
        5.0, gt=0, description="A failing source is retried after this, doubling per failure up to a day."
    )

    def fetch_limits(self) -> FetchLimits:
        return FetchLimits(
            user_agent=self.user_agent,
            connect_timeout_s=self.connect_timeout_s,
            timeout_s=self.timeout_s,
            max_bytes=int(self.max_response_mb * 1_000_000),
            max_redirects=self.max_redirects,
            per_host=self.per_host,
            host_delay_s=self.host_delay_s,
            allow_private=self.allow_private,
        )
