"""BM25 in segments: Lucene's formula, and the same scores however the passages are split."""

import math

import numpy as np
import pytest

from index.backends.keyword import K1, B, KeywordIndex, KeywordSegment
from index.language.words import terms

TEXTS = [
    "The harbour ferry was cancelled after the storm.",
    "Ferry passengers waited at the harbour for hours.",
    "The council approved a new budget for the schools.",
    "Storm damage closed the coastal road for a week.",
    "A new ferry will serve the island from next spring.",
]


def lucene(query: str, texts: list[str]) -> list[float]:
    """BM25 (Lucene's idf) written out from its definition, for one passage at a time."""
    docs = [terms(t) for t in texts]
    average = sum(map(len, docs)) / len(docs)
    scores = []
    for doc in docs:
        score = 0.0
        for word in terms(query):
            df = sum(word in d for d in docs)
            if df:
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                tf = doc.count(word)
                score += idf * tf / (tf + K1 * (1 - B + B * len(doc) / average))
        scores.append(score)
    return scores


def test_scores_follow_lucene_bm25() -> None:
    index = KeywordIndex.build(list(range(10, 15)), TEXTS)
    expected = lucene("ferry harbour storm", TEXTS)
    found = dict(index.search("ferry harbour storm", 5))
    assert set(found) == {10 + i for i, s in enumerate(expected) if s > 0}
    assert [found[10 + i] for i in range(5) if expected[i] > 0] == pytest.approx(
        [s for s in expected if s > 0], rel=1e-5
    )
    ferry = lucene("ferry", TEXTS)[1]
    assert ferry > 0 and index.search("ferry", 5, allowed={11, 12}) == [(11, pytest.approx(ferry, rel=1e-5))]
    assert index.search("zeppelin", 5) == []


def test_segments_and_dead_rows_give_the_scores_of_one_index_over_the_live_passages() -> None:
    first, second = KeywordSegment.build([0, 1, 2], TEXTS[:3]), KeywordSegment.build([3, 4], TEXTS[3:])
    live_first = np.array([True, False, True])  # passage 1 removed
    spread = KeywordIndex([(first, live_first), (second, np.ones(2, dtype=bool))])
    live_texts = [TEXTS[0], TEXTS[2], TEXTS[3], TEXTS[4]]
    whole = KeywordIndex.build([0, 2, 3, 4], live_texts)
    one = KeywordSegment.merge([(first, live_first), (second, np.ones(2, dtype=bool))])
    merged = KeywordIndex([(one, np.ones(4, dtype=bool))])
    assert list(one.ids) == [0, 2, 3, 4]
    for query in ("ferry harbour", "storm road", "new budget schools", "waited passengers"):
        expected = whole.search(query, 5)
        assert _same(spread.search(query, 5), expected)
        assert _same(merged.search(query, 5), expected)
    assert spread.search("waited passengers", 5) == [], "only the removed passage had these words"
    assert spread.live_ids() == {0, 2, 3, 4}


def _same(found: list[tuple[int, float]], expected: list[tuple[int, float]]) -> bool:
    return [p for p, _ in found] == [p for p, _ in expected] and np.allclose(
        [s for _, s in found], [s for _, s in expected]
    )


def test_a_loaded_segment_maps_its_postings_and_searches_as_the_built_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Issue 38: the postings are read from the file as a question needs them, not loaded whole."""
    from index.errors import IndexCorruptError

    texts = ["The harbour reopened on Monday.", "Fishing boats left the harbour early.", "Rain fell all week."]
    built = KeywordSegment.build([10, 11, 12], texts)
    path = tmp_path / "s.keyword.npz"
    built.save(path)
    loaded = KeywordSegment.load(path)
    for name in ("ids", "lengths", "indptr", "rows", "counts"):
        array = getattr(loaded, name)
        assert not array.flags.owndata and not array.flags.writeable, f"{name} is mapped, read-only"
        assert np.array_equal(array, getattr(built, name))
    assert loaded.terms == built.terms
    live = np.ones(3, dtype=bool)
    query = "harbour boats"
    assert KeywordIndex([(loaded, live)]).search(query, 3) == KeywordIndex([(built, live)]).search(query, 3)
    path.write_bytes(path.read_bytes()[:-40])  # cut short
    with pytest.raises(IndexCorruptError):
        KeywordSegment.load(path)
