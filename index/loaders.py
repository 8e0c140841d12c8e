"""Articles from files: .txt, .md, .html/.htm, .json, .jsonl and .pdf, from files or folders.

Loading never stops at a bad file: each problem is reported as a :class:`LoadFailure` naming the
file (and line for JSONL) and the reason, and the remaining files are still read. JSONL files are
read line by line (a bad line is reported with its number, the others kept); other files are read
whole, up to :class:`Limits`. Folders are walked following symbolic links, reporting loops and
folders that cannot be listed.
"""

from __future__ import annotations

import errno
import gzip
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from index.errors import UnreadableArticleError
from index.records import Article
from index.splitter import sentence_spans

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf", ".json.gz", ".jsonl.gz")

# Record fields understood in JSON/JSONL articles; the first present name wins.
_TEXT_FIELDS = ("text", "body", "content", "article")
_TITLE_FIELDS = ("title", "headline")
_DATE_FIELDS = ("date", "publish_date", "published", "published_at", "pubDate")
_SOURCE_FIELDS = ("source", "outlet", "publisher", "site", "sitename")
_ID_FIELDS = ("id", "doc_id", "article_id")


@dataclass(frozen=True)
class Limits:
    """Size limits on input: a file read whole (JSONL files are streamed and exempt), and the
    text of one article (a record, or a whole file)."""

    max_file_bytes: int = 100_000_000
    max_article_chars: int = 1_000_000

    def check(self, article: Article, location: str) -> Article | LoadFailure:
        if len(article.text) > self.max_article_chars:
            return LoadFailure(
                location,
                f"the article has {len(article.text):,} characters, over the limit of {self.max_article_chars:,} "
                "(setting index.max_article_chars)",
            )
        return article


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


def _check_size(path: Path, limits: Limits) -> None:
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnreadableArticleError(
            f"the file has {size / 1e6:,.1f} MB, over the limit of {limits.max_file_bytes / 1e6:,.1f} MB "
            "(setting index.max_file_mb; JSONL files are read line by line and have no limit)"
        )


