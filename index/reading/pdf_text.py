"""An article's text from a PDF, as a reader sees the page: lines rejoined into paragraphs, page
furniture and the web page around the story left out.

A news page printed to PDF (a browser's "print to PDF") carries the page's navigation bar, cookie
banner, "Trending" box, comments and footer, plus the browser's print header and footer (date and
time, page title, URL, page count). Text-only boilerplate removal (trafilatura on the extracted
text) kept all of it when tried: there is no markup left to judge. The PDF still has its layout,
so this module reads it (pypdf's text visitor): where each piece of text is, in which font size,
and which pieces are links (link annotations).

- A row of text is cut where two columns meet on one baseline; a right-hand column beside the story
  with far less text than it, or mostly links (a "Most read" or "Trending" box), is left out, while
  a second column of the story itself is read after the first.
- Lines are rejoined into paragraphs by vertical spacing and font size, words hyphenated at a line
  end are rejoined.
- Text repeated on two or more pages (running headers, footers) and print stamps are dropped; an
  ``http(s)`` URL in the print footer becomes the article's URL.
- The story runs from its headline (the largest text on the first page) to its last paragraph of
  body text; short or link-heavy paragraphs before and after it (navigation, cookie banner, related
  links, comments, footer) are dropped, and so are paragraphs made mostly of links inside it.
- A byline right under the headline ("By Jane Roe, … · 20 November 2026") gives author and date.
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

BODY_WORDS = 15  # a paragraph of body text has at least this many words
LINKED = 0.2  # a paragraph before or after the story with this share of linked text is furniture
MOSTLY_LINKS = 0.5  # inside the story
CHAR_WIDTH = 0.6  # an average character's width per unit of font size (a generous guess)
COLUMN_GAP = 3.0  # a gap wider than this many font sizes between two pieces of a row starts a new column
SIDE_SHARE = 0.5  # a right-hand column with less text than this share of the left one is a side box
_STAMP = re.compile(
    r"^\d{1,2}/\d{1,2}/\d{2,4},?\s+\d{1,2}:\d{2}(?:\s*[AP]M)?\b"  # 11/28/26, 11:04 AM <title>
    r"|^(?:file|https?)://\S*(?:\s+\d+\s*/\s*\d+)?$"  # file:///…/page.html 1/2
    r"|^(?:page\s+)?\d+\s*(?:/|of)\s*\d+$",  # Page 1 of 2
    re.I,
)
_URL_STAMP = re.compile(r"^(https?://\S+)\s+\d+\s*/\s*\d+$")
_BYLINE = re.compile(r"^by\s+(.+?)(?:,|·|\||—|–|$)", re.I)
_MONTHS = "january february march april may june july august september october november december".split()
_DATE = re.compile(
    r"\b(\d{1,2})\s+(" + "|".join(_MONTHS) + r")\s+(\d{4})\b|\b(" + "|".join(_MONTHS) + r")\s+(\d{1,2}),?\s+(\d{4})\b",
    re.I,
)


@dataclass
class Line:
    page: int
    y: float
    size: float
    text: str = ""
    linked: int = 0  # characters inside a link annotation
    x: float = 0.0  # where the line starts


@dataclass
class Paragraph:
    page: int
    size: float
    lines: list[str] = field(default_factory=list)
    chars: int = 0
    linked: int = 0

    @property
    def text(self) -> str:
        out = ""
        for line in self.lines:
            if out.endswith("-") and out[-2:-1].isalpha() and line[:1].islower():
                out = out[:-1] + line  # a word hyphenated at the line end
            else:
                out = f"{out} {line}" if out else line
        return re.sub(r"\s+", " ", out).strip()

    @property
    def link_share(self) -> float:
        return self.linked / self.chars if self.chars else 0.0

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class PdfArticle:
    text: str
    title: str = ""
    authors: tuple[str, ...] = ()
    date: str = ""
    url: str = ""
    source: str = ""
    found_chars: int = 0  # characters of text on the pages before headers, footers and stamps were dropped


@dataclass
class _Piece:
    x: float
    y: float
    size: float
    text: str
    linked: bool


def _row_lines(pieces: list[_Piece], page: int) -> list[Line]:
    """The pieces of one row (one baseline) as lines: a row is cut where the gap to the next piece
    is wider than a few characters (two columns side by side share a baseline)."""
    pieces = sorted(pieces, key=lambda p: p.x)
    out: list[Line] = []
    end = None
    for piece in pieces:
        width = len(piece.text) * piece.size * CHAR_WIDTH
        if end is None or piece.x - end > COLUMN_GAP * max(piece.size, 1.0):
            out.append(Line(page, piece.y, 0.0, x=piece.x))
        line = out[-1]
        line.text += piece.text
        if piece.text.strip():
            line.size = max(line.size, piece.size)
            line.linked += len(piece.text.strip()) if piece.linked else 0
        end = max(end or 0.0, piece.x + width)
    return out


def _main_column(lines: list[Line], width: float) -> list[Line]:
    """A page's lines top to bottom, without a side column beside the story (a "Most read" or
    "Trending" box: lines starting right of the page's middle while the story starts left of it,
    with far less text than the story or mostly links). A second column of the story itself, as
    long as the first, is kept after it."""
    middle = width / 2
    left = [line for line in lines if line.x < middle]
    right = [line for line in lines if line.x >= middle]
    chars_left = sum(len(line.text) for line in left)
    chars_right = sum(len(line.text) for line in right)
    linked_right = sum(line.linked for line in right)
    if not left or not right:
        return sorted(lines, key=lambda line: -line.y)
    side = chars_right < SIDE_SHARE * chars_left or linked_right > LINKED * chars_right
    ordered = sorted(left, key=lambda line: -line.y)
    return ordered if side else ordered + sorted(right, key=lambda line: -line.y)


class ParseTimeout(ValueError):
    """Reading a PDF took longer than it may (``index.max_parse_s``)."""


def _lines(reader, deadline: float) -> list[Line]:  # type: ignore[no-untyped-def]
    """Text lines of every page, top to bottom (a side column left out), with font size and linked
    characters."""
    out: list[Line] = []

    def check() -> None:
        if time.monotonic() > deadline:
            raise ParseTimeout("reading it took too long (setting index.max_parse_s)")

    for number, page in enumerate(reader.pages):
        check()
        links = []
        for annot in page.get("/Annots") or ():
            a = annot.get_object()
            if a.get("/Subtype") == "/Link" and "/Rect" in a:
                x1, y1, x2, y2 = (float(v) for v in a["/Rect"])
                links.append((min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2)))
        rows: dict[int, list[_Piece]] = {}

        def visit(text, cm, tm, font, size, rows=rows, links=links) -> None:  # type: ignore[no-untyped-def]
            check()
            if not text:
                return
            x, y = tm[4] * cm[0] + cm[4], cm[5] + tm[5] * cm[3]
            scale = abs(tm[0] * cm[0]) or 1.0  # the text matrix may carry the font size
            linked = any(x1 - 1 <= x <= x2 + 1 and y1 - 2 <= y <= y2 + 2 for x1, y1, x2, y2 in links)
            rows.setdefault(round(y), []).append(_Piece(x, y, float(size) * scale, text, linked))

        page.extract_text(visitor_text=visit)
        lines = [line for y in rows for line in _row_lines(rows[y], number) if line.text.strip()]
        out.extend(_main_column(lines, float(page.mediabox.width)))
    for line in out:
        line.text = re.sub(r"\s+", " ", line.text.replace("ﬁ", "fi").replace("ﬂ", "fl")).strip()
    return out


def _paragraphs(lines: list[Line]) -> list[Paragraph]:
    """Consecutive lines of one font size and page, no wider apart than the usual line spacing."""
    chars: Counter[float] = Counter()
    for line in lines:
        chars[line.size] += len(line.text)
    base = chars.most_common(1)[0][0] if chars else 0.0
    gaps = Counter(
        round(a.y - b.y)
        for a, b in zip(lines, lines[1:], strict=False)
        if a.page == b.page and a.size == b.size == base
    )
    spacing = min((g for g, _ in gaps.most_common(3) if g > 0), default=0) / (base or 1)  # per unit of size
    out: list[Paragraph] = []
    previous: Line | None = None
    for line in lines:
        same = (
            previous is not None
            and previous.page == line.page
            and previous.size == line.size
            and 0 < previous.y - line.y <= spacing * line.size * 1.3 + 0.5
        )
        if not same:
            out.append(Paragraph(line.page, line.size))
        out[-1].lines.append(line.text)
        out[-1].chars += len(line.text)
        out[-1].linked += line.linked
        previous = line
    return out


def _furniture(paragraphs: list[Paragraph], pages: int) -> tuple[list[Paragraph], str]:
    """Without running headers/footers (text on two or more pages) and print stamps; and the URL a
    print footer names."""
    shape = {id(p): re.sub(r"\d+", "#", p.text.lower()) for p in paragraphs}
    repeated = Counter(s for s, _ in {(shape[id(p)], p.page) for p in paragraphs})  # pages per text
    url = ""
    kept = []
    for p in paragraphs:
        text = p.text
        stamped = _URL_STAMP.match(text)
        if stamped and not url:
            url = stamped.group(1)
        if _STAMP.match(text) or (pages > 1 and repeated[shape[id(p)]] > 1):
            continue
        kept.append(p)
    return kept, url


def _body(p: Paragraph, size: float) -> bool:
    return p.size == size and p.words >= BODY_WORDS and p.link_share < LINKED


def _story(paragraphs: list[Paragraph]) -> tuple[list[Paragraph], Paragraph | None]:
    """The story's paragraphs and its headline (None when no text stands out as one)."""
    if not paragraphs:
        return [], None
    by_size: Counter[float] = Counter()
    for p in paragraphs:
        by_size[p.size] += p.chars
    size = by_size.most_common(1)[0][0]  # body text: the size most characters are set in
    if not any(_body(p, size) for p in paragraphs):  # a short document, not a page around a story
        return paragraphs, None
    first_page = [p for p in paragraphs if p.page == paragraphs[0].page]
    largest = max(first_page, key=lambda p: p.size)
    headline = largest if largest.size > size * 1.2 else None
    start = paragraphs.index(headline) + 1 if headline else 0
    # before the headline: keep body text only (a cookie banner is link-heavy, a menu is short)
    lead = [p for p in paragraphs[: start - 1 if headline else 0] if _body(p, size)]
    rest = paragraphs[start:]
    last = max((i for i, p in enumerate(rest) if _body(p, size)), default=-1)
    story = [p for p in rest[: last + 1] if p.link_share < MOSTLY_LINKS]
    return lead + story, headline


