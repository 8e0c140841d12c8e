"""A small news site on 127.0.0.1 for the web-source tests: feeds and pages written for the tests,
served by the standard library's HTTP server in a thread. Nothing leaves the machine.

Paths: ``/rss.xml`` (RSS 2.0) and ``/atom.xml`` (Atom) list the stories; ``/story/N`` are the pages
(each with a canonical link without the campaign parameters); ``/hop/1`` … redirect in a chain to a
story, ``/loop`` redirects to itself, ``/to-metadata`` to a cloud metadata address; ``/slow``
answers after ``slow_s``; ``/huge`` is 30 MB;
``/image.png`` is not a page; ``/private/…`` is disallowed by ``/robots.txt``; ``/broken.xml`` is a
malformed feed; ``/report.pdf`` is a PDF. Every response carries an ETag, and a request with the
matching ``If-None-Match`` gets 304. ``requests`` counts requests per path.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOWNS = ["Fernhollow", "Quarry Bay", "Aldermoor", "Kestrel Point", "Wrenfield", "Marlow Heath", "Stonebridge"]
TOPICS = [
    ("library", "The {town} council voted to extend the public library's opening hours to ten at night."),
    ("ferry", "A new electric ferry between {town} and the islands will start carrying passengers in May."),
    ("bakery", "A bakery in {town} won the regional bread prize for a rye loaf baked in a wood oven."),
    ("bridge", "Engineers closed the old bridge in {town} after finding cracks in two of its stone arches."),
    ("school", "The school in {town} will plant an orchard of forty apple trees with its pupils this autumn."),
]


def story(n: int) -> tuple[str, str, str]:
    """Story ``n``: (title, first sentence, date) — each distinct, written for these tests."""
    topic, sentence = TOPICS[n % len(TOPICS)]
    town = TOWNS[(n // len(TOPICS)) % len(TOWNS)]
    day = (datetime(2026, 11, 1, tzinfo=UTC) + timedelta(days=n % 28)).date().isoformat()
    return (
        f"{town} {topic} story number {n}",
        sentence.format(town=town) + f" The decision was number {n} this year.",
        day,
    )


_DETAILS = [
    "Residents of {town} said story {n} mattered to them, and the local paper followed it for weeks.",
    "A spokesperson for the county confirmed that {count} people had written letters about the plan.",
    "The work is expected to take {months} months, according to a timetable published by the council.",
    "Opponents in {town} argued the money would be better spent on {other}, but they lost the vote.",
    "Local shops along the {street} reported more customers in the week after the announcement.",
    "The {town} historical society asked that any old photographs be shared with its archive.",
    "Funding of {money} thousand pounds came from a regional grant awarded in the spring.",
    "Teachers, fishermen and retired nurses spoke at the public meeting, which lasted {hours} hours.",
    "A survey by the town newspaper found {share} percent of readers in favour of the change.",
    "The {town} mayor promised a second meeting in {month} to hear from people who could not attend.",
]
_OTHERS = ["road repairs", "flood defences", "the swimming pool", "bus services", "street lighting", "the harbour wall"]
_STREETS = ["High Street", "Harbour Road", "Mill Lane", "Church Street", "Station Road", "Quay Parade"]
_MONTHS = ["January", "February", "March", "April", "June", "September"]


def story_html(n: int, base: str) -> str:
    """Story ``n`` as a page: its first sentence, then four details chosen for it (seeded by ``n``),
    so no two stories are near-identical copies of each other."""
    import random

    title, first, day = story(n)
    town = title.split(" story")[0].rsplit(" ", 1)[0]
    rng = random.Random(n)
    fill = {
        "town": town,
        "n": n,
        "count": rng.randint(12, 900),
        "months": rng.randint(2, 30),
        "other": rng.choice(_OTHERS),
        "street": rng.choice(_STREETS),
        "money": rng.randint(15, 950),
        "hours": rng.randint(2, 5),
        "share": rng.randint(30, 90),
        "month": rng.choice(_MONTHS),
    }
    paragraphs = [first, *(d.format(**fill) for d in rng.sample(_DETAILS, 4))]
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<link rel="canonical" href="{base}/story/{n}">'
        f'<meta property="article:published_time" content="{day}T08:00:00Z">'
        f'<meta name="author" content="Reporter {n}"></head>'
        f"<body><article><h1>{title}</h1>{body}</article></body></html>"
    )


def rss(entries: list[int], base: str, campaign: bool = True) -> str:
    items = []
    for n in entries:
        title, first, day = story(n)
        when = format_datetime(datetime.fromisoformat(day).replace(hour=8, tzinfo=UTC))
        link = f"{base}/story/{n}" + ("?utm_source=rss&amp;utm_medium=feed" if campaign else "")
        items.append(
            f"<item><title>{title}</title><link>{link}</link><pubDate>{when}</pubDate>"
            f"<description>{first}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Coastal Towns News</title>'
        f"<link>{base}/</link><description>Stories written for tests</description>{''.join(items)}</channel></rss>"
    )


def atom(entries: list[int], base: str) -> str:
    items = []
    for n in entries:
        title, first, day = story(n)
        items.append(
            f'<entry><title>{title}</title><link href="{base}/story/{n}"/><id>urn:story:{n}</id>'
            f"<updated>{day}T08:00:00Z</updated><author><name>Reporter {n}</name></author>"
            f"<summary>{first}</summary></entry>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Coastal Towns Atom</title><id>urn:feed</id><updated>2026-11-30T00:00:00Z</updated>"
        f"{''.join(items)}</feed>"
    )


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` (its own minimal writer: no PDF library needed to serve it)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


@functools.cache
def gzip_bomb() -> bytes:
    """~1 GB of spaces as 100 concatenated gzip members of 10 MB each (about 1 MB on the wire)."""
    return gzip.compress(b" " * 10_000_000, 9) * 100


BOMBS: dict[str, tuple[str, Callable[[], bytes]]] = {
    "/bomb.gz": ("gzip", gzip_bomb),
    "/bomb-stacked.gz": ("gzip, gzip", lambda: gzip.compress(gzip_bomb()[: len(gzip_bomb()) // 100])),
    "/bomb.br": ("br", lambda: b"\x1b" + b"\0" * 1500),  # refused by its header, whatever the bytes
}


class NewsSite:
    """The site; ``entries`` (story numbers in the feeds) may be changed while it runs."""

    def __init__(self, entries: list[int] | None = None, slow_s: float = 5.0) -> None:
        self.entries = list(entries if entries is not None else range(1, 6))
        self.slow_s = slow_s
        self.requests: Counter[str] = Counter()
        self.user_agents: set[str] = set()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
                path = self.path.split("?")[0]
                site.requests[path] += 1
                site.user_agents.add(self.headers.get("User-Agent", ""))
                status, headers, body = site.respond(path)
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if status == 200 and self.headers.get("If-None-Match") == etag:
                    status, body = 304, b""
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if status in (200, 304):
                    self.send_header("ETag", etag)
                if path != "/huge":  # /huge declares no length: only counting the bytes can stop it
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if path == "/slow":
                    time.sleep(site.slow_s)
                try:
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def respond(self, path: str) -> tuple[int, dict[str, str], bytes]:
        html = {"Content-Type": "text/html; charset=utf-8"}
        if path == "/rss.xml":
            return 200, {"Content-Type": "application/rss+xml"}, rss(self.entries, self.base).encode()
        if path == "/atom.xml":
            return 200, {"Content-Type": "application/atom+xml"}, atom(self.entries, self.base).encode()
        if path.startswith("/story/") and path[7:].isdigit():
            return 200, html, story_html(int(path[7:]), self.base).encode()
        if path.startswith("/private/"):
            return 200, html, story_html(99, self.base).encode()
        if path == "/robots.txt":
            return 200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /private/\n"
        if path.startswith("/hop/"):
            n = int(path[5:])
            target = f"/hop/{n + 1}" if n < 3 else "/story/2"
            return 302, {"Location": target}, b""
        if path == "/loop":
            return 302, {"Location": "/loop"}, b""
        if path == "/to-metadata":
            return 302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""
        if path == "/slow":
            return 200, html, story_html(3, self.base).encode()
        if path == "/huge":
            return 200, html, b"<html><body><p>" + b"word " * 6_000_000 + b"</p></body></html>"
        if path in ("/bomb.gz", "/bomb-stacked.gz", "/bomb.br"):  # ~1 GB of spaces packed into ~1 MB
            return 200, {**html, "Content-Encoding": BOMBS[path][0]}, BOMBS[path][1]()
        if path == "/story-gz/3":
            return 200, {**html, "Content-Encoding": "gzip"}, gzip.compress(story_html(3, self.base).encode())
        if path == "/image.png":
            return 200, {"Content-Type": "image/png"}, b"\x89PNG\r\n\x1a\n" + b"\0" * 64
        if path == "/broken.xml":
            return 200, {"Content-Type": "application/rss+xml"}, b"<rss><channel><title>Broken</title><item><title>x"
        if path == "/report.pdf":
            return (
                200,
                {"Content-Type": "application/pdf"},
                tiny_pdf("The harbour authority of Quarry Bay reported four hundred ferry crossings in October."),
            )
        return 404, html, b"<html><body>not found</body></html>"

    def __enter__(self) -> NewsSite:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
