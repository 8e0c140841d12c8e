"""Articles from files: .txt, .md, .html/.htm, .json, .jsonl and .pdf, from files or folders.

Loading never stops at a bad file: each problem is reported as a :class:`LoadFailure` naming the
file (and line for JSONL) and the reason, and the remaining files are still read. JSONL files are
read line by line (a bad line is reported with its number, the others kept); other files are read
whole, up to :class:`Limits`. Folders are walked following symbolic links, reporting loops and
folders that cannot be listed.
"""

from __future__ import annotations

import errno
import io
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from index.errors import UnreadableArticleError
from index.reading.article_fields import article_from_record, iso_date, plain_text
from index.reading.safe_read import (
    Limits,
    LoadFailure,
    decode,
    format_suffix,
    open_limited,
    parse_json,
    printable,
    read_lines,
    read_text,
    special_kind,
)
from index.records import Article

log = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".json", ".jsonl", ".pdf", ".json.gz", ".jsonl.gz")


# Record fields understood in JSON/JSONL articles; the first present name wins.
def _load_html(path: Path, limits: Limits) -> Article:
    return html_article(read_text(path, limits), str(path), {"path": str(path)})


def html_article(html: str, key: str, metadata: dict[str, Any]) -> Article:
    """The article of an HTML page (trafilatura: main text, title, author, date, site), keyed ``key``."""
    import trafilatura

    doc = trafilatura.bare_extraction(html, with_metadata=True, include_comments=False)
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
        key=key,
        source=doc.sitename or doc.hostname or "",
        date=iso_date(doc.date or ""),
        url=doc.url or "",
        authors=tuple(a.strip() for a in re.split(r";|,| and ", doc.author or "") if a.strip()),
        metadata=metadata,
    )


def _load_pdf(path: Path, limits: Limits) -> Article:
    with open_limited(path, limits) as f:
        data = f.read()
    return pdf_article(data, str(path), {"path": str(path)}, limits)


def pdf_article(data: bytes, key: str, metadata: dict[str, Any], limits: Limits | None = None) -> Article:
    """The article of a PDF file's bytes (its pages' text without running headers), keyed ``key``.
    A PDF of more than ``limits.max_pdf_pages`` pages, or one that takes longer than
    ``limits.max_parse_s`` to read, is an :class:`UnreadableArticleError`."""
    limits = limits or Limits()
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    from index.reading.pdf_text import ParseTimeout, read_pdf

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings repeat the failure we report
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = len(reader.pages)
        if pages > limits.max_pdf_pages:
            raise UnreadableArticleError(
                f"the PDF has {pages:,} pages, over the limit of {limits.max_pdf_pages:,} (setting index.max_pdf_pages)"
            )
        pdf = read_pdf(reader, time.monotonic() + limits.max_parse_s)
    except ParseTimeout:
        raise UnreadableArticleError(
            f"reading the PDF took over {limits.max_parse_s:g} s (setting index.max_parse_s)"
        ) from None
    except UnreadableArticleError:
        raise
    except (PyPdfError, ValueError, OSError, KeyError) as e:
        raise UnreadableArticleError(f"not a readable PDF ({e})") from e
    text, title = plain_text(pdf.text, pdf.title)
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
        key=key,
        source=pdf.source,
        date=pdf.date,
        url=pdf.url,
        authors=pdf.authors,
        metadata={**metadata, "pages": pages},
    )


def _load_json(path: Path, limits: Limits) -> Iterator[Article | LoadFailure]:
    try:
        data = parse_json(read_text(path, limits), limits)
    except json.JSONDecodeError as e:
        raise UnreadableArticleError(f"invalid JSON at line {e.lineno}: {e.msg}") from e
    records = data if isinstance(data, list) else [data]
    for i, record in enumerate(records):
        yield _record(record, f"{path}[{i}]", limits)


def _load_jsonl(path: Path, limits: Limits) -> Iterator[Article | LoadFailure]:
    """One record per line, read and decoded line by line: a bad line costs only itself. Neither a
    long line nor a gzip bomb is ever held whole (see :func:`read_lines`, :func:`open_limited`)."""
    max_line, bad = limits.max_line_bytes, 0
    with open_limited(path, limits, streamed=True) as f:
        for number, raw in enumerate(read_lines(f, max_line), start=1):
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
        line = decode(raw, " of the line")
        if not line.strip():
            return None
        record = parse_json(line, limits)
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
    suffix = format_suffix(path)
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
            text, title = plain_text(read_text(path, limits), "")
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
        elif format_suffix(path) in SUPPORTED_SUFFIXES:
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
    with open_limited(path, Limits(), streamed=True) as f:
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
                    is_lines = isinstance(item, Path) and format_suffix(item) in (".jsonl", ".jsonl.gz")
                    total += _count_lines(item) if is_lines else 1  # type: ignore[arg-type]
                except (OSError, UnreadableArticleError):
                    total += 1
        except (RuntimeError, OSError):
            total += 1
    return total
