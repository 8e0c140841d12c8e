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
import io
import json
import logging
import os
import re
import stat
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

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
    """Size limits on input: a file read whole (JSONL files are streamed and exempt), the text of one
    article (a record, or a whole file), how deeply a JSON record may nest, and how far a gzip file
    may unpack: to at most ``max_unpack_ratio`` times its size (real news unpacks ~3×, a bomb ~1000×)
    and never beyond ``max_file_bytes`` unless it is JSONL. Every limit is enforced while reading."""

    max_file_bytes: int = 100_000_000
    max_article_chars: int = 1_000_000
    max_json_depth: int = 64
    max_unpack_ratio: int = 50
    max_bad_lines: int = 1000  # a JSONL file with more bad lines is not a feed: reading it stops there

    @property
    def max_line_bytes(self) -> int:
        """Longest JSONL line: an article of ``max_article_chars`` in UTF-8, with room for the other fields."""
        return 4 * self.max_article_chars + 100_000

    def check(self, article: Article, location: str) -> Article | LoadFailure:
        if len(article.text) > self.max_article_chars:
            return LoadFailure(
                location,
                f"the article has {len(article.text):,} characters, over the limit of {self.max_article_chars:,} "
                "(setting index.max_article_chars)",
            )
        return article


def printable(name: str) -> str:
    """A file name or location safe to print on one line: control characters (a newline that could
    forge a line of the report, an escape sequence) are shown escaped, as Python writes them."""
    if name.isprintable():
        return name
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


@dataclass(frozen=True)
class LoadFailure:
    """A file or record that could not be read, and why."""

    location: str
    reason: str

    def __str__(self) -> str:
        return f"{printable(self.location)}: {printable(self.reason)}"


