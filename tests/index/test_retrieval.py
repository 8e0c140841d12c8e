"""Keyword, dense and hybrid retrieval, filters and diversity over 50 real BBC News articles."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from index import Article, Filters, IndexCorruptError, Mode, NewsIndex, RetrievalSettings
from index.retrieval import diversify, reciprocal_rank_fusion
from tests.helpers.data import bbc_articles


def test_reciprocal_rank_fusion_and_diversity_rules() -> None:
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60)
    assert [pid for pid, _ in fused] == [1, 3, 2]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)
    same = np.array([1.0, 0.0], dtype=np.float32)
    other = np.array([0.0, 1.0], dtype=np.float32)
    vectors = {1: same, 2: same, 3: same, 4: other, 5: other}
    articles = {1: "a", 2: "a", 3: "b", 4: "c", 5: "c"}
    ranked = [(p, 1.0) for p in (1, 2, 3, 4, 5)]
    picked = diversify(ranked, 4, articles.__getitem__, vectors.__getitem__, per_article=1, duplicate_threshold=0.95)
    assert [p for p, _ in picked] == [1, 4], "one per article; article b's copy of a's story is collapsed"


def test_filters() -> None:
    a = Article(text="t", title="x", source="BBC sport", date="2005-02-10T00:00:00")
    assert Filters(sources=("bbc SPORT",)).allows(a) and not Filters(sources=("BBC tech",)).allows(a)
    assert Filters(since="2005-02-10", until="2005-02-10").allows(a)
    assert not Filters(since="2005-02-11").allows(a) and not Filters(until="2005-02-09").allows(a)
    assert not Filters(since="2000-01-01").allows(Article(text="undated"))
    assert Filters(article_ids=(a.id,)).allows(a) and not Filters(article_ids=("other",)).allows(a)


@pytest.fixture(scope="module")
def bbc(tmp_path_factory: pytest.TempPathFactory, embedder) -> NewsIndex:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("bbc") / "index"
    index = NewsIndex.open(directory, embedder, create=True)
    index.add(bbc_articles())
    return NewsIndex.open(directory, embedder)


def keys(hits) -> list[str]:  # type: ignore[no-untyped-def]
    return [h.article.key for h in hits]


@pytest.mark.slow
def test_a_name_is_found_through_the_keyword_side(bbc: NewsIndex) -> None:
    assert keys(bbc.search("Clijsters", 3, RetrievalSettings(mode=Mode.KEYWORD)))[0] == "sport/443"
    assert "sport/443" in keys(bbc.search("Clijsters", 3, RetrievalSettings(mode=Mode.HYBRID)))


@pytest.mark.slow
def test_a_paraphrase_is_found_through_the_dense_side(bbc: NewsIndex) -> None:
    question = "Japanese factories produced less than before"
    assert "business/046" in keys(bbc.search(question, 3, RetrievalSettings(mode=Mode.DENSE)))
    assert "business/046" in keys(bbc.search(question, 5, RetrievalSettings(mode=Mode.HYBRID)))


@pytest.mark.slow
@pytest.mark.parametrize("mode", list(Mode))
def test_filters_exclude_what_they_should(bbc: NewsIndex, mode: Mode) -> None:
    options = RetrievalSettings(mode=mode)
    hits = bbc.search("government plans and new rules", 10, options, Filters(sources=("BBC politics",)))
    assert hits and {h.article.source for h in hits} == {"BBC politics"}
    hits = bbc.search("music and film awards", 10, options, Filters(since="2005-01-10", until="2005-01-12"))
    assert all("2005-01-10" <= h.article.date <= "2005-01-12" for h in hits)
    target = bbc.article("tech/112")
    assert target is not None
    hits = bbc.search("games console", 10, options, Filters(article_ids=(target.id,)))
    assert hits and {h.article.id for h in hits} == {target.id}


@pytest.mark.slow
def test_one_article_does_not_fill_every_slot(bbc: NewsIndex) -> None:
    for per_article in (1, 2):
        hits = bbc.search("Microsoft security software", 5, RetrievalSettings(per_article=per_article))
        counts = {k: keys(hits).count(k) for k in keys(hits)}
        assert len(hits) == 5 and max(counts.values()) <= per_article


@pytest.mark.slow
def test_add_and_remove_keep_both_indexes_in_sync_after_reload(tmp_path: Path, bbc: NewsIndex, embedder) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path / "copy"
    shutil.copytree(bbc.directory, directory)
    index = NewsIndex.open(directory, embedder)
    assert index.remove(["sport/443"])
    index.add([Article(text="The Zorblatt festival drew record crowds to the harbour.", title="Zorblatt", key="z")])
    reopened = NewsIndex.open(directory, embedder)
    for mode in Mode:
        assert "sport/443" not in keys(reopened.search("Clijsters", 5, RetrievalSettings(mode=mode)))
    assert keys(reopened.search("Zorblatt", 1, RetrievalSettings(mode=Mode.KEYWORD))) == ["z"]
    assert reopened.store.backend.keyword_index().live_ids() == set(reopened.store.docs.passage_ids())


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["truncate", "delete"])
def test_a_damaged_keyword_index_is_reported(tmp_path: Path, bbc: NewsIndex, embedder, damage: str) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path / "copy"
    shutil.copytree(bbc.directory, directory)
    keyword = directory / (directory / "CURRENT").read_text() / "s000001.keyword.npz"
    if damage == "truncate":
        keyword.write_bytes(keyword.read_bytes()[:100])
    else:
        keyword.unlink()
    with pytest.raises(IndexCorruptError, match="keyword"):
        NewsIndex.open(directory, embedder)
