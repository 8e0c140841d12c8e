"""Names and quantities a claim brings that its passage never mentions, read by spaCy's named-entity
recogniser (``en_core_web_sm``, :mod:`assistant.answering.nlp`).

The lexical judge finds names by capitalisation and numbers by digits; spaCy also knows what they
are: a ``PERSON``, an ``ORG``, a ``GPE`` (country, city), a ``DATE``, ``MONEY``, ``PERCENT`` …
An entity of the claim is *novel* when the passage lacks it: for one written with digits, when any
of its numbers is missing from the passage's numbers ("$3.2m" needs a 3.2); for any other, when its
text (case ignored, without a leading "the") is not in the passage. Only the claim is parsed —
claims are short, so a check costs a few milliseconds once the pipeline is loaded.

:data:`NAMES` are the types that name something; the others (dates, times, amounts, percentages,
ordinals, cardinals, quantities) count as quantities. Their units are
:mod:`assistant.answering.judges.units`' job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering import nlp

NAMES = frozenset("PERSON ORG GPE NORP LOC FAC EVENT WORK_OF_ART PRODUCT LAW LANGUAGE".split())
_DIGITS = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class Entity:
    """One entity of a claim: its text and spaCy's label for it."""

    text: str
    label: str

    @property
    def is_name(self) -> bool:
        return self.label in NAMES


def _numbers(text: str) -> list[str]:
    return _DIGITS.findall(text.replace(",", ""))


def _missing(entity: Entity, passage_low: str, passage_numbers: set[str]) -> bool:
    digits = _numbers(entity.text)
    if digits:
        return any(d not in passage_numbers for d in digits)
    return entity.text.lower().removeprefix("the ").strip() not in passage_low


def novel_entities_many(items: Sequence[tuple[str, str]]) -> list[list[Entity]]:
    """For each (passage, claim): the claim's entities the passage does not mention."""
    docs = nlp.pipeline().pipe([claim for _, claim in items])
    out = []
    for (passage, _), doc in zip(items, docs, strict=True):
        low, numbers = passage.lower(), set(_numbers(passage))
        entities = [Entity(e.text, e.label_) for e in doc.ents]
        out.append([e for e in entities if _missing(e, low, numbers)])
    return out


def novel_entities(passage: str, claim: str) -> list[Entity]:
    """The claim's entities ``passage`` does not mention (see the module docstring)."""
    return novel_entities_many([(passage, claim)])[0]
