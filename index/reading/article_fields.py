"""An article's fields from a record or a text: the text, title, date, source and id fields a
JSON record may use, a title made from the text when it has none, and dates in ISO form."""

from __future__ import annotations

import re
from typing import Any

from index.errors import UnreadableArticleError
from index.language.splitter import sentence_spans
from index.records import Article

_TEXT_FIELDS = ("text", "body", "content", "article")
_TITLE_FIELDS = ("title", "headline")
_DATE_FIELDS = ("date", "publish_date", "published", "published_at", "pubDate")
_SOURCE_FIELDS = ("source", "outlet", "publisher", "site", "sitename")
_ID_FIELDS = ("id", "doc_id", "article_id")


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


# "WASHINGTON –", "SAN FRANCISCO, Calif. —", "London CNN —", "Washington |", "(CNN)": where a story was
# filed, before its first sentence
_DATELINE = re.compile(
    r"^(?:\((?:CNN|AP|Reuters|AFP)[^)]{0,30}\)\s*"
    r"|(?:[A-Z]{2,}[A-Z .'-]*(?:,\s*[A-Z][a-z]+\.?)?|[A-Z][a-z]+(?: [A-Z][a-z]+){0,3}(?: CNN(?: Business)?)?)"
    r"\s*(?:\([^)]{1,30}\))?\s*[—–|]\s*)"
)
_BYLINE = re.compile(r"^(?:by|from|photo of|updated|published)\b", re.I)
TITLE_CHARS = 100


_AGENCIES = frozenset(
    "ap|associated press|reuters|afp|cnn|cnbc|bbc news|bloomberg|usa today|the associated press".split("|")
)


def derived_title(text: str) -> str:
    """A title for an article that has none: its first line that is not a dateline ("CNN —"), a
    byline ("By …"; a name followed by another short line, "Jane Roe" / "Associated Press") or a
    news agency, without a leading dateline ("WASHINGTON –"); a headline-like line whole, else its
    first sentence, cut at a word boundary."""
    lines = [line.strip().lstrip("#").strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    for i, line in enumerate(lines):
        words = line.split()
        following = len(lines[i + 1].split()) if i + 1 < len(lines) else 0
        name_block = 2 <= len(words) <= 3 and all(w[0].isupper() for w in words) and 0 < following < 4
        if (
            name_block
            or line.lower().rstrip(".") in _AGENCIES
            or line[-1] in "—–-|"
            or (_BYLINE.match(line) and len(words) <= 8)
        ):
            continue
        line = _DATELINE.sub("", line, count=1).strip() or line
        if len(line) > TITLE_CHARS or line[-1] in '.!?"”':
            spans = sentence_spans(line)
            line = line[: spans[0][1]].strip() if spans else line
        if len(line) > TITLE_CHARS:
            line = line[: TITLE_CHARS + 1].rsplit(" ", 1)[0].rstrip(",;:—–- ") + "…"
        return line
    return ""


def plain_text(text: str, title: str) -> tuple[str, str]:
    """Title from the first real line when none is given (see :func:`derived_title`). A headline
    line taken whole as the title (no sentence punctuation at its end: "Madagascar completes
    currency switch", "# Storm hits coast") leaves the text, so answers don't begin with it as if it
    were a sentence; a first line that is a sentence stays in the text."""
    text = text.strip()
    if not title.strip() and text:
        title = derived_title(text)
        first, _, rest = text.partition("\n")
        line = first.strip().lstrip("#").strip()
        if title and line == title and line[-1] not in '.!?"”' and rest.strip():
            text = rest.strip()
    return text, title


_DAY_FIRST = re.compile(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})\b")


def iso_date(value: str) -> str:
    """``2018/03/15`` and ``2018.3.15`` as ``2018-03-15`` (a time part is kept); anything else as given."""
    match = _DAY_FIRST.match(value.strip())
    if not match:
        return value.strip()
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}{value.strip()[match.end() :]}"


def article_from_record(record: dict[str, Any]) -> Article:
    """An article from a JSON record (title, text, date, source, url; the rest kept as metadata).

    Its key (what a later version replaces) is the record's id, else its URL; a record with neither
    is keyed by its content (title and text), never by where it sits in a file or a request, so two
    different records can never replace each other."""
    if not isinstance(record, dict):
        raise UnreadableArticleError(f"expected a JSON object, got {type(record).__name__}")
    text = _first(record, _TEXT_FIELDS)
    if not isinstance(text, str) or not text.strip():
        raise UnreadableArticleError(f"no article text (looked for fields {', '.join(_TEXT_FIELDS)})")
    used = set(_TEXT_FIELDS + _TITLE_FIELDS + _DATE_FIELDS + _SOURCE_FIELDS + _ID_FIELDS + ("url", "authors", "author"))
    title = str(_first(record, _TITLE_FIELDS) or "")
    authors = record.get("authors") or record.get("author") or ()
    if isinstance(authors, str):
        authors = (authors,)
    record_id = _first(record, _ID_FIELDS)
    url = str(record.get("url") or "")
    text, title = plain_text(text, title)
    return Article(
        text=text,
        title=title.strip(),
        key=str(record_id) if record_id is not None else url,  # "": the content id
        source=str(_first(record, _SOURCE_FIELDS) or ""),
        date=iso_date(str(_first(record, _DATE_FIELDS) or "")),
        url=url,
        authors=tuple(str(a) for a in authors),
        metadata={k: v for k, v in record.items() if k not in used},
    )
