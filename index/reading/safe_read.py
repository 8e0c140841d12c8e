"""Reading input files safely: only regular files, every size limit enforced while reading (a
file read whole, an article's text, gzip's unpacking, a JSONL line, JSON's nesting), and failures
reported by name, printable on one line."""

from __future__ import annotations

import gzip
import json
import os
import re
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from index.errors import UnreadableArticleError
from index.records import Article


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
    max_pdf_pages: int = 300  # a news article never has more; a 78 KB PDF of 500 pages took 61 s of CPU
    max_parse_s: float = 20.0  # the longest one PDF may take to read (checked per page and per text piece)

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


def format_suffix(path: Path) -> str:
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
def open_limited(path: Path, limits: Limits, streamed: bool = False) -> Iterator[Any]:
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


def decode(data: bytes, where: str = "") -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise UnreadableArticleError(f"not UTF-8 text ({e.reason} at byte {e.start}{where})") from e
    if "\x00" in text:
        raise UnreadableArticleError("binary content, not text")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path, limits: Limits) -> str:
    with open_limited(path, limits) as f:
        return decode(f.read())


def parse_json(text: str, limits: Limits) -> Any:
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


def read_lines(f: Any, limit: int) -> Iterator[bytes | int]:
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
