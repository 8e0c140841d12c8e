"""Near-identical articles: the same story as an HTML page and as a PDF, or one wire story carried
by two outlets. A new article whose text is near-identical to one already indexed is kept as a
*copy* of it (``Article.copies``: its record, with source, path or URL, not indexed again), so the
story is searched and cited once and both sources are listed.

Near-identical means: the resemblance (Jaccard) of the two texts' word 3-shingles is at least
``IndexSettings.copy_similarity``, and their dates (when both have one) are at most ``DAYS`` apart:
a story republished years later is another article for questions asked as of a day. Candidates
come from the passage vectors already stored (the nearest passages to the new article's first
passages), so no signature of every article is kept.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date

import numpy as np

from index.records import Article

WORDS = re.compile(r"\w+")
SHINGLE = 3  # words per shingle
PROBES = 2  # the new article's first passages that look for candidates (a search each)
NEIGHBOURS = 3  # nearest passages each probe considers
DAYS = 2  # most days between a copy's date and its article's
CLOSE = 0.75  # cosine of a candidate's passage to a probe (a copy under another headline: ~0.84 on a short story)

Search = Callable[[np.ndarray, int], list[tuple[str, float]]]  # vector, k -> (article id, cosine), best first


def shingles(text: str) -> set[str]:
    """The text's word 3-shingles, lower-cased, punctuation and layout ignored (a PDF's line
    breaks and hyphen spacing, an HTML page's whitespace)."""
    words = WORDS.findall(text.lower())
    if len(words) < SHINGLE:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i : i + SHINGLE]) for i in range(len(words) - SHINGLE + 1)}


def same_days(a: str, b: str) -> bool:
    """Whether two article dates are at most ``DAYS`` apart (True when either is missing or unreadable)."""
    try:
        return abs((date.fromisoformat(a[:10]) - date.fromisoformat(b[:10])).days) <= DAYS
    except ValueError:
        return True


def resemblance(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two shingle sets (0 when both are empty)."""
    return len(a & b) / len(a | b) if a or b else 0.0


def find_original(
    article: Article,
    vectors: np.ndarray,
    search: Search,
    articles: Callable[[str], Article | None],
    threshold: float,
) -> tuple[str, float] | None:
    """The indexed article ``article`` is a near-identical copy of, with their resemblance, or None.

    ``vectors``: the new article's passage vectors; ``search``: nearest stored passages (by
    article); ``articles``: finds an indexed article by id. ``threshold`` 0 turns the check off."""
    if threshold <= 0 or not len(vectors):
        return None
    candidates = dict.fromkeys(
        aid for vector in vectors[:PROBES] for aid, score in search(vector, NEIGHBOURS) if score >= CLOSE
    )
    mine: set[str] | None = None
    best: tuple[str, float] | None = None
    for aid in candidates:
        other = articles(aid)
        if other is None or aid == article.id or not same_days(article.date, other.date):
            continue
        short, long = sorted((len(article.text), len(other.text)))
        if short < threshold * 0.9 * long:  # resemblance is at most about the length ratio
            continue
        mine = mine if mine is not None else shingles(article.text)
        score = resemblance(mine, shingles(other.text))
        if score >= threshold and (best is None or score > best[1]):
            best = (aid, score)
    return best
