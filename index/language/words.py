"""Word-level text handling shared by keyword search and answer scoring."""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
import types
from functools import lru_cache
from pathlib import Path

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
    """NLTK's Porter stemmer, loaded without running ``nltk/__init__`` (which imports scipy,
    scikit-learn and pandas: ~4 s of a cold start): its three small modules are read under
    placeholder parent packages, which are dropped again so a later ``import nltk`` is the real one."""
    if "nltk" in sys.modules:
        from nltk.stem.porter import PorterStemmer

        return PorterStemmer()
    spec = importlib.util.find_spec("nltk")
    if spec is None or spec.origin is None:
        raise ImportError("the Porter stemmer needs nltk: pip install nltk")
    root = Path(spec.origin).parent
    before = set(sys.modules)
    for name, folder in (("nltk", root), ("nltk.stem", root / "stem")):
        placeholder = types.ModuleType(name)
        placeholder.__path__ = [str(folder)]
        sys.modules[name] = placeholder
    try:
        return importlib.import_module("nltk.stem.porter").PorterStemmer()
    finally:
        for name in set(sys.modules) - before:
            if name == "nltk" or name.startswith("nltk."):
                del sys.modules[name]


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
