"""The collection as the Articles tab and the HTTP API list it: a page of articles matching a query,
newest first, with their passage counts and where their near-identical copies came from."""

from __future__ import annotations

from dataclasses import dataclass

from index import Article, NewsIndex


@dataclass(frozen=True)
class ArticleRow:
    """One article of the collection, as the Articles tab and the HTTP API list it."""

    id: str
    title: str
    source: str
    date: str
    url: str
    key: str
    passages: int
    copies: tuple[str, ...] = ()  # where its near-identical copies came from (source, file name or URL)


@dataclass(frozen=True)
class ArticlePage:
    """A page of :meth:`Assistant.articles`: ``total`` matching articles, ``rows`` of them."""

    total: int
    rows: list[ArticleRow]


def article_page(index: NewsIndex, query: str = "", offset: int = 0, limit: int = 20) -> ArticlePage:
    """The articles of ``index`` (a snapshot) whose title, source, date, id or key (or a merged
    copy's) contains ``query`` (any case), newest first, ``limit`` of them from ``offset``."""
    needle = query.strip().lower()

    def matches(a: Article) -> bool:
        return any(needle in x.lower() for x in (a.title, a.source, a.date, a.id, a.key))

    found = [a for a in index.headers() if not needle or matches(a) or any(matches(c) for c in a.copies)]
    found.sort(key=lambda a: (a.date, a.title), reverse=True)
    rows = [
        ArticleRow(
            a.id,
            a.title,
            a.source,
            a.date,
            a.url,
            a.key,
            len(index.passages_of(a.id)),
            tuple(c.origin for c in a.copies),
        )
        for a in found[max(offset, 0) : max(offset, 0) + max(limit, 0)]
    ]
    return ArticlePage(len(found), rows)