def _byline(paragraphs: list[Paragraph]) -> tuple[list[Paragraph], tuple[str, ...], str]:
    """The story without a byline in its first two paragraphs; the byline's names and date."""
    for i, p in enumerate(paragraphs[:2]):
        match = _BYLINE.match(p.text)
        if match and p.words <= 20:
            names = tuple(n.strip() for n in re.split(r"\s+and\s+|,", match.group(1)) if n.strip())
            return paragraphs[:i] + paragraphs[i + 1 :], names, _iso_date(p.text)
    return paragraphs, (), ""


def _iso_date(text: str) -> str:
    match = _DATE.search(text)
    if not match:
        return ""
    g = match.groups()
    day, month, year = (g[0], g[1], g[2]) if g[0] else (g[4], g[3], g[5])
    try:
        return date(int(year), _MONTHS.index(month.lower()) + 1, int(day)).isoformat()
    except ValueError:
        return ""


def _pdf_date(value: object) -> str:
    """``D:20261128205402+00'00'`` as ``2026-11-28``."""
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})", str(value or ""))
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}" if match else ""


def read_pdf(reader, deadline: float = math.inf) -> PdfArticle:  # type: ignore[no-untyped-def]
    """The story in a PDF opened with pypdf (see the module docstring); past ``deadline`` (of
    ``time.monotonic``) reading stops with :class:`ParseTimeout`."""
    found = _paragraphs(_lines(reader, deadline))
    paragraphs, url = _furniture(found, len(reader.pages))
    story, headline = _story(paragraphs)
    story, authors, day = _byline(story)
    meta = reader.metadata or {}
    title, source = str(meta.get("/Title") or "").strip(), ""
    split = re.match(r"^(.+?)\s+[|–—-]\s+([^|–—-]{2,40})$", title)  # "Headline | Site", "Headline - Site"
    if split and len(split.group(2).split()) <= 4:  # a browser prints the page title
        title, source = split.group(1).strip(), split.group(2).strip()
    if headline is not None and (not title or not headline.text.startswith(title[:20])):
        title = title or headline.text
    author = str(meta.get("/Author") or "").strip()
    creator = str(meta.get("/Creator") or "").lower()
    printed = "chrome" in creator or "mozilla" in creator  # a browser's print: its date is the printing's
    return PdfArticle(
        text="\n\n".join(p.text for p in story),
        title=title,
        authors=(author,) if author else authors,
        date=day or ("" if printed else _pdf_date(meta.get("/CreationDate"))),
        url=url,
        source=source,
        found_chars=sum(p.chars for p in found),
    )
