"""The ``Assistant`` facade: open or build an index, add and remove articles, ask questions."""

from __future__ import annotations

import logging
import re
import shutil
import threading
import time
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from assistant.answer import Answer, Citation
from assistant.citations import NOT_IN_ARTICLES
from assistant.extractive import ExtractiveEngine, compose
from assistant.settings import Settings
from index import Article, Filters, IndexMismatchError, IngestReport, LoadFailure, NewsIndex, load_embedder, load_paths
from index.text import keywords

log = logging.getLogger(__name__)

_REFERRING = re.compile(r"\b(it|its|they|them|their|he|she|his|her|this|that|these|those|there|then)\b", re.I)


def sample_articles_path() -> Path:
    """The bundled sample articles (a JSONL file inside the installed package)."""
    return Path(str(resources.files("assistant") / "samples" / "articles.jsonl"))


def sample_testset_path() -> Path:
    """The shipped test set over the bundled sample articles."""
    return Path(str(resources.files("assistant") / "samples" / "testset.jsonl"))


def retrieval_query(question: str, history: Sequence[tuple[str, str]] | None) -> str:
    """The question, preceded by the previous question when it reads as a follow-up
    ("and when did they stall?"): it refers back with a pronoun or has two content words or fewer."""
    if not history:
        return question
    if _REFERRING.search(question) or len(keywords(question)) <= 2:
        return f"{history[-1][0]} {question}"
    return question


class Assistant:
    """Question answering over an index of news articles.

    >>> bot = Assistant.open("my-index")            # doctest: +SKIP
    >>> bot.ask("What channels did the US use?").text  # doctest: +SKIP
    """

    def __init__(self, index: NewsIndex, settings: Settings) -> None:
        self.index = index
        self.settings = settings
        self.engine = ExtractiveEngine(index, index.embedder, settings.answer)
        self._lock = threading.RLock()  # the web UI calls from worker threads; writes must not interleave

    # ---- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        directory: str | Path | None = None,
        settings: Settings | None = None,
        create: bool = False,
        progress: bool = False,
    ) -> Assistant:
        """Open the index at ``directory`` (default: ``settings.index.directory``, else the sample
        index, which is built from the bundled articles the first time)."""
        settings = settings or Settings()
        if directory is not None:
            settings = settings.model_copy(
                update={"index": settings.index.model_copy(update={"directory": Path(directory)})}
            )
        path = settings.index_dir()
        is_sample = settings.index.directory is None
        embedder = load_embedder(settings.index.embed_model)

        def open_index() -> NewsIndex:
            return NewsIndex.open(
                path,
                embedder,
                settings.index.max_tokens,
                settings.index.overlap_tokens,
                create=create or is_sample,
                embed_cache=settings.index.embed_cache,
                vector_index=settings.index.vector_index,
                approximate_above=settings.index.approximate_above,
            )

        try:
            index = open_index()
        except IndexMismatchError:
            if not is_sample:
                raise
            log.info("the sample index in %s was built with other settings; rebuilding it", path)
            shutil.rmtree(path)  # built from the bundled articles, so nothing is lost
            index = open_index()
        bot = cls(index, settings)
        if is_sample and index.manifest.articles == 0:
            log.info("building the sample index in %s", path)
            bot.add([sample_articles_path()], progress=progress)
        return bot

    @classmethod
    def build(
        cls,
        paths: Iterable[str | Path],
        directory: str | Path,
        settings: Settings | None = None,
        progress: bool = False,
    ) -> Assistant:
        """Create (or extend) the index at ``directory`` from article files and folders."""
        bot = cls.open(directory, settings, create=True)
        bot.add(paths, progress=progress)
        return bot

    # ---- articles ------------------------------------------------------------------------
    def add(self, items: Iterable[str | Path | Article | LoadFailure], progress: bool = False) -> IngestReport:
        """Add articles from paths (files, folders) or ``Article`` objects (``LoadFailure`` items are
        just reported). Unreadable files are reported in ``IngestReport.failures`` and skipped."""

        def expand() -> Iterable[Article | LoadFailure]:
            for item in items:
                if isinstance(item, Article | LoadFailure):
                    yield item
                else:
                    yield from load_paths([item])

        with self._lock:
            report = self.index.add(expand(), progress=progress)
        log.info("ingest: %s", report.summary())
        return report

    def remove(self, ids: Iterable[str]) -> list[str]:
        """Remove articles by id (or by record id, URL or path); returns the ids removed."""
        with self._lock:
            return self.index.remove(ids)

    def info(self) -> dict[str, Any]:
        """Index statistics: its folder, counts, model and chunk settings."""
        m = self.index.manifest
        return {
            "directory": str(self.index.directory),
            "articles": m.articles,
            "passages": m.passages,
            "embed_model": m.embed_model,
            "dimension": m.dimension,
            "chunk": m.chunk,
            "updated": m.updated,
            "package_version": m.package_version,
        }

    # ---- questions -----------------------------------------------------------------------
    def ask(
        self, question: str, history: Sequence[tuple[str, str]] | None = None, filters: Filters | None = None
    ) -> Answer:
        """Answer ``question`` from the articles; ``history`` holds earlier (question, answer) turns;
        ``filters`` limits the articles searched (source, date range, article ids)."""
        with self._lock:
            return self._ask(question.strip(), history, filters)

    def _ask(self, question: str, history: Sequence[tuple[str, str]] | None, filters: Filters | None) -> Answer:
        t0 = time.perf_counter()
        query = retrieval_query(question, history)
        query_vector = self.index.embedder.embed([query])[0]
        retrieval = self.settings.retrieval
        hits = self.index.search(query, retrieval.top_k, retrieval.options(), filters, vector=query_vector)
        t1 = time.perf_counter()
        extract = self.engine.select(question, query_vector, hits) if question else None
        t2 = time.perf_counter()
        if extract is None or not extract.answered:  # say so, and show the nearest passages
            text, citations = NOT_IN_ARTICLES, []
            related = [Citation.from_hit(i + 1, hit) for i, hit in enumerate(hits[:3])]
        else:
            text, markers, support = compose(extract, hits)
            citations = [
                Citation.from_hit(n, hits[i], support[i]) for i, n in sorted(markers.items(), key=lambda x: x[1])
            ]
            related = [Citation.from_hit(0, hit) for i, hit in enumerate(hits) if i not in markers]
        return Answer(
            question=question,
            text=text,
            answered=bool(citations),
            citations=citations,
            related=related,
            query=query,
            timings=self._timings(t0, t1, t2),
        )

    @staticmethod
    def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
        return {
            "retrieve_ms": round((t1 - t0) * 1000, 1),
            "answer_ms": round((t2 - t1) * 1000, 1),
            "total_ms": round((time.perf_counter() - t0) * 1000, 1),
        }
