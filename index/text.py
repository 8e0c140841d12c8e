"""Word-level text handling shared by keyword search and answer scoring."""

from __future__ import annotations

import re
from functools import lru_cache

TOKENIZER_VERSION = "porter-v1"
_WORD = re.compile(r"[A-Za-z0-9]+(?:[-'’][A-Za-z0-9]+)*")
STOPWORDS = frozenset(
    """a an the of to in on at for with by about from into over after before and or but not no is are was
    were be been being do does did has have had having what which who whom whose when where why how that
    this these those there their they them it its he she his her him we our you your i me my as than then
    so if can could would should will shall may might must any some all many much more most other such
    also just only very tell say said says according one two""".split()
)


@lru_cache(maxsize=1)
def _porter():  # type: ignore[no-untyped-def]
    from nltk.stem.porter import PorterStemmer

    return PorterStemmer()


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    return str(_porter().stem(word))


def terms(text: str) -> list[str]:
    """Content words of ``text`` in order: lower-cased and Porter-stemmed, stop words dropped,
    except capitalised acronyms such as "US", which are kept (as "us")."""
    out = []
    for w in _WORD.findall(text):
        if w.isupper() and len(w) >= 2:
            out.append(w.lower())
        elif (low := w.lower()) not in STOPWORDS:
            out.append(stem(low))
    return out


def keywords(text: str) -> set[str]:
    """The set of :func:`terms` of ``text``."""
    return set(terms(text))
