"""Numbers keep their units and their place: a claim's "3.2 million pounds" is not a passage's "3.2
million dollars", and "Torao Toshitsune is 114 years old" is not "where the oldest member is 114".

:func:`units_hold` reads every number of a claim with the currency or unit written beside it
("$3.2m", "3.2 million dollars", "40 percent", "12 km") and checks it against the same number in the
passage: when the passage writes that number only with other units, the claim changed its unit.
A number the passage writes without a unit, or with the same one, holds; a claim's number without
a unit is not judged here (the judge's novel-number check covers numbers themselves).

:func:`numbers_in_place` reads the words right around each number of the claim (three on each
side): one of them must stand near the same number in the passage (within six words) somewhere, or
the claim has moved the number to another thing ("Torao Toshitsune is 114 years old" against "where
the oldest member is 114"). Chosen on the 148 hand-labelled written sentences of
``benchmarks/verification.py``, where it rejects two such sentences and no supported one (three
words in the passage too would reject a third, and also "approved … by 7 to 2" against "by a vote
of 7 to 2").
"""

from __future__ import annotations

import re

from index.language.words import terms

# unit words and symbols by what they measure; every spelling maps to one name
_UNITS = {
    "USD": "$ us$ dollar dollars usd",
    "GBP": "£ pound pounds sterling gbp",
    "EUR": "€ euro euros eur",
    "JPY": "¥ yen jpy",
    "CNY": "yuan renminbi cny",
    "INR": "rupee rupees inr",
    "CHF": "franc francs chf",
    "percent": "% percent per-cent pct",
    "km": "km kilometre kilometres kilometer kilometers",
    "mile": "mile miles mi",
    "metre": "m metre metres meter meters",
    "kg": "kg kilogram kilograms kilogramme kilogrammes",
    "tonne": "tonne tonnes ton tons",
    "litre": "litre litres liter liters",
    "hectare": "hectare hectares ha",
    "acre": "acre acres",
    "degree": "°c °f degree degrees",
}
UNIT_OF = {word: name for name, words in _UNITS.items() for word in words.split()}
_SCALE = r"(?:\s*(?:million|billion|trillion|thousand|bn|m|k)\b)?"
_NUMBER = r"\d+(?:[.,]\d+)*"
_SYMBOL_FIRST = re.compile(rf"(US\$|\$|£|€|¥)\s?({_NUMBER}){_SCALE}", re.I)
_WORD_AFTER = re.compile(
    rf"({_NUMBER}){_SCALE}\s*(%|°[cf]|per cent|[a-z]+)",
    re.I,
)


def _number(text: str) -> str:
    """A number as written, without thousands separators or trailing decimal zeros ("1,100" → "1100")."""
    plain = text.replace(",", "")
    if "." in plain:
        plain = plain.rstrip("0").rstrip(".")
    return plain


def quantities(text: str) -> dict[str, set[str]]:
    """Each number of ``text`` with the units written beside it (empty set: none)."""
    found: dict[str, set[str]] = {}
    for m in re.finditer(_NUMBER, text):
        found.setdefault(_number(m.group(0)), set())
    for m in _SYMBOL_FIRST.finditer(text):
        found.setdefault(_number(m.group(2)), set()).add(UNIT_OF[m.group(1).lower()])
    for m in _WORD_AFTER.finditer(text):
        word = m.group(2).lower().replace("per cent", "percent")
        if word in UNIT_OF and not (word == "m" and m.group(0).rstrip().lower().endswith(" m")):
            found.setdefault(_number(m.group(1)), set()).add(UNIT_OF[word])
    return found


def changed_units(passage: str, claim: str) -> list[str]:
    """The claim's numbers whose unit the passage never writes with that number (it writes others)."""
    have = quantities(passage)
    out = []
    for number, units in quantities(claim).items():
        there = have.get(number)
        if units and there and not (units & there):
            out.append(f"{number} {'/'.join(sorted(units))} (the passage: {'/'.join(sorted(there))})")
    return out


def units_hold(passage: str, claim: str) -> bool:
    """Whether every number of the claim keeps the unit the passage gives it."""
    return not changed_units(passage, claim)


CLAIM_WORDS = 3  # words on each side of a claim's number that say what it counts
PASSAGE_WORDS = 6  # how far around the same number in the passage they may stand (paraphrases drop words)
_TOKEN = re.compile(r"\w+(?:[.,]\d+)*")


def _contexts(text: str, width: int) -> dict[str, list[set[str]]]:
    """Each number of ``text`` with the content words (stemmed) up to ``width`` words around each of
    its places."""
    tokens = _TOKEN.findall(text)
    out: dict[str, list[set[str]]] = {}
    for i, token in enumerate(tokens):
        if re.fullmatch(_NUMBER, token):
            near = tokens[max(0, i - width) : i] + tokens[i + 1 : i + 1 + width]
            words = {w for w in terms(" ".join(near)) if not re.fullmatch(_NUMBER, w)}
            out.setdefault(_number(token), []).append(words)
    return out


def numbers_in_place(passage: str, claim: str) -> bool:
    """Whether every number the claim shares with the passage stands among words the passage has
    around it somewhere (a claim's number with no content word around it is not judged)."""
    there = _contexts(passage, PASSAGE_WORDS)
    for number, places in _contexts(claim, CLAIM_WORDS).items():
        for words in places:
            if number in there and words and not any(words & near for near in there[number]):
                return False
    return True
