"""Articles from files: .txt, .md, .html/.htm, .json, .jsonl and .pdf, from files or folders.

Loading never stops at a bad file: each problem is reported as a :class:`LoadFailure` naming the
file (and line for JSONL) and the reason, and the remaining files are still read.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import UnreadableArticleError
from index.records import Article

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf", ".json.gz", ".jsonl.gz")

# Record fields understood in JSON/JSONL articles; the first present name wins.
_TEXT_FIELDS = ("text", "body", "content", "article")
_TITLE_FIELDS = ("title", "headline")
_DATE_FIELDS = ("date", "publish_date", "published", "published_at", "pubDate")
_SOURCE_FIELDS = ("source", "outlet", "publisher", "site", "sitename")
_ID_FIELDS = ("id", "doc_id", "article_id")


@dataclass(frozen=True)
class LoadFailure:
    """A file or record that could not be read, and why."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{self.location}: {self.reason}"


def _suffix(path: Path) -> str:
    """The format suffix; gzip-compressed files keep the inner one (``feed.jsonl.gz``)."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if len(suffixes) == 2 and suffixes[1] == ".gz":
        return "".join(suffixes)
    return path.suffix.lower()


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix.lower() == ".gz":
        import gzip

        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as e:
            raise UnreadableArticleError(f"not a readable gzip file ({e})") from e
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableArticleError(f"not UTF-8 text ({e.reason} at byte {e.start})") from e
    if "\x00" in text:
        raise UnreadableArticleError("binary content, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _first(record: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        value = record.get(name)
        if value not in (None, ""):
            return value
    return None


def _plain(text: str, title: str) -> tuple[str, str]:
    """Title from the first line when none is given; the text keeps every line."""
    text = text.strip()
    if not title and text:
        first = text.split("\n", 1)[0].strip().lstrip("#").strip()
        if len(first) <= 200:
            title = first
    return text, title


_DAY_FIRST = re.compile(r"^(\d{4})[/.-](\d{1,2})[/.-](\d{1,2})\b")


def iso_date(value: str) -> str:
    """``2018/03/15`` and ``2018.3.15`` as ``2018-03-15`` (a time part is kept); anything else as given."""
    match = _DAY_FIRST.match(value.strip())
    if not match:
        return value.strip()
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}{value.strip()[match.end() :]}"


def article_from_record(record: dict[str, Any], fallback_key: str) -> Article:
    """An article from a JSON record (title, text, date, source, url; the rest kept as metadata)."""
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
    text, title = _plain(text, title)
    return Article(
        text=text,
        title=title.strip(),
        key=str(record_id) if record_id is not None else (url or fallback_key),
        source=str(_first(record, _SOURCE_FIELDS) or ""),
        date=iso_date(str(_first(record, _DATE_FIELDS) or "")),
        url=url,
        authors=tuple(str(a) for a in authors),
        metadata={k: v for k, v in record.items() if k not in used},
    )


def _load_html(path: Path) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(_read_text(path), with_metadata=True, include_comments=False)
    if doc is None or not (doc.text or "").strip():
        raise UnreadableArticleError("no article text found in the HTML page")
    title = (doc.title or "").strip()
    lines = [line.strip() for line in doc.text.split("\n") if line.strip()]
    if lines and title and lines[0] == title:
        lines = lines[1:]
    # trafilatura gives one paragraph per line; blank lines keep paragraphs apart for the splitter
    return Article(
        text="\n\n".join(lines),
        title=title,
        key=str(path),
        source=doc.sitename or doc.hostname or "",
        date=iso_date(doc.date or ""),
        url=doc.url or "",
        authors=tuple(a.strip() for a in re.split(r";|,| and ", doc.author or "") if a.strip()),
        metadata={"path": str(path)},
    )


def _load_pdf(path: Path) -> Article:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(str(path))
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        meta = reader.metadata
    except (PyPdfError, ValueError, OSError, KeyError) as e:
        raise UnreadableArticleError(f"not a readable PDF ({e})") from e
    text, title = _plain("\n\n".join(p for p in pages if p), str((meta and meta.title) or ""))
    if not text:
        raise UnreadableArticleError("the PDF has no extractable text (scanned images need OCR)")
    return Article(
        text=text,
        title=title,
        key=str(path),
        authors=(str(meta.author),) if meta and meta.author else (),
        metadata={"path": str(path), "pages": len(pages)},
    )


def _load_records(path: Path) -> Iterator[Article | LoadFailure]:
    raw = _read_text(path)
    if _suffix(path) in (".json", ".json.gz"):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as e:
            raise UnreadableArticleError(f"invalid JSON at line {e.lineno}: {e.msg}") from e
        records = data if isinstance(data, list) else [data]
        locations = [f"{path}[{i}]" for i in range(len(records))]
    else:
        records, locations = [], []
        for number, line in enumerate(raw.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as e:
                yield LoadFailure(f"{path}:{number}", f"invalid JSON: {e.msg}")
                continue
            locations.append(f"{path}:{number}")
    for record, location in zip(records, locations, strict=True):
        try:
            yield article_from_record(record, fallback_key=location)
        except UnreadableArticleError as e:
            yield LoadFailure(location, str(e))


def load_file(path: Path) -> Iterator[Article | LoadFailure]:
    """Articles in one file (JSON/JSONL files may hold many), or failures naming what went wrong."""
    suffix = _suffix(path)
    try:
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnreadableArticleError(
                f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
            )
        if suffix in (".json", ".jsonl", ".json.gz", ".jsonl.gz"):
            yield from _load_records(path)
        elif suffix in (".html", ".htm"):
            yield _load_html(path)
        elif suffix == ".pdf":
            yield _load_pdf(path)
        else:
            text, title = _plain(_read_text(path), "")
            if not text:
                raise UnreadableArticleError("the file is empty")
            yield Article(text=text, title=title, key=str(path), metadata={"path": str(path)})
    except UnreadableArticleError as e:
        yield LoadFailure(str(path), str(e))
    except OSError as e:
        yield LoadFailure(str(path), e.strerror or str(e))


def load_paths(paths: Iterable[str | Path]) -> Iterator[Article | LoadFailure]:
    """Articles from files and folders (folders are searched recursively for supported files)."""
    for raw in paths:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and _suffix(p) in SUPPORTED_SUFFIXES)
            for file in files:
                yield from load_file(file)
        elif path.exists():
            yield from load_file(path)
        else:
            yield LoadFailure(str(path), "no such file or folder")
