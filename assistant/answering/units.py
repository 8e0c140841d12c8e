"""Numbers keep their units: a claim's "3.2 million pounds" is not a passage's "3.2 million dollars".

:func:`units_hold` reads every number of a claim with the currency or unit written beside it
("$3.2m", "3.2 million dollars", "40 percent", "12 km") and checks it against the same number in the
passage: when the passage writes that number only with other units, the claim changed its unit.
A number the passage writes without a unit, or with the same one, holds; a claim's number without
a unit is not judged here (the judge's novel-number check covers numbers themselves).
"""

from __future__ import annotations

import re

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
