"""A fetched body's bytes as received → its content, decompressed here and bounded (issue 33).

httpx unpacks each whole network chunk before anyone can count the bytes, so a 1.5 KB response
that unpacks to 1 GB took the server to 2.2 GB before the size limit said no. The fetcher reads the
raw bytes and this decoder unpacks them, never producing more than the limit at once.
"""

from __future__ import annotations

import zlib

from index.errors import FetchError

RATIO_FLOOR = 1_000_000  # the expansion ratio is checked once this many bytes came out


class BoundedDecoder:
    """A response body's bytes as received → its content, decompressed here (httpx would unpack a
    whole network chunk before anyone counts it): at most ``limit`` bytes ever come out, a body that
    would give more fails as soon as it passes the limit, and so does one that expands more than
    ``ratio`` times (past :data:`RATIO_FLOOR`). Only one layer of gzip or deflate is read."""

    def __init__(self, url: str, encoding: str, limit: int, ratio: int) -> None:
        self.url, self.limit, self.ratio = url, limit, ratio
        codings = [c.strip().lower() for c in encoding.split(",") if c.strip().lower() not in ("", "identity")]
        if len(codings) > 1:
            raise FetchError(url, f"stacked content encodings ({encoding}) are refused")
        coding = codings[0] if codings else ""
        if coding not in ("", "gzip", "x-gzip", "deflate"):
            raise FetchError(url, f"content encoding {coding!r} is not accepted (only gzip or deflate)")
        self._wbits = 16 + zlib.MAX_WBITS if coding in ("gzip", "x-gzip") else zlib.MAX_WBITS
        self._zlib = zlib.decompressobj(self._wbits) if coding else None
        self.received = self.produced = 0

    def decode(self, raw: bytes) -> bytes:
        self.received += len(raw)
        if self._zlib is None:
            return self._count(raw)
        out = []
        data = raw
        try:
            while data:
                # never more than one byte past the limit at once: a bomb cannot unpack in memory
                out.append(self._count(self._zlib.decompress(data, self.limit - self.produced + 1)))
                data = self._zlib.unconsumed_tail
                if self._zlib.eof and self._zlib.unused_data:  # concatenated gzip members
                    data = self._zlib.unused_data
                    self._zlib = zlib.decompressobj(self._wbits)
        except zlib.error as e:
            raise FetchError(self.url, f"the compressed body is damaged ({e})") from None
        return b"".join(out)

    def finish(self) -> bytes:
        if self._zlib is None:
            return b""
        try:
            return self._count(self._zlib.flush())
        except zlib.error as e:
            raise FetchError(self.url, f"the compressed body is damaged ({e})") from None

    def _count(self, chunk: bytes) -> bytes:
        self.produced += len(chunk)
        if self.produced > self.limit:
            raise FetchError(self.url, f"over the limit of {self.limit:,} bytes (sources.max_response_mb)")
        if self.produced > RATIO_FLOOR and self.produced > self.ratio * self.received:
            raise FetchError(self.url, f"expands more than {self.ratio} times when decompressed (a compression bomb?)")
        return chunk