def _decode(data: bytes, where: str = "") -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableArticleError(f"not UTF-8 text ({e.reason} at byte {e.start}{where})") from e
    if "\x00" in text:
        raise UnreadableArticleError("binary content, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_text(path: Path, limits: Limits) -> str:
    _check_size(path, limits)
    if path.suffix.lower() != ".gz":
        return _decode(path.read_bytes())
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(limits.max_file_bytes + 1)
    except (OSError, EOFError) as e:
        raise UnreadableArticleError(f"not a readable gzip file ({e})") from e
    if len(data) > limits.max_file_bytes:
        raise UnreadableArticleError(
            f"the file unpacks to over {limits.max_file_bytes / 1e6:,.1f} MB (setting index.max_file_mb)"
        )
    return _decode(data)


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


def _plain(text: str, title: str) -> tuple[str, str]:
    """Title from the first real line when none is given (see :func:`derived_title`); the text
    keeps every line."""
    text = text.strip()
    if not title.strip() and text:
        title = derived_title(text)
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


def _load_html(path: Path, limits: Limits) -> Article:
    import trafilatura

    doc = trafilatura.bare_extraction(_read_text(path, limits), with_metadata=True, include_comments=False)
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


def _load_pdf(path: Path, limits: Limits) -> Article:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from index.pdf_text import read_pdf

    _check_size(path, limits)
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings repeat the failure we report
    try:
        reader = PdfReader(str(path))
        pdf = read_pdf(reader)
        pages = len(reader.pages)
    except (PyPdfError, ValueError, OSError, KeyError) as e:
        raise UnreadableArticleError(f"not a readable PDF ({e})") from e
    text, title = _plain(pdf.text, pdf.title)
    if not text:
        raise UnreadableArticleError("the PDF has no extractable text (scanned images need OCR)")
    return Article(
        text=text,
        title=title,
        key=str(path),
        source=pdf.source,
        date=pdf.date,
        url=pdf.url,
        authors=pdf.authors,
        metadata={"path": str(path), "pages": pages},
    )


def _load_json(path: Path, limits: Limits) -> Iterator[Article | LoadFailure]:
    try:
        data = json.loads(_read_text(path, limits))
    except json.JSONDecodeError as e:
        raise UnreadableArticleError(f"invalid JSON at line {e.lineno}: {e.msg}") from e
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        yield _record(record, f"{path}[{i}]", limits)


def _load_jsonl(path: Path, limits: Limits) -> Iterator[Article | LoadFailure]:
    """One record per line, read and decoded line by line: a bad line costs only itself."""
    opener = gzip.open if path.suffix.lower() == ".gz" else open
    max_line = 4 * limits.max_article_chars + 100_000  # UTF-8 bytes, with room for the other fields
    try:
        with opener(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                location = f"{path}:{number}"
                if len(raw) > max_line:
                    yield LoadFailure(location, f"the line has {len(raw):,} bytes, over the limit of {max_line:,}")
                    continue
                try:
                    line = _decode(raw, " of the line")
                except UnreadableArticleError as e:
                    yield LoadFailure(location, str(e))
                    continue
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as e:
                    yield LoadFailure(location, f"invalid JSON: {e.msg}")
                    continue
                yield _record(record, location, limits)
    except (gzip.BadGzipFile, EOFError) as e:
        raise UnreadableArticleError(f"not a readable gzip file ({e})") from e


def _record(record: Any, location: str, limits: Limits) -> Article | LoadFailure:
    try:
        return limits.check(article_from_record(record, fallback_key=location), location)
    except UnreadableArticleError as e:
        return LoadFailure(location, str(e))


def load_file(path: Path, limits: Limits | None = None) -> Iterator[Article | LoadFailure]:
    """Articles in one file (JSON/JSONL files may hold many), or failures naming what went wrong."""
    limits = limits or Limits()
    suffix = _suffix(path)
    try:
        if suffix not in SUPPORTED_SUFFIXES:
            raise UnreadableArticleError(
                f"unsupported file type {suffix or '(none)'}; supported: {', '.join(SUPPORTED_SUFFIXES)}"
            )
        if suffix in (".jsonl", ".jsonl.gz"):
            yield from _load_jsonl(path, limits)
        elif suffix in (".json", ".json.gz"):
            yield from _load_json(path, limits)
        elif suffix in (".html", ".htm"):
            yield limits.check(_load_html(path, limits), str(path))
        elif suffix == ".pdf":
            yield limits.check(_load_pdf(path, limits), str(path))
        else:
            text, title = _plain(_read_text(path, limits), "")
            if not text:
                raise UnreadableArticleError("the file is empty")
            yield limits.check(Article(text=text, title=title, key=str(path), metadata={"path": str(path)}), str(path))
    except UnreadableArticleError as e:
        yield LoadFailure(str(path), str(e))
    except OSError as e:
        yield LoadFailure(str(path), e.strerror or str(e))


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Path | LoadFailure]:
    """Supported files under ``folder``, sorted, following symbolic links; a link back into a
    folder already walked, a link loop or a folder that cannot be listed is reported."""
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as e:
        yield LoadFailure(str(folder), f"cannot list the folder ({e.strerror or e})")
        return
    for entry in entries:
        path = Path(entry.path)
        try:
            info = entry.stat()  # follows links
        except OSError as e:
            reason = "a symbolic link loop" if e.errno == errno.ELOOP else f"unreadable ({e.strerror or e})"
            yield LoadFailure(str(path), reason)
            continue
        if entry.is_dir():
            key = (info.st_dev, info.st_ino)
            if key in seen:
                yield LoadFailure(str(path), "a symbolic link loop (links back to a folder already read); skipped")
                continue
            seen.add(key)
            yield from _walk(path, seen)
        elif entry.is_file() and _suffix(path) in SUPPORTED_SUFFIXES:
            yield path


def load_paths(paths: Iterable[str | Path], limits: Limits | None = None) -> Iterator[Article | LoadFailure]:
    """Articles from files and folders (folders are searched recursively for supported files)."""
    for raw in paths:
        try:
            path = Path(raw).expanduser().resolve()
            is_dir, exists = path.is_dir(), path.exists()
        except (RuntimeError, OSError) as e:  # Python reports a link loop as RuntimeError
            yield LoadFailure(str(raw), "a symbolic link loop" if "loop" in str(e).lower() else str(e))
            continue
        if is_dir:
            info = path.stat()
            for item in _walk(path, {(info.st_dev, info.st_ino)}):
                yield from load_file(item, limits) if isinstance(item, Path) else [item]
        elif exists:
            yield from load_file(path, limits)
        else:
            yield LoadFailure(str(path), "no such file or folder")


def _count_lines(path: Path) -> int:
    import gzip

    opener = gzip.open if path.name.lower().endswith(".gz") else open
    count, last = 0, b"\n"
    with opener(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


def count_articles(paths: Iterable[str | Path]) -> int:
    """About how many items :func:`load_paths` yields for ``paths``, cheaply, for a progress bar:
    a line per JSONL line, one per other file (a JSON file of many records counts one). Unreadable
    paths count one (they are reported as one failure)."""
    total = 0
    for raw in paths:
        try:
            path = Path(raw).expanduser().resolve()
            info = path.stat()
            files: Iterable[Path | LoadFailure] = (
                [path] if not path.is_dir() else _walk(path, {(info.st_dev, info.st_ino)})
            )
            for item in files:
                try:
                    is_lines = isinstance(item, Path) and _suffix(item) in (".jsonl", ".jsonl.gz")
                    total += _count_lines(item) if is_lines else 1  # type: ignore[arg-type]
                except OSError:
                    total += 1
        except (RuntimeError, OSError):
            total += 1
    return total
