"""One contract for both passage stores (FAISS files in the index folder, a Milvus Lite collection):
add, re-add unchanged, replace, remove, filters, hybrid ranking, a writer dying mid-save, reopen."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index import Article, IndexSettings, NewsIndex, PassageStore
from index.retrieval import Filters, Mode
from index.settings import RetrievalSettings

STORES = ["faiss", "milvus"]

ARTICLES = [
    Article(
        title="Ferry services cancelled as storm hits the coast",
        text="All ferry crossings to the islands were cancelled on Monday as a storm brought winds of 90 mph. "
        "The harbour master said passengers should expect delays until Wednesday.",
        key="ferry",
        source="Coast Gazette",
        date="2026-03-02",
    ),
    Article(
        title="Council approves school budget",
        text="The city council approved a budget of 40 million for new classrooms. "
        "Teachers welcomed the decision but said staffing remains a concern.",
        key="budget",
        source="City Herald",
        date="2026-03-05",
    ),
    Article(
        title="Orchestra opens spring season",
        text="The symphony orchestra opened its spring season with a programme of Sibelius and Dvorak. "
        "Tickets for the remaining concerts sold out within an hour.",
        key="music",
        source="City Herald",
        date="2026-03-09",
    ),
    Article(
        title="Storm damage closes coastal road",
        text="Engineers closed the coastal road after the storm washed away part of the sea wall. "
        "Repairs are expected to take three weeks.",
        key="road",
        source="Coast Gazette",
        date="2026-03-03",
    ),
]


def settings(kind: str, tmp_path: Path) -> IndexSettings:
    return IndexSettings(store=str(tmp_path / "milvus.db") if kind == "milvus" else None)


@pytest.fixture(params=STORES)
def index(request: pytest.FixtureRequest, tmp_path: Path, embedder: Any) -> Iterator[NewsIndex]:
    idx = NewsIndex.open(tmp_path / "idx", embedder, settings(request.param, tmp_path), create=True)
    idx.add(ARTICLES)
    yield idx


def keys(hits: list[Any]) -> list[str]:
    return [h.article.key for h in hits]


def reopen(index: NewsIndex) -> NewsIndex:
    return NewsIndex.open(index.directory, index.embedder, index.settings)


def test_the_manifest_records_the_store(index: NewsIndex) -> None:
    store = index.manifest.store
    if index.settings.store:
        assert store["kind"] == "milvus" and str(store["uri"]).endswith("milvus.db") and store["collection"]
        assert type(index.store).__name__ == "MilvusPassageStore"
    else:
        assert store == {"kind": "faiss"} and type(index.store) is PassageStore


def test_every_mode_finds_the_article_and_so_does_a_reopened_index(index: NewsIndex) -> None:
    for idx in (index, reopen(index)):
        for mode in Mode:
            assert keys(idx.search("ferry crossings cancelled", 1, RetrievalSettings(mode=mode))) == ["ferry"], mode
        assert idx.manifest.articles == 4


def test_adding_the_same_articles_again_changes_nothing(index: NewsIndex) -> None:
    report = index.add(ARTICLES)
    assert len(report.unchanged) == 4 and not report.added
    assert reopen(index).manifest.passages == index.manifest.passages


def test_a_changed_article_replaces_the_old_version(index: NewsIndex) -> None:
    changed = Article(
        title="Orchestra cancels spring season",
        text="The symphony orchestra cancelled its spring season after a fire at the concert hall.",
        key="music",
        source="City Herald",
        date="2026-03-10",
    )
    report = index.add([changed])
    assert len(report.replaced) == 1
    idx = reopen(index)
    for mode in Mode:
        hits = idx.search("orchestra spring season", 5, RetrievalSettings(mode=mode))
        assert keys(hits).count("music") >= 1 and all("Sibelius" not in h.passage.text for h in hits), mode
        assert any("fire at the concert hall" in h.passage.text for h in hits), mode


def test_a_removed_article_is_gone_from_every_mode(index: NewsIndex) -> None:
    assert index.remove(["road"]) and reopen(index).manifest.articles == 3
    for idx in (index, reopen(index)):
        for mode in Mode:
            assert "road" not in keys(idx.search("storm coastal road sea wall", 5, RetrievalSettings(mode=mode))), mode


def test_filters_by_source_date_and_article(index: NewsIndex) -> None:
    for mode in Mode:
        options = RetrievalSettings(mode=mode)
        coast = index.search("storm", 5, options, Filters(sources=("coast gazette",)))
        assert coast and set(keys(coast)) <= {"ferry", "road"}, mode
        early = index.search("storm council orchestra", 5, options, Filters(until="2026-03-03"))
        assert early and set(keys(early)) <= {"ferry", "road"}, mode
        late = index.search("storm council orchestra", 5, options, Filters(since="2026-03-05"))
        assert late and set(keys(late)) <= {"budget", "music"}, mode
        one = index.search("storm", 5, options, Filters(article_ids=("road",)))
        assert keys(one) == ["road"], mode


def test_both_stores_rank_alike(tmp_path: Path, embedder: Any) -> None:
    built = {}
    for kind in STORES:
        idx = NewsIndex.open(tmp_path / kind, embedder, settings(kind, tmp_path), create=True)
        idx.add(ARTICLES)
        built[kind] = idx
    for query in ("storm damage", "school budget teachers", "concert tickets", "what happened to the ferries?"):
        for mode in Mode:
            ranked = {kind: keys(idx.search(query, 4, RetrievalSettings(mode=mode))) for kind, idx in built.items()}
            assert ranked["faiss"] == ranked["milvus"], (query, mode, ranked)


def test_a_writer_dying_mid_save_leaves_the_published_index_and_the_next_save_cleans_up(
    index: NewsIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    extra = Article(title="Zorblatt festival", text="The Zorblatt festival drew record crowds.", key="zorblatt")

    def die(self: PassageStore, package_version: str = "") -> None:
        raise KeyboardInterrupt("killed before the generation was published")

    # after the Milvus rows are written (for that store), before the generation is published
    monkeypatch.setattr(PassageStore, "save", die)
    with pytest.raises(KeyboardInterrupt):
        index.add([extra])
    monkeypatch.undo()
    idx = reopen(index)
    assert idx.manifest.articles == 4 and idx.article("zorblatt") is None
    for mode in Mode:
        assert "zorblatt" not in keys(idx.search("Zorblatt festival crowds", 4, RetrievalSettings(mode=mode))), mode
    idx.add([extra])
    again = reopen(idx)
    assert keys(again.search("Zorblatt festival", 1, RetrievalSettings(mode=Mode.KEYWORD))) == ["zorblatt"]
    store = again.store
    if hasattr(store, "row_count"):
        assert store.row_count() == again.manifest.passages, "the dead writer's rows were deleted, none doubled"
