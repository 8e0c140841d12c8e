"""Counts in words, as people write them: "1 article", "2 articles", "1 story", "3 stories"."""

from __future__ import annotations

_IRREGULAR = {"story": "stories", "copy": "copies", "entry": "entries", "id": "ids"}


def counted(n: int, noun: str) -> str:
    """``n`` and ``noun``, plural unless ``n`` is 1 ("1 passage", "12 passages", "0 stories")."""
    return f"{n:,} {noun if n == 1 else _IRREGULAR.get(noun, noun + 's')}"
