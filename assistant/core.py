"""The ``Assistant`` facade: open or build an index, add and remove articles, ask questions."""

from __future__ import annotations

import dataclasses
import logging
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from assistant.answering.answer import Answer
from assistant.answering.engines.base import AnswerEngine, Closes, create_engine
from assistant.answering.pipeline import Event, Pipeline
from assistant.answering.rewrite import History
from assistant.answering.stories.digest import Digest
from assistant.article_listing import ArticlePage, article_page
from assistant.composition import check_paths, dated, digest_since, fallback_for, judge_for, preload
from assistant.conversations import ConversationStore
from assistant.samples_index import sample_articles_path, user_additions
from assistant.settings import Settings
from assistant.web_sources import WebSources
from index import (
    DEFAULT_MODEL,
    Article,
    ArticlesNotFoundError,
    ConfigurationError,
    Filters,
    Hit,
    IndexInfo,
    IndexMismatchError,
    IngestReport,
    InvalidRequestError,
    LoadFailure,
    NewsIndex,
    PassageStore,
    count_articles,
    load_embedder,
    load_paths,
)
from index.web.sources import is_url

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AssistantInfo(IndexInfo):
    """:class:`IndexInfo` and the answer engine: its name, model and prompt version."""

    engine: str
    model: str
    prompt: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class Assistant:
    """Question answering over an index of news articles.

    >>> bot = Assistant.open("my-index")            # doctest: +SKIP
    >>> bot.ask("What channels did the US use?").text  # doctest: +SKIP
    """

    def __init__(self, index: NewsIndex, settings: Settings, engine: AnswerEngine | None = None) -> None:
        self.index = index
        self.settings = settings
        self.engine = engine or create_engine(settings, index.embedder.embed)
        self._engines: dict[str, AnswerEngine] = {self.engine.name: self.engine}
        self._conversations: ConversationStore | None = None
        self._warm = False
        # questions read a pinned generation while writers (threads or processes) publish new ones
        self.judge = judge_for(settings, self.engine)  # answers are verified with it, evaluations judged
        self._pipeline = Pipeline(index, self.engine, self.judge, settings, fallback_for(settings, self.engine, index))
        self.web = WebSources(index, settings.sources)  # feeds and pages as sources of articles

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
        # an index opens with the model it was built with unless the settings name one; the sample
        # index is rebuilt (cheap) when the default model changed, but only while it holds nothing
        # but the bundled articles: the default index is the user's once they add to it
        stored = PassageStore.load(path) if PassageStore.exists(path) else None  # its manifest read once
        recorded = stored.manifest.embed_model if stored is not None else None
        embedder = load_embedder(settings.index.embed_model or (None if is_sample else recorded) or DEFAULT_MODEL)

        def open_index(store: PassageStore | None = stored) -> NewsIndex:
            return NewsIndex.open(path, embedder, settings.index, create=create or is_sample, store=store)

        try:
            index = open_index()
        except IndexMismatchError as mismatch:
            if not is_sample:
                raise
            added = user_additions(path)
            if added and settings.index.embed_model is None and recorded and recorded != embedder.name:
                # the default model changed since the user added articles: keep theirs
                embedder = load_embedder(recorded)
                index = open_index()
            elif added:
                raise IndexMismatchError(
                    f"{mismatch} The default index holds what you added ({added}), so it is not rebuilt: "
                    "unset the differing ASSISTANT_INDEX__* setting, or build a separate index with it "
                    "(`assistant ingest --index NEW-FOLDER PATH...`)."
                ) from None
            else:
                log.info("the sample index in %s was built with other settings; rebuilding it", path)
                shutil.rmtree(path)  # it held only the bundled articles, so nothing is lost
                index = open_index(None)
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
        """Create (or extend) the index at ``directory`` from article files and folders (see
        :meth:`ingest`, which also returns the report)."""
        return cls.ingest(paths, directory, settings, progress=progress)[0]

    @classmethod
    def ingest(
        cls,
        items: Iterable[str | Path],
        directory: str | Path | None = None,
        settings: Settings | None = None,
        **options: Any,
    ) -> tuple[Assistant, IngestReport]:
        """The one ingest plan (the CLI's ``ingest`` and :meth:`build`): the paths checked before
        any index is made, the index opened (created if missing), files and URLs added in one write
        (``options``: :meth:`add`'s). A path that does not exist, or items that hold no article when
        the index is new, raise :class:`ArticlesNotFoundError` (its ``report`` says what was
        skipped) and leave no index behind; a new index that was interrupted keeps what it holds."""
        items = list(items)
        check_paths([i for i in items if not is_url(i)])  # before any index is created
        settings = settings or Settings()
        target = Path(directory) if directory is not None else settings.index_dir()
        new = not target.exists()
        bot = cls.open(directory, settings, create=True)
        try:
            report = bot.add(items, **options)
            if new and items and bot.index.manifest.articles == 0:
                missing = ArticlesNotFoundError(f"no article in {', '.join(map(str, items))}; no index was created")
                missing.report = report  # type: ignore[attr-defined]
                raise missing
        except BaseException:
            empty = bot.index.manifest.articles == 0
            bot.close()
            if new and empty:  # created by this call and holding nothing: not worth keeping
                shutil.rmtree(target, ignore_errors=True)
            raise
        return bot, report

    # ---- articles ------------------------------------------------------------------------
    def add(
        self,
        items: Iterable[str | Path | Article | LoadFailure],
        progress: bool = False,
        wait: bool | float = True,
        on_wait: Callable[[str], None] | None = None,
        ray: str | None = None,
        trusted: bool = False,
    ) -> IngestReport:
        """Add articles from paths (files, folders), ``http(s)://`` URLs of feeds or pages
        (remembered as sources, see :class:`WebSources`; ``trusted``: typed by this machine's user,
        so their hosts may be private) or ``Article`` objects (``LoadFailure`` items are just
        reported). Unreadable files are reported in ``IngestReport.failures`` and skipped.
        Takes the index's write lock: while another process writes, waits (``wait`` True), waits at
        most ``wait`` seconds, or fails at once (False) with ``IndexBusyError``; ``on_wait`` hears
        whom it waits for. Questions keep being answered meanwhile. ``ray``: split and embed with
        Ray (``"local"``: a Ray started on this machine; otherwise a Ray cluster's address)."""
        limits = self.settings.index.limits()
        urls: list[str] = []
        if isinstance(items, list | tuple):
            urls = [i for i in items if is_url(i)]  # type: ignore[misc]
            items = [i for i in items if not is_url(i)]
            check_paths([i for i in items if isinstance(i, str | Path)])
            if urls and not items:
                return self.web.add(urls, trusted).ingest

        def expand() -> Iterable[Article | LoadFailure]:
            for item in items:
                if isinstance(item, Article):
                    yield limits.check(item, item.key)
                elif isinstance(item, LoadFailure):
                    yield item
                else:
                    yield from load_paths([item], limits)

        total = None
        if progress and isinstance(items, list | tuple) and all(isinstance(i, str | Path) for i in items):
            total = count_articles(items)  # type: ignore[arg-type]
        if urls and not ray:  # files and URLs: one write lock, one published generation
            report = self.web.add(urls, trusted, also=expand()).ingest
        elif ray:
            from index.embedding.ray_ingest import ray_ingest

            address = None if ray == "local" else ray
            report = ray_ingest(
                self.index, expand(), address, progress=progress, total=total, wait=wait, on_wait=on_wait
            )
        else:
            report = self.index.add(expand(), progress=progress, total=total, wait=wait, on_wait=on_wait)
        if urls and ray:  # Ray embeds the files; the pages are fetched and added after
            report.extend(self.web.add(urls, trusted).ingest)
        log.info("ingest: %s", report.summary())
        return report

    def add_upload(self, file: str | Path, name: str, on_wait: Callable[[str], None] | None = None) -> IngestReport:
        """Add an uploaded file. Its articles are keyed by their content (or their records' ids or
        URLs), never by the upload's temporary path or file name: two different files of one name
        are two articles, and re-uploading the same file changes nothing. ``name`` is the file name
        the user chose, kept in the articles' metadata and used in failure reports."""
        return self.add_uploads([(file, name)], on_wait)[0]

    def add_uploads(
        self, files: Iterable[tuple[str | Path, str]], on_wait: Callable[[str], None] | None = None
    ) -> tuple[IngestReport, dict[str, list[str]]]:
        """Add uploaded files (``(file, name)`` pairs, see :meth:`add_upload`) in one ingest: one
        write lock, one published generation for the batch. Returns the report and, per name, the
        ids of the articles read from that file."""
        items: list[Article | LoadFailure] = []
        read: dict[str, list[str]] = {}
        for file, name in files:
            temporary = str(Path(file).resolve())
            for item in load_paths([file], self.settings.index.limits()):
                if isinstance(item, Article) and item.key == temporary:
                    item = dataclasses.replace(item, key=item.id, metadata={**item.metadata, "path": name})
                elif isinstance(item, LoadFailure):
                    item = LoadFailure(item.location.replace(temporary, name), item.reason)
                if isinstance(item, Article):
                    read.setdefault(name, []).append(item.id)
                items.append(item)
        return self.add(items, on_wait=on_wait), read

    def remove(
        self, ids: Iterable[str], wait: bool | float = True, on_wait: Callable[[str], None] | None = None
    ) -> list[str]:
        """Remove articles by id (or by record id, URL or path); returns the ids removed. The
        write lock is taken as in :meth:`add`."""
        return self.index.remove(ids, wait=wait, on_wait=on_wait)

    def articles(self, query: str = "", offset: int = 0, limit: int = 20) -> ArticlePage:
        """The articles whose title, source, date, id or key (or a merged copy's) contains ``query``
        (any case), newest first, ``limit`` of them from ``offset``."""
        self.index.refresh()
        return article_page(self.index.snapshot(), query, offset, limit)

    def info(self) -> AssistantInfo:
        """What the index holds and was built with (the newest generation on disk: see
        :class:`IndexInfo`) and the answer engine, model and prompt version."""
        self.index.refresh()
        return AssistantInfo(
            **dataclasses.asdict(self.index.info()),
            engine=self.engine.name,
            model=self.engine.model,
            prompt=self.engine.prompt,
        )

    # ---- questions -----------------------------------------------------------------------
    def search(
        self, query: str, k: int | None = None, filters: Filters | None = None, as_of: str | date | None = None
    ) -> list[Hit]:
        """The passages retrieval finds for ``query`` (the newest generation), best first, as of
        ``as_of`` (see :meth:`ask`)."""
        self._check_length(query)
        self.index.refresh()
        return self.index.search(query, k, self.settings.retrieval, dated(filters, as_of))

    @property
    def engines(self) -> list[str]:
        """The engines this assistant can answer with: the configured one, and extractive."""
        return sorted({self.engine.name, "extractive"})

    def _engine(self, name: str | None) -> AnswerEngine:
        if name is None or name == self.engine.name:
            return self.engine
        if name not in self.engines:
            raise ConfigurationError(f"engine {name!r} is not configured here; choose one of {self.engines}")
        if name not in self._engines:  # the instant, no-model engine is always available
            self._engines[name] = create_engine(
                self.settings.model_copy(update={"answer": self.settings.answer.model_copy(update={"engine": name})}),
                self.index.embedder.embed,
            )
        return self._engines[name]

    def ask(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | None = None,
        engine: str | None = None,
        as_of: str | date | None = None,
    ) -> Answer:
        """Answer ``question`` from the articles; ``history`` holds earlier (question, answer) turns;
        ``filters`` limits the articles searched (source, date range, article ids); ``engine`` picks
        one of :attr:`engines` for this question (default: the configured one). The question is
        asked as of ``as_of`` (a day, YYYY-MM-DD; default ``filters.as_of``, else today): articles
        dated after it are never used, its time words ("last week") are read against it, and
        articles near it (or near the days it names) rank higher (``retrieval.date_prior``)."""
        self._check_length(question)
        return self._pipeline.ask(question, history, dated(filters, as_of), self._engine(engine))

    def stream(
        self,
        question: str,
        history: History | None = None,
        filters: Filters | None = None,
        engine: str | None = None,
        as_of: str | date | None = None,
    ) -> Iterator[Event]:
        """Answer ``question`` step by step: yields ``Rewritten`` (the standalone question),
        ``Retrieved`` (the passages), ``Token`` (answer text as it is written) and last ``Finished``
        (the verified ``Answer``)."""
        self._check_length(question)
        return self._pipeline.stream(question, history, dated(filters, as_of), self._engine(engine))

    def story(self, article_id: str, as_of: str | date | None = None) -> Answer:
        """The timeline of the story an article belongs to (its reports up to ``as_of``, one verified,
        dated line each): "this story" from any citation."""
        return self._pipeline.story(article_id, dated(None, as_of))

    def digest(self, since: str | date | None = None, as_of: str | date | None = None) -> Digest:
        """What's new: the stories with reports dated from ``since`` ("yesterday" by default, a day,
        "N days", "last refresh") to ``as_of`` (today by default), each with its newest report's
        first sentence, cited, and how many reports it has."""
        day = date.fromisoformat(str(dated(None, as_of).as_of))
        fetched = max((row.fetched_at for row in self.web.list()), default="")
        return self._pipeline.digest(digest_since(since, day, fetched), day)

    def _check_length(self, question: str) -> None:
        limit = self.settings.answer.max_question_chars
        if len(question) > limit:
            raise InvalidRequestError(
                f"the question has {len(question):,} characters, over the limit of {limit:,} "
                "(setting answer.max_question_chars)"
            )

    def preload(self) -> threading.Thread:
        """Load in a background thread what a first question needs: the embedding model's session and
        the engine's models (see :func:`assistant.composition.preload`)."""
        return preload(self.index.embedder.embed, self.engine)

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for (the embedding model, the judge's
        word lists) by answering one throwaway question with the extractive engine. Servers call
        this before they accept requests; a second call does nothing."""
        if not self._warm:
            self.ask("What happened?", engine="extractive")
            self._warm = True

    @property
    def conversations(self) -> ConversationStore:
        """The saved conversations (``chat.history``), opened on first use."""
        if self._conversations is None:
            self._conversations = ConversationStore(self.settings.chat.history_file())
        return self._conversations

    def close(self) -> None:
        """Stop the engine's model server, if it runs one, the refresh schedule, and close the
        conversation store."""
        self.web.stop()
        if isinstance(self.engine, Closes):
            self.engine.close()
        if self._conversations is not None:
            self._conversations.close()
