"""Feeds and web pages as sources of an assistant's articles: add, list, refresh, remove (issue 26).

``Assistant.add(["https://…"])`` comes here for its URLs; ``Assistant.web`` is a :class:`WebSources`.
The work is :mod:`index.web.sources`' (fetching under limits and the address guard, remembering each
source with its validators and articles, refreshing conditionally); this adds the background
schedule servers use (``serve --refresh-every``, ``api --refresh-every``).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from index import Article, LoadFailure, NewsIndex, SourcesSettings
from index.web.sources import RefreshReport, Source, load, refresh, remove

log = logging.getLogger(__name__)

_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")


def parse_every(text: str) -> float:
    """Seconds in "30m", "2h", "90s", "1d" or a bare number of minutes; at least 60 s."""
    m = _EVERY.match(text.lower())
    if not m:
        raise ValueError(f"not a duration: {text!r} (use 30m, 2h, 1d)")
    seconds = float(m.group(1)) * {"s": 1, "m": 60, "": 60, "h": 3600, "d": 86400}[m.group(2)]
    if seconds < 60:
        raise ValueError(f"refreshing more often than once a minute is not polite: {text!r}")
    return seconds


@dataclass(frozen=True)
class SourceRow:
    """One remembered source, for lists: what ``assistant sources`` and the Articles tab show."""

    url: str
    kind: str
    title: str
    status: str
    fetched_at: str
    articles: int
    retry_after: str

    @classmethod
    def of(cls, s: Source) -> SourceRow:
        return cls(s.url, s.kind, s.title, s.status, s.fetched_at, len(s.articles), s.retry_after)


class WebSources:
    """The web sources of one index."""

    def __init__(self, index: NewsIndex, settings: SourcesSettings) -> None:
        self.index = index
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last: RefreshReport | None = None  # the background schedule's last refresh

    def add(
        self, urls: Iterable[str], trusted: bool = False, also: Iterable[Article | LoadFailure] = ()
    ) -> RefreshReport:
        """Remember ``urls`` as sources and fetch them now. ``trusted``: typed by this machine's user
        (the CLI): their own hosts may be private addresses. ``also``: articles from files to add in
        the same ingest (one write lock, one generation)."""
        return refresh(
            self.index, self.index.directory, self.settings, urls=[], add=list(urls), trusted=trusted, also=also
        )

    def refresh(self, urls: Iterable[str] | None = None) -> RefreshReport:
        """Fetch the remembered sources again (``urls``: only these), conditionally."""
        report = refresh(self.index, self.index.directory, self.settings, urls=urls)
        self.index.refresh()
        return report

    def list(self) -> list[SourceRow]:
        return [SourceRow.of(s) for s in load(self.index.directory).values()]

    def remove(self, url: str, articles: bool = False) -> list[str]:
        """Forget a source; with ``articles`` also remove the articles it brought (their ids)."""
        return remove(self.index, self.index.directory, url, articles)

    # ---- the schedule --------------------------------------------------------------------
    def refresh_every(self, seconds: float) -> None:
        """Refresh all sources every ``seconds`` in a background thread (until :meth:`stop`)."""
        if self._thread is not None:
            return

        def run() -> None:
            while not self._stop.wait(seconds):
                try:
                    self.last = self.refresh()
                    log.info("refresh: %s", self.last.summary())
                except Exception as e:  # noqa: BLE001 (a failed refresh is logged; the next one runs)
                    log.warning("refresh failed: %s", e)

        self._thread = threading.Thread(target=run, name="refresh-sources", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
