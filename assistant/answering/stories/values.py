"""When do two reports give the same answer? Values compared by meaning, not spelling: "Seventeen",
"17" and "about 17" are one count; "1,200" and "1,140" are two; "Clara Voss" and "Voss" one person."""

from __future__ import annotations

import re

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "a dozen": 12, "dozen": 12,
}  # fmt: skip
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000, "bn": 1_000_000_000,
           "m": 1_000_000, "k": 1_000}  # fmt: skip
_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")
_WORD = re.compile(r"[a-z]+")
NUMERIC = {"CARDINAL", "QUANTITY", "MONEY", "PERCENT", "ORDINAL"}


def number(text: str) -> float | None:
    """The number ``text`` states ("17", "1,200", "Seventeen", "48 million", "twenty-one"), or None."""
    low = text.casefold().replace("-", " ")
    m = _NUMBER.search(low)
    if m:
        value = float(m.group(0).replace(",", ""))
        rest = _WORD.findall(low[m.end() :])
        if rest and rest[0] in _SCALES:
            value *= _SCALES[rest[0]]
        return value
    total, current, seen = 0.0, 0.0, False
    for word in _WORD.findall(low):
        if word in _UNITS:
            current += _UNITS[word]
            seen = True
        elif word in _SCALES and seen:
            current = max(current, 1) * _SCALES[word]
            if _SCALES[word] >= 1000:
                total, current = total + current, 0.0
    return total + current if seen else None


def same_value(one: str, other: str, label: str = "") -> bool:
    """Whether two answers state the same value (numbers by magnitude, names by their words)."""
    if label in NUMERIC or (number(one) is not None and number(other) is not None):
        a, b = number(one), number(other)
        if a is not None and b is not None:
            return abs(a - b) < 1e-9
    words = [
        set(_WORD.findall(x.casefold())) - {"the", "a", "an", "of", "about", "some", "around"} for x in (one, other)
    ]
    if not words[0] or not words[1]:
        return one.strip().casefold() == other.strip().casefold()
    return words[0] <= words[1] or words[1] <= words[0]  # "Voss" and "Clara Voss"


_NUMBER_WORDS = "|".join(sorted((w for w in _UNITS if " " not in w), key=len, reverse=True))
COUNT = re.compile(
    rf"(?<![\w,.])(?P<value>\d[\d,]*(?:\.\d+)?|(?:{_NUMBER_WORDS})(?:[ -](?:{_NUMBER_WORDS}))*)"
    r"(?:\s+(?P<scale>hundred|thousand|million|billion))?"
    r"\s+(?P<unit>[A-Za-z][a-z]+)",
    re.I,
)
_HOW_MANY = re.compile(r"\bhow\s+many\s+(?P<words>(?:[A-Za-z'’-]+\s+){0,3})", re.I)
_FILLER = {"more", "than", "of", "the", "about", "around", "some", "nearly", "almost", "over", "up", "to"}
_VERBS = {"were", "was", "are", "is", "did", "do", "does", "have", "has", "had", "will", "would", "can", "could"}
NOT_COUNTED = {"percent", "per", "cent", "pounds", "dollars", "euros", "years", "times"}  # amounts, not things


def asked_unit(question: str) -> str:
    """What a "how many X" question counts ("nurses" in "How many Kellford nurses walked out?"), or ""."""
    m = _HOW_MANY.search(question)
    if not m:
        return ""
    word = next((w for w in m.group("words").split() if w[:1].islower() and w not in _FILLER), "")
    return "" if word in _VERBS or word in NOT_COUNTED else word


def unit_after(text: str, end: int) -> str:
    """The word that follows a value ending at ``end`` ("homes" in "8,000 homes in Ashby")."""
    words = [w for w in re.findall(r"[A-Za-z]+", text[end : end + 40]) if w.lower() not in _FILLER]
    return words[0] if words else ""


def counts(text: str, unit: str) -> list[tuple[int, int, str]]:
    """Where ``text`` counts ``unit`` ("17 people", "Seventeen people", "about 8,500 homes"): the value's
    (start, end, words), in text order."""
    from index.language.words import stem

    want = stem(unit.lower())
    out = []
    for m in COUNT.finditer(text):
        if stem(m.group("unit").lower()) == want:
            end = m.end("scale") if m.group("scale") else m.end("value")
            out.append((m.start("value"), end, text[m.start("value") : end]))
    return out
