"""The one citation format, [n], and a defensive parser for it."""

from __future__ import annotations

import re

# Said whenever the articles don't answer; tests and the UI use this constant too.
NOT_IN_ARTICLES = "The articles don't say: none of the loaded articles answers this question."

_MARKER = re.compile(r"\[(\d+)\]")
_CLAIM = re.compile(r"(.+?(?:\s*\[\d+\])+)(?=\s|$)|(.+?)$", re.S)


def marker(n: int) -> str:
    return f"[{n}]"


def parse_markers(text: str, count: int) -> list[int]:
    """Citation numbers in ``text`` that point at one of ``count`` passages (1-based), in order of
    first appearance. Out-of-range markers such as [0] or [count+1] are dropped, never wrapped."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if 1 <= n <= count and n not in seen:
            seen.append(n)
    return seen


def split_claims(text: str, count: int) -> list[tuple[str, list[int]]]:
    """The answer's claims: each run of text up to its trailing markers, with the valid markers.

    "A [1] B [2][3]" gives [("A", [1]), ("B", [2, 3])]. Text after the last marker is a claim with
    no citation, so an uncited sentence is visible to whoever checks the answer.
    """
    claims = []
    for m in _CLAIM.finditer(text.strip()):
        chunk = m.group(0).strip()
        if not chunk:
            continue
        claim = _MARKER.sub("", chunk).strip()
        if claim:
            claims.append((claim, parse_markers(chunk, count)))
    return claims
