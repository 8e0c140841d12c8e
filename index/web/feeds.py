"""RSS (0.9x, 1.0, 2.0) and Atom feeds, read with ``feedparser``, and what a web article is keyed by.

:func:`read_feed` turns a feed's bytes into its entries (link, title, date, author, summary); a body
that is no feed at all, or a broken one with no entry, is a :class:`FeedError`. feedparser resolves
no external entities and fetches nothing itself (it is handed bytes that :mod:`index.web.fetch` got
under its limits).

:func:`clean_url` is the key of an article from the web: the final URL (or the page's canonical
link, see :func:`canonical_url`) without its fragment and tracking parameters (``utm_*``, ``fbclid``,
``gclid`` …), host in lower case, default port dropped, so one story reached through two campaign
links is one article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from index.errors import AssistantError
from index.reading.article_fields import iso_date

_TRACKING = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|mc_cid|mc_eid|igshid|yclid|_hsenc|_hsmi|cmpid|ref_src)$",
    re.IGNORECASE,
)


class FeedError(AssistantError):
    """A body that should be a feed is not one."""


@dataclass(frozen=True)
class Entry:
    link: str  # cleaned (clean_url)
    title: str = ""
    date: str = ""  # ISO day, or ""
    author: str = ""
    summary: str = ""  # plain text


@dataclass(frozen=True)
class Feed:
    title: str
    entries: tuple[Entry, ...]


def clean_url(url: str) -> str:
    """``url`` without fragment and tracking parameters, scheme and host in lower case, no default port."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _TRACKING.match(k)])
    return urlunsplit((scheme, netloc, parts.path or "/", query, ""))


def _same_site(a: str, b: str) -> bool:
    def host(url: str) -> str:
        return (urlsplit(url).hostname or "").lower().removeprefix("www.")

    return host(a) == host(b) != ""


def canonical_url(html: str, final_url: str) -> str:
    """The page's ``<link rel="canonical">`` (resolved against ``final_url``) when it is an http(s)
    URL on the same site — a page cannot claim another site's article — else ``final_url``; cleaned."""
    import lxml.html

    try:
        root = lxml.html.fromstring(html[:2_000_000])
    except (ValueError, lxml.etree.ParserError):
        return clean_url(final_url)
    for link in root.iter("link"):
        rels = (link.get("rel") or "").lower().split()
        href = (link.get("href") or "").strip()
        if "canonical" in rels and href:
            resolved = urljoin(final_url, href)
            if urlsplit(resolved).scheme in ("http", "https") and _same_site(resolved, final_url):
                return clean_url(resolved)
            break
    return clean_url(final_url)


def _text(html: str) -> str:
    import lxml.html

    if not html.strip():
        return ""
    try:
        return " ".join(lxml.html.fromstring(f"<div>{html}</div>").text_content().split())
    except (ValueError, lxml.etree.ParserError):
        return " ".join(re.sub(r"<[^>]*>", " ", html).split())


def read_feed(body: bytes, url: str, max_entries: int = 500) -> Feed:
    """The feed's title and its first ``max_entries`` entries that have an http(s) link (the first
    entry of each link: entries repeating a link are dropped)."""
    import feedparser

    parsed = feedparser.parse(body, response_headers={"content-location": url}, sanitize_html=True)
    if not parsed.get("version") and not parsed.entries:
        reason = parsed.get("bozo_exception")
        raise FeedError(f"not an RSS or Atom feed{f' ({reason})' if reason else ''}")
    entries, seen = [], set()
    for item in parsed.entries:
        if not (item.get("link") or "").strip():
            continue
        link = urljoin(url, item.get("link"))
        if urlsplit(link).scheme not in ("http", "https") or clean_url(link) in seen:
            continue  # one page is fetched once, however many entries link to it
        seen.add(clean_url(link))
        when = item.get("published_parsed") or item.get("updated_parsed")
        date = (
            f"{when.tm_year:04d}-{when.tm_mon:02d}-{when.tm_mday:02d}" if when else iso_date(item.get("published", ""))
        )
        summary = item.get("summary") or ""
        if not summary and item.get("content"):
            summary = item.content[0].get("value", "")
        entries.append(
            Entry(
                link=clean_url(link),
                title=" ".join((item.get("title") or "").split()),
                date=date,
                author=" ".join((item.get("author") or "").split()),
                summary=_text(summary),
            )
        )
        if len(entries) >= max_entries:
            break
    if not entries and parsed.get("bozo"):
        raise FeedError(f"not a readable feed ({parsed.get('bozo_exception')})")
    return Feed(" ".join((parsed.feed.get("title") or "").split()), tuple(entries))
