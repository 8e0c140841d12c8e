"""Follow-up questions made standalone before retrieval.

With an LLM engine the model rewrites the question ("And what did his sister say?" → "What did
Kim Jong Un's sister say?"). Without one, a tested rule: a question that refers back (a pronoun) or
has two content words or fewer and names nobody is searched together with the previous question.
A leading "and"/"also"/"what about" alone does not make a question depend on the one before: "And
what did Kim Yo-jong say?" is searched as "what did Kim Yo-jong say?".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from index.language.words import keywords

_REFERRING = re.compile(r"\b(it|its|they|them|their|he|she|his|her|him|this|that|these|those|there|then)\b", re.I)
_LEADING = re.compile(r"^\s*(?:and|also|so|but)\b[\s,]*", re.I)
_NAME = re.compile(r"(?<=\w )[A-Z][\w’'-]+")  # a capitalised word that does not start the question

History = Sequence[tuple[str, str]]


def strip_leading(question: str) -> str:
    """The question without a leading "and", "also", "so" or "but"."""
    rest = _LEADING.sub("", question, count=1)
    return rest[:1].upper() + rest[1:] if rest else question


def is_follow_up(question: str, history: History | None) -> bool:
    """Whether ``question`` reads as depending on the conversation before it."""
    if not history:
        return False
    rest = strip_leading(question)
    return bool(_REFERRING.search(rest)) or (len(keywords(rest)) <= 2 and not _NAME.search(rest))


def rule_rewrite(question: str, history: History | None) -> str:
    """The question, preceded by the previous question when it reads as a follow-up."""
    if not history or not is_follow_up(question, history):
        return strip_leading(question) if history else question
    return f"{history[-1][0]} {question}"
