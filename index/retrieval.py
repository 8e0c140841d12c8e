"""Retrieval modes, filters, rank fusion and article-level diversity."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from index.records import Article


class Mode(StrEnum):
    DENSE = "dense"
    KEYWORD = "keyword"
    HYBRID = "hybrid"


@dataclass(frozen=True)
class Filters:
    """Which articles a search may return. Dates are ISO strings compared by their first 10
    characters (YYYY-MM-DD); an article without a date fails any date filter."""

    sources: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    article_ids: tuple[str, ...] = ()
    as_of: str | None = None  # the day the question is asked: later articles are never used

    def __bool__(self) -> bool:
        return bool(self.sources or self.since or self.until or self.article_ids or self.as_of)

    def allows(self, article: Article) -> bool:
        if self.sources and article.source.casefold() not in {s.casefold() for s in self.sources}:
            return False
        if self.article_ids and article.id not in self.article_ids and article.key not in self.article_ids:
            return False
        day = article.date[:10]
        if self.as_of and day and day > self.as_of[:10]:  # an undated article may be older: kept
            return False
        if self.since and not (day and day >= self.since[:10]):
            return False
        return not (self.until and not (day and day <= self.until[:10]))


def reciprocal_rank_fusion(rankings: Sequence[Sequence[int]], k: int = 60) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of 1 / (k + rank), rank from 1."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, pid in enumerate(ranking, start=1):
            scores[pid] = scores.get(pid, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def score_fusion(
    dense: Sequence[tuple[int, float]], keyword: Sequence[tuple[int, float]], dense_weight: float
) -> list[tuple[int, float]]:
    """Fuse scored candidate lists: ``dense_weight`` × cosine scaled to [0, 1] over the dense
    candidates (min to max) + (1 − ``dense_weight``) × BM25 divided by the best BM25 score. A
    passage missing from one list gets 0 from it. Unlike rank fusion it keeps how far apart the
    scores are, so a clear keyword match (a name, a rare word) is not levelled by dense ranks."""
    scores: dict[int, float] = {}
    if dense:
        low, high = min(s for _, s in dense), max(s for _, s in dense)
        for pid, s in dense:
            scores[pid] = dense_weight * ((s - low) / (high - low) if high > low else 1.0)
    if keyword:
        top = max(s for _, s in keyword) or 1.0
        for pid, s in keyword:
            scores[pid] = scores.get(pid, 0.0) + (1 - dense_weight) * s / top
    return sorted(scores.items(), key=lambda item: -item[1])


def diversify(
    ranked: Sequence[tuple[int, float]],
    k: int,
    article_of: Callable[[int], str],
    vector_of: Callable[[int], np.ndarray],
    per_article: int,
    duplicate_threshold: float,
) -> list[tuple[int, float]]:
    """The first ``k`` of ``ranked`` with at most ``per_article`` passages of one article, and
    without passages of other articles that are near-copies (cosine ≥ ``duplicate_threshold``)
    of one already taken: the same story from several outlets takes one slot."""
    taken: list[tuple[int, float]] = []
    per: dict[str, int] = {}
    vectors: list[np.ndarray] = []
    for pid, score in ranked:
        aid = article_of(pid)
        if per.get(aid, 0) >= per_article:
            continue
        v = vector_of(pid)
        if duplicate_threshold < 1.0 and any(
            float(v @ w) >= duplicate_threshold
            for (p, _), w in zip(taken, vectors, strict=True)
            if article_of(p) != aid
        ):
            continue
        taken.append((pid, score))
        vectors.append(v)
        per[aid] = per.get(aid, 0) + 1
        if len(taken) == k:
            break
    return taken


class Fusion(StrEnum):
    """How hybrid search fuses the dense and keyword candidates."""

    SCORES = "scores"  # weighted sum of normalised scores (score_fusion)
    RRF = "rrf"  # reciprocal rank fusion
