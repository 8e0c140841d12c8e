"""Fetching web pages and feeds, politely and safely (issue 26).

One :class:`Fetcher` per refresh or ingest. Every response is:

- **limited**: a connect timeout, a total time per response (a server that drips bytes is cut off
  too), a size limit per response checked while streaming (``Content-Length`` first, then the bytes
  as they are decompressed, by this module and never more than the limit at once: gzip or deflate
  only, one layer, and at most ``max_ratio`` times the bytes received), at most ``max_redirects``
  redirects (each hop checked like the first), and a content type the ingest can read (HTML, XML/RSS/Atom, PDF);
- **polite**: a user agent that names the project, at most ``per_host`` requests at once to one
  host, each started at least ``host_delay_s`` after the one before, and ``robots.txt`` honoured
  (the standard library's parser; a missing file allows everything, 401/403 or an unreachable file
  nothing);
- **guarded**: unless allowed, a host that resolves to a loopback, private, link-local (cloud
  metadata), shared, multicast or reserved address is refused, on every redirect, and the request
  goes to the address that was checked (the ``Host`` header and TLS server name keep the host's
  name), so a DNS answer that changes between check and connection gains nothing. Proxies from the
  environment are not used.

A failure is a :class:`FetchError` with a short reason ("timed out after 20 s", "HTTP 404", "over the
limit of 10 MB", "refused: 10.0.0.5 is a private address") for the source's status line.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import urllib.robotparser
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit, urlunsplit

from index.errors import FetchError
from index.web.bounded_decode import BoundedDecoder

USER_AGENT = "news-assistant/0.1 (+offline news question answering; one fetch per article)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
FEED_TYPES = ("application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml", "text/xml")
PDF_TYPES = ("application/pdf",)
READABLE = HTML_TYPES + FEED_TYPES + PDF_TYPES
ROBOTS_MAX_BYTES = 512_000
ACCEPT_ENCODING = "gzip, deflate"  # decoded here, bounded (see _Decoder); br and zstd are not asked for


@dataclass(frozen=True)
class FetchLimits:
    """What one fetch may cost and whom it may reach (``sources.*`` settings)."""

    user_agent: str = USER_AGENT
    connect_timeout_s: float = 5.0
    timeout_s: float = 20.0  # total, per response
    max_bytes: int = 10_000_000  # after decompression
    max_ratio: int = 100  # decompressed bytes per received byte, beyond RATIO_FLOOR
    max_redirects: int = 5
    per_host: int = 2
    host_delay_s: float = 0.5
    allow_private: bool = False
    obey_robots: bool = True


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    status: int  # 200, or 304 (not modified: no body)
    content_type: str  # lower case, without parameters
    body: bytes
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def kind(self) -> str:
        """``html``, ``feed`` or ``pdf`` (from the content type)."""
        if self.content_type in HTML_TYPES:
            return "html"
        return "pdf" if self.content_type in PDF_TYPES else "feed"


def refused_address(address: str) -> str | None:
    """Why a server may not fetch from ``address`` (None: a public address)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        else:  # an IPv4 address inside an IPv6 one (6to4, Teredo, NAT64) is judged as that address
            for inner in _embedded_ipv4(ip):
                why = refused_address(str(inner))
                if why:
                    return f"{address} holds {inner}: {why.split(' is ', 1)[1]}"
    for test, what in (
        (ip.is_loopback, "a loopback"),
        (ip.is_link_local, "a link-local (cloud metadata)"),
        (ip.is_private, "a private"),
        (ip.is_multicast, "a multicast"),
        (ip.is_unspecified, "an unspecified"),
        (ip.is_reserved, "a reserved"),
        (not ip.is_global, "a non-public"),
    ):
        if test:
            return f"{address} is {what} address"
    return None


NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a 6to4, Teredo, NAT64 or IPv4-compatible address carries."""
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in NAT64 or (int(ip) >> 32 == 0 and int(ip) > 0xFFFF):  # 64:ff9b::a.b.c.d, ::a.b.c.d
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


@dataclass
class _Host:
    slots: threading.Semaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0
    robots: urllib.robotparser.RobotFileParser | None = None
    robots_checked: bool = False


class Fetcher:
    """Fetches URLs under :class:`FetchLimits`; thread-safe. ``resolve`` (host, port) → addresses
    replaces DNS in tests."""

    def __init__(
        self,
        limits: FetchLimits | None = None,
        resolve: Callable[[str, int], list[str]] | None = None,
    ) -> None:
        self.limits = limits or FetchLimits()
        self._resolve = resolve or _resolve
        self._hosts: dict[str, _Host] = {}
        self._lock = threading.Lock()
        import httpx  # here, not at import: opening an index never needs it

        timeout = httpx.Timeout(self.limits.timeout_s, connect=self.limits.connect_timeout_s)
        self._client = httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False)
        self.requests = 0  # made, robots.txt included

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- public --------------------------------------------------------------------------
    def get(
        self,
        url: str,
        etag: str = "",
        last_modified: str = "",
        trusted_host: str = "",
        types: tuple[str, ...] = READABLE,
    ) -> Response:
        """GET ``url`` (conditionally, given ``etag`` or ``last_modified``), following redirects.
        ``trusted_host``: a ``host:port`` this machine's user named, fetched even when private."""
        current = url
        for _ in range(self.limits.max_redirects + 1):
            parts = _check_url(current)
            target = self._target(current, trusted_host)  # a refused address is said before robots.txt is asked
            if self.limits.obey_robots and not self._robots_allow(parts, trusted_host):
                raise FetchError(current, "robots.txt disallows it")
            headers = {"If-None-Match": etag} if etag else {}
            if last_modified:
                headers["If-Modified-Since"] = last_modified
            status, location, response = self._request(current, headers, trusted_host, types, target)
            if location is None:
                assert response is not None
                return response
            current = urljoin(current, location)
        raise FetchError(url, f"more than {self.limits.max_redirects} redirects")

    # ---- one request ---------------------------------------------------------------------
    def _host(self, netloc: str) -> _Host:
        with self._lock:
            if netloc not in self._hosts:
                self._hosts[netloc] = _Host(threading.Semaphore(self.limits.per_host))
            return self._hosts[netloc]

    def _target(self, url: str, trusted_host: str) -> tuple[str, dict[str, str], dict[str, str]]:
        """The URL to connect to (the checked address in place of the host name), headers, extensions."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port or (443 if parts.scheme == "https" else 80)
        if self.limits.allow_private or parts.netloc.lower() == trusted_host.lower():
            return url, {}, {}
        try:
            addresses = self._resolve(host, port)
        except OSError as e:
            raise FetchError(url, f"cannot resolve {host}: {e.strerror or e}") from None
        if not addresses:
            raise FetchError(url, f"cannot resolve {host}")
        for address in addresses:  # every address the name has must be public
            why = refused_address(address)
            if why:
                raise FetchError(url, f"refused: {why} (setting sources.allow_private)")
        address = addresses[0]
        shown = f"[{address}]" if ":" in address else address
        netloc = f"{shown}:{parts.port}" if parts.port else shown
        pinned = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
        extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
        return pinned, {"Host": parts.netloc}, extensions

    def _request(
        self,
        url: str,
        headers: dict[str, str],
        trusted_host: str,
        types: tuple[str, ...],
        checked: tuple[str, dict[str, str], dict[str, str]] | None = None,
    ) -> tuple[int, str | None, Response | None]:
        """One GET of ``url``; ``checked``: its address already resolved and checked (``_target``)."""
        import httpx

        target, extra, extensions = checked or self._target(url, trusted_host)
        host = self._host(urlsplit(url).netloc.lower())
        limit = self.limits.max_bytes
        with host.slots:
            with host.lock:  # requests to one host start host_delay_s apart
                wait = host.next_start - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                host.next_start = time.monotonic() + self.limits.host_delay_s
            with self._lock:
                self.requests += 1
            started = time.monotonic()
            request = self._client.build_request(
                "GET",
                target,
                headers={
                    "User-Agent": self.limits.user_agent,
                    "Accept": ", ".join(types),
                    "Accept-Encoding": ACCEPT_ENCODING,
                    **headers,
                    **extra,
                },
                extensions=extensions,
            )
            try:
                response = self._client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(url, f"timed out after {self.limits.timeout_s:g} s") from None
            except httpx.HTTPError as e:
                raise FetchError(url, f"cannot connect: {type(e).__name__}") from None
            try:
                if response.status_code in (301, 302, 303, 307, 308):
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(url, f"HTTP {response.status_code} without a Location")
                    return response.status_code, location, None
                etag = response.headers.get("etag", "")
                modified = response.headers.get("last-modified", "")
                if response.status_code == 304:
                    return 304, None, Response(url, 304, "", b"", etag, modified)
                if response.status_code != 200:
                    raise FetchError(url, f"HTTP {response.status_code}")
                kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
                if kind not in types:
                    raise FetchError(url, f"not a web page, feed or PDF: {kind or 'no content type'}")
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > limit:
                    raise FetchError(
                        url, f"{int(declared):,} bytes, over the limit of {limit:,} (sources.max_response_mb)"
                    )
                encoding = response.headers.get("content-encoding", "")
                decoder = BoundedDecoder(url, encoding, limit, self.limits.max_ratio)
                chunks = []
                for raw in response.iter_raw():
                    chunks.append(decoder.decode(raw))
                    if time.monotonic() - started > self.limits.timeout_s:
                        raise FetchError(url, f"timed out after {self.limits.timeout_s:g} s")
                chunks.append(decoder.finish())
                return 200, None, Response(url, 200, kind, b"".join(chunks), etag, modified)
            except httpx.TimeoutException:
                raise FetchError(url, f"timed out after {self.limits.timeout_s:g} s") from None
            except httpx.HTTPError as e:
                raise FetchError(url, f"the response broke off: {type(e).__name__}") from None
            finally:
                response.close()

    # ---- robots.txt ----------------------------------------------------------------------
    def _robots_allow(self, split: tuple[str, str, str, str, str], trusted_host: str) -> bool:
        scheme, netloc = split[0], split[1].lower()
        host = self._host(netloc)
        with host.lock:
            checked = host.robots_checked
        if not checked:
            parser = urllib.robotparser.RobotFileParser()
            robots_url = f"{scheme}://{netloc}/robots.txt"
            try:
                _, location, response = self._request(robots_url, {}, trusted_host, ("text/plain",))
                if location is None and response is not None:
                    parser.parse(response.body.decode("utf-8", "replace").splitlines())
                else:
                    parser.allow_all = True  # a redirected robots.txt: treated as missing
            except FetchError as e:
                if e.reason.startswith("HTTP 4") and e.reason not in ("HTTP 401", "HTTP 403"):
                    parser.allow_all = True  # no robots.txt: everything allowed
                elif e.reason.startswith("not a web page"):
                    parser.allow_all = True  # served as something else: no rules
                else:
                    parser.disallow_all = True  # 401/403, 5xx, unreachable: nothing (RFC 9309)
            with host.lock:
                host.robots, host.robots_checked = parser, True
        assert host.robots is not None
        return host.robots.can_fetch(self.limits.user_agent, urlunsplit(split))


def _check_url(url: str) -> tuple[str, str, str, str, str]:
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise FetchError(url, f"not a URL: {e}") from None
    if parts.scheme not in ("http", "https"):
        raise FetchError(url, "only http and https URLs are fetched")
    if not parts.hostname:
        raise FetchError(url, "no host in the URL")
    if parts.username or parts.password:
        raise FetchError(url, "URLs with a user name or password are not fetched")
    return (parts.scheme, parts.netloc, parts.path, parts.query, "")


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))