def _suffix(path: Path) -> str:
    """The format suffix; gzip-compressed files keep the inner one (``feed.jsonl.gz``)."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    if len(suffixes) == 2 and suffixes[1] == ".gz":
        return "".join(suffixes)
    return path.suffix.lower()


_KINDS = {
    stat.S_IFIFO: "a named pipe (FIFO)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a folder",
}


def special_kind(mode: int) -> str | None:
    """What a file of this ``st_mode`` is when it is not a regular file ("a named pipe (FIFO)"), else None."""
    return None if stat.S_ISREG(mode) else _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, only if it is a regular file: a FIFO, device or socket is refused
    without blocking (opened non-blocking, checked on the open descriptor, so it cannot be swapped in
    between a check and the open)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        kind = special_kind(os.fstat(fd).st_mode)
        if kind is not None:
            raise UnreadableArticleError(f"{kind}, not a regular file; only regular files are read")
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


class _Capped:
    """A binary stream that refuses to yield more than ``cap`` bytes (a decompression bomb stops
    there, having held at most one read in memory)."""

    def __init__(self, stream: Any, cap: int, what: str) -> None:
        self.stream, self.cap, self.what, self.total = stream, cap, what, 0

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.cap:
            raise UnreadableArticleError(f"the file unpacks to over {self.cap / 1e6:,.1f} MB ({self.what})")
        return data

    def read(self, size: int = -1) -> bytes:
        return self._count(self.stream.read(self.cap + 1 - self.total if size < 0 else size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self.stream.readline(size))


@contextmanager
def _reader(path: Path, limits: Limits, streamed: bool = False) -> Iterator[Any]:
    """A bounded binary reader of a regular file: files read whole are refused over
    ``max_file_bytes`` before reading; a gzip file unpacks to at most ``max_unpack_ratio`` × its size,
    and (unless ``streamed``, i.e. JSONL) ``max_file_bytes``."""
    with _open_regular(path) as raw:
        size = os.fstat(raw.fileno()).st_size
        if not streamed and size > limits.max_file_bytes:
            raise UnreadableArticleError(
                f"the file has {size / 1e6:,.1f} MB, over the limit of {limits.max_file_bytes / 1e6:,.1f} MB "
                "(setting index.max_file_mb; JSONL files are read line by line and have no limit)"
            )
        if path.suffix.lower() != ".gz":
            yield raw
            return
        cap = max(limits.max_unpack_ratio * size, 1_000_000)
        what = f"{limits.max_unpack_ratio}× its size"
        if not streamed and limits.max_file_bytes < cap:
            cap, what = limits.max_file_bytes, "setting index.max_file_mb"
        try:
            with gzip.GzipFile(fileobj=raw, mode="rb") as unpacked:
                yield _Capped(unpacked, cap, what)
        except (OSError, EOFError, zlib.error) as e:
            raise UnreadableArticleError(f"not a readable gzip file ({e})") from e


def _decode(data: bytes, where: str = "") -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableArticleError(f"not UTF-8 text ({e.reason} at byte {e.start}{where})") from e
    if "\x00" in text:
        raise UnreadableArticleError("binary content, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_text(path: Path, limits: Limits) -> str:
    with _reader(path, limits) as f:
        return _decode(f.read())


def _parse_json(text: str, limits: Limits) -> Any:
    """JSON nested at most ``limits.max_json_depth`` deep: a deeper document is refused before it is
    parsed, so no parser recursion runs away (100k nested brackets were a RecursionError)."""
    depth, in_string = 0, False
    for match in _JSON_STRUCTURE.finditer(text):
        char = match.group()
        if char == '"':
            in_string = not in_string
        elif in_string or len(char) == 2:  # inside a string, or an escaped character
            continue
        elif char in "[{":
            depth += 1
            if depth > limits.max_json_depth:
                raise UnreadableArticleError(f"JSON nested over {limits.max_json_depth} levels deep")
        else:
            depth -= 1
    return json.loads(text)


_JSON_STRUCTURE = re.compile(r'\\.|["\[\]{}]', re.DOTALL)


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
    text, title = _plain(text, title)
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

    with _reader(path, limits) as f:
        data = f.read()
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings repeat the failure we report
    try:
        reader = PdfReader(io.BytesIO(data))
        pdf = read_pdf(reader)
        pages = len(reader.pages)
    except (PyPdfError, ValueError, OSError, KeyError) as e:
        raise UnreadableArticleError(f"not a readable PDF ({e})") from e
    text, title = _plain(pdf.text, pdf.title)
    if not text and pdf.found_chars:
        raise UnreadableArticleError(
            f"no story found: all {pdf.found_chars:,} characters of text in the PDF repeat on several pages "
            "(running headers and footers are dropped)"
        )
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
        data = _parse_json(_read_text(path, limits), limits)
    except json.JSONDecodeError as e:
        raise UnreadableArticleError(f"invalid JSON at line {e.lineno}: {e.msg}") from e
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        yield _record(record, f"{path}[{i}]", limits)


def _lines(f: Any, limit: int) -> Iterator[bytes | int]:
    """The lines of a binary stream, each read at most ``limit + 1`` bytes at a time: a longer line
    is skipped to its end without being held, and given as its length (an int) instead."""
    while line := f.readline(limit + 1):
        if len(line) <= limit or line.endswith(b"\n"):
            yield line
            continue
        length = len(line)
        while (rest := f.readline(limit + 1)) and not rest.endswith(b"\n"):
            length += len(rest)
        yield length + len(rest)


def _load_jsonl(path: Path, limits: Limits) -> Iterator[Article | LoadFailure]:
    """One record per line, read and decoded line by line: a bad line costs only itself. Neither a
    long line nor a gzip bomb is ever held whole (see :func:`_lines`, :func:`_reader`)."""
    max_line, bad = limits.max_line_bytes, 0
    with _reader(path, limits, streamed=True) as f:
        for number, raw in enumerate(_lines(f, max_line), start=1):
            item = _line(raw, f"{path}:{number}", limits)
            if isinstance(item, LoadFailure):
                bad += 1
                if bad > limits.max_bad_lines:
                    raise UnreadableArticleError(
                        f"over {limits.max_bad_lines:,} bad lines; stopped reading at line {number:,}"
                    )
            if item is not None:
                yield item


def _line(raw: bytes | int, location: str, limits: Limits) -> Article | LoadFailure | None:
    """The article on one JSONL line (None for a blank line), or why there is none."""
    if isinstance(raw, int) or len(raw) > limits.max_line_bytes:
        length = raw if isinstance(raw, int) else len(raw)
        return LoadFailure(location, f"the line has {length:,} bytes, over the limit of {limits.max_line_bytes:,}")
    try:
        line = _decode(raw, " of the line")
        if not line.strip():
            return None
        record = _parse_json(line, limits)
    except UnreadableArticleError as e:
        return LoadFailure(location, str(e))
    except json.JSONDecodeError as e:
        return LoadFailure(location, f"invalid JSON: {e.msg}")
    return _record(record, location, limits)


def _record(record: Any, location: str, limits: Limits) -> Article | LoadFailure:
    try:
        return limits.check(article_from_record(record), location)
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
    except (RecursionError, MemoryError, ValueError) as e:  # whatever a parser chokes on stays this file's
        yield LoadFailure(str(path), f"could not be read ({type(e).__name__}: {e})")


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
        elif (kind := special_kind(info.st_mode)) is not None:
            yield LoadFailure(str(path), f"{kind}, not a regular file; skipped")
        elif _suffix(path) in SUPPORTED_SUFFIXES:
            yield path


def missing_paths(paths: Iterable[str | Path]) -> list[str]:
    """The paths that name nothing on disk (a broken link counts as missing)."""
    out = []
    for raw in paths:
        try:
            found = Path(raw).expanduser().exists()
        except (RuntimeError, OSError):
            found = True  # a link loop or an unreadable path is reported by load_paths, by name
        if not found:
            out.append(printable(str(raw)))
    return out


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
    count, last = 0, b"\n"
    with _reader(path, Limits(), streamed=True) as f:
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
                except (OSError, UnreadableArticleError):
                    total += 1
        except (RuntimeError, OSError):
            total += 1
    return total
