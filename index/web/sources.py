"""Feeds and web pages as remembered sources of articles, and their refresh (issue 26).

A *source* is a URL the user added: a feed (each entry's link is fetched as a page) or a single
page (or PDF). The index remembers each in ``DIR/sources.json``: its kind and title, the validators
of its last response (ETag, Last-Modified), when it was fetched and how that went, how often it has
failed in a row and when it may be tried again, and the articles it brought (link → article key).

:func:`refresh` fetches outside the write lock (questions and other writers go on), then takes the
lock once to add the articles and write ``sources.json``:

- a source is fetched conditionally: a 304 costs no parsing and no embedding;
- a feed's entries already seen are not fetched again; a new entry's page becomes an article keyed
  by its canonical URL (:func:`index.web.feeds.canonical_url`), with the entry's title, date, author and
  summary filling what the page lacks; a page whose text changed replaces its old version, an
  unchanged one is skipped by content;
- a failing source (DNS, timeout, HTTP error, not a feed) is reported with its reason and skipped by
  later refreshes for ``retry_minutes``, doubling per failure up to a day, and never stops the others;
- a refresh stops fetching at ``max_articles`` pages, ``max_refresh_mb`` or ``max_refresh_minutes``;
  what it did not reach waits for the next one.

``trusted`` sources (added through the CLI by the machine's own user) may live on a private host:
their own host is fetched even when ``sources.allow_private`` is off; links to other hosts are not.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from index.disk.files import fsync_dir, write_synced
from index.errors import AssistantError, UnreadableArticleError
from index.reading.loaders import html_article, pdf_article
from index.reading.safe_read import LoadFailure, decode
from index.records import Article
from index.settings import SourcesSettings
from index.web.feeds import Entry, canonical_url, clean_url, read_feed
from index.web.fetch import Fetcher, FetchError, Response
from index.writer import IngestReport

SOURCES_NAME = "sources.json"
MAX_BACKOFF = timedelta(days=1)
FETCH_THREADS = 4


@dataclass
class Source:
    url: str
    kind: str = ""  # "feed" or "page", known after the first fetch
    title: str = ""
    trusted: bool = False
    added: str = ""
    etag: str = ""
    last_modified: str = ""
    fetched_at: str = ""
    status: str = "not fetched yet"
    failures: int = 0  # in a row
    retry_after: str = ""  # ISO time; empty: any time
    articles: dict[str, str] = field(default_factory=dict)  # link → article key

    @property
    def failing(self) -> bool:
        return self.failures > 0


@dataclass
class SourceReport:
    url: str
    status: str
    new: int = 0  # pages fetched and handed to the index
    skipped: bool = False  # waiting for its retry time


@dataclass
class RefreshReport:
    sources: list[SourceReport] = field(default_factory=list)
    ingest: IngestReport = field(default_factory=IngestReport)
    requests: int = 0
    bytes: int = 0
    seconds: float = 0.0
    stopped: str = ""  # the limit that stopped fetching, if one did

    def summary(self) -> str:
        failed = sum(1 for s in self.sources if s.status.startswith("failed"))
        stop = f"; stopped at {self.stopped}" if self.stopped else ""
        return (
            f"{len(self.sources)} sources ({failed} failed), {self.requests} requests, {self.bytes:,} bytes in "
            f"{self.seconds:.1f} s{stop}; articles: {self.ingest.summary()}"
        )


def _reason(error: Exception) -> str:
    """Why a fetch failed, in a few words (an unexpected error by its type, as a hostile page may cause)."""
    if isinstance(error, FetchError):
        return error.reason
    if isinstance(error, AssistantError):
        return str(error)
    return f"unreadable ({type(error).__name__}: {str(error)[:200]})"


def is_url(item: object) -> bool:
    return isinstance(item, str) and item.strip().lower().startswith(("http://", "https://"))


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


# ---- the book of sources ------------------------------------------------------------------------
def load(directory: Path) -> dict[str, Source]:
    """The sources remembered in ``directory`` (none when the file is missing)."""
    path = directory / SOURCES_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise AssistantError(f"{path} cannot be read ({e}); move it away to start the sources afresh") from e
    names = {f.name for f in dataclasses.fields(Source)}
    return {s["url"]: Source(**{k: v for k, v in s.items() if k in names}) for s in data.get("sources", [])}


def save(directory: Path, sources: dict[str, Source]) -> None:
    """Write the sources durably (a temporary file renamed over the old one)."""
    path = directory / SOURCES_NAME
    temporary = path.with_suffix(f".tmp{os.getpid()}")
    payload = {"version": 1, "sources": [dataclasses.asdict(s) for s in sources.values()]}
    write_synced(temporary, json.dumps(payload, indent=1, ensure_ascii=False))
    os.replace(temporary, path)
    fsync_dir(directory)


# ---- fetching ------------------------------------------------------------------------------------
class _Budget:
    def __init__(self, settings: SourcesSettings) -> None:
        self.pages = settings.max_articles
        self.bytes = int(settings.max_refresh_mb * 1_000_000)
        self.deadline = time.monotonic() + 60 * settings.max_refresh_minutes
        self.used_bytes = 0
        self.stopped = ""
        self.lock = threading.Lock()

    def take_page(self) -> bool:
        with self.lock:
            if not self.stopped:
                if self.pages <= 0:
                    self.stopped = "sources.max_articles"
                elif self.used_bytes >= self.bytes:
                    self.stopped = "sources.max_refresh_mb"
                elif time.monotonic() > self.deadline:
                    self.stopped = "sources.max_refresh_minutes"
            if self.stopped:
                return False
            self.pages -= 1
            return True

    def spend(self, response: Response) -> None:
        with self.lock:
            self.used_bytes += len(response.body)


def page_article(response: Response, entry: Entry | None, source: str) -> Article:
    """The article of a fetched page or PDF, keyed by its canonical URL; ``entry`` (its feed's
    entry) fills the title, date, author and, when the page has none, the text."""
    metadata: dict[str, object] = {"source_url": source}
    if response.kind == "pdf":
        key = clean_url(response.url)
        article = pdf_article(response.body, key, metadata)
    else:
        html = decode(response.body, response.url)
        key = canonical_url(html, response.url)
        try:
            article = html_article(html, key, metadata)
        except UnreadableArticleError:
            if not entry or len(entry.summary.split()) < 5:
                raise
            article = Article(text=entry.summary, title=entry.title, key=key, metadata=metadata)
    fill = {
        "url": key,
        "title": article.title or (entry.title if entry else ""),
        "date": article.date or (entry.date if entry else ""),
        "source": article.source or (urlsplit(key).hostname or ""),
    }
    if entry and entry.author and not article.authors:
        fill["authors"] = (entry.author,)  # type: ignore[assignment]
    return dataclasses.replace(article, **fill)  # type: ignore[arg-type]


def _trusted_host(source: Source) -> str:
    return urlsplit(source.url).netloc.lower() if source.trusted else ""


def _fetch_source(
    fetcher: Fetcher, source: Source, settings: SourcesSettings, budget: _Budget
) -> tuple[SourceReport, list[Article | LoadFailure], dict[str, str]]:
    """Fetch one source: its report, its new articles (or failures) and their link → key."""
    trusted = _trusted_host(source)
    response = fetcher.get(source.url, source.etag, source.last_modified, trusted)
    budget.spend(response)
    source.etag, source.last_modified = response.etag or source.etag, response.last_modified or source.last_modified
    if response.not_modified:
        return SourceReport(source.url, "not modified"), [], {}
    if response.kind != "feed":
        source.kind = "page"
        article = page_article(response, None, source.url)
        source.title = article.title
        return SourceReport(source.url, "ok", 1), [article], {source.url: article.key}
    feed = read_feed(response.body, response.url, settings.max_articles)
    source.kind, source.title = "feed", feed.title or source.title
    new = [e for e in feed.entries if e.link not in source.articles]
    items: list[Article | LoadFailure] = []
    links: dict[str, str] = {}
    lock = threading.Lock()

    def one(entry: Entry) -> None:
        if not budget.take_page():
            return
        try:
            page = fetcher.get(entry.link, trusted_host=trusted)
            budget.spend(page)
            article = page_article(page, entry, source.url)
        except Exception as e:  # noqa: BLE001 (one bad page is reported; the feed's others still come)
            with lock:
                items.append(LoadFailure(entry.link, _reason(e)))
            return
        with lock:
            items.append(article)
            links[entry.link] = article.key

    with ThreadPoolExecutor(FETCH_THREADS) as pool:
        list(pool.map(one, new))
    return SourceReport(source.url, "ok", len(links)), items, links


def refresh(
    index: object,
    directory: Path,
    settings: SourcesSettings,
    urls: Iterable[str] | None = None,
    add: Iterable[str] = (),
    trusted: bool = False,
    fetcher: Fetcher | None = None,
    also: Iterable[Article | LoadFailure] = (),
) -> RefreshReport:
    """Refresh the remembered sources (``urls``: only these; None: all of them), after adding the
    new sources ``add`` (``trusted``: typed by the machine's user). ``index`` is the
    :class:`~index.news_index.NewsIndex` the articles go into (under its write lock), with ``also``
    (articles read from files beside the URLs: one lock, one generation for both)."""
    started = time.monotonic()
    report = RefreshReport()
    book = load(directory)
    wanted = [clean_url(u) for u in add]
    for url in wanted:
        if url not in book:
            book[url] = Source(url, trusted=trusted, added=_now().isoformat())
        elif trusted:
            book[url].trusted = True
    chosen = set(wanted) | ({clean_url(u) for u in urls} if urls is not None else set(book))
    unknown = sorted(u for u in chosen if u not in book)
    if unknown:
        raise AssistantError(f"no such source: {', '.join(unknown)} (see `assistant sources`)")
    budget = _Budget(settings)
    own = fetcher or Fetcher(settings.fetch_limits())
    items: list[Article | LoadFailure] = []
    done: dict[str, tuple[Source, dict[str, str]]] = {}
    now = _now()
    try:
        for url in sorted(chosen):
            source = dataclasses.replace(book[url], articles=dict(book[url].articles))
            if source.retry_after and datetime.fromisoformat(source.retry_after) > now and url not in wanted:
                report.sources.append(SourceReport(url, f"waiting until {source.retry_after}", skipped=True))
                continue
            source.fetched_at = _now().isoformat()
            try:
                one, found, links = _fetch_source(own, source, settings, budget)
                source.status, source.failures, source.retry_after = one.status, 0, ""
            except Exception as e:  # noqa: BLE001 (one bad source is reported; the others are still fetched)
                reason = _reason(e)
                source.failures += 1
                delay = min(timedelta(minutes=settings.retry_minutes) * 2 ** (source.failures - 1), MAX_BACKOFF)
                source.status = f"failed: {reason}"
                source.retry_after = (_now() + delay).isoformat()
                one, found, links = SourceReport(url, source.status), [LoadFailure(url, reason)], {}
            report.sources.append(one)
            items += found
            done[url] = (source, links)
    finally:
        report.requests, report.bytes = own.requests, budget.used_bytes
        if fetcher is None:
            own.close()
    report.stopped = budget.stopped
    with index.writing() as writer:  # type: ignore[attr-defined]
        report.ingest = writer.add(itertools.chain(also, items), label="Fetched")
        latest = load(directory)  # another refresh may have written meanwhile: merge into the newest
        for url in wanted:
            latest.setdefault(url, book[url])
        for url, (source, links) in done.items():
            if url in latest:
                source.articles = {**latest[url].articles, **source.articles, **links}
                latest[url] = source
        save(directory, latest)
    report.seconds = time.monotonic() - started
    return report


def remove(index: object, directory: Path, url: str, articles: bool) -> list[str]:
    """Forget the source ``url``; with ``articles``, remove the articles it brought too (their ids)."""
    key = clean_url(url)
    with index.writing() as writer:  # type: ignore[attr-defined]
        book = load(directory)
        if key not in book:
            raise AssistantError(f"no such source: {url} (see `assistant sources`)")
        source = book.pop(key)
        removed = writer.remove(source.articles.values()) if articles and source.articles else []
        save(directory, book)
    return removed
