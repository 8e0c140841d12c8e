"""The contract every passage store keeps (add, re-add unchanged, replace, copies, remove, filters,
reopen), as a mixin: a backend's tests subclass :class:`StoreContract` and say how to configure it
(haystack's ``testing/document_store.py`` is the model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index import Article, IndexSettings, NewsIndex
from index.retrieval import Filters, Mode
from index.settings import RetrievalSettings

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


def keys(hits: list[Any]) -> list[str]:
    return [h.article.key for h in hits]


def reopen(index: NewsIndex) -> NewsIndex:
    return NewsIndex.open(index.directory, index.embedder, index.settings)


class StoreContract:
    """The behaviour every store shares. Subclasses set ``backend_class`` and implement
    :meth:`store_settings` and :meth:`check_recorded_store`."""

    backend_class = ""

    def store_settings(self, tmp_path: Path) -> IndexSettings:
        raise NotImplementedError

    def check_recorded_store(self, index: NewsIndex) -> None:
        """Assert what the manifest records about this store."""
        raise NotImplementedError

    def check_no_stray_rows(self, index: NewsIndex) -> None:
        """Assert that a dead writer left no rows behind where the store keeps rows of its own."""

    @pytest.fixture
    def index(self, tmp_path: Path, embedder: Any) -> Iterator[NewsIndex]:
        idx = NewsIndex.open(tmp_path / "idx", embedder, self.store_settings(tmp_path), create=True)
        idx.add(ARTICLES)
        yield idx

    def test_the_manifest_records_the_store(self, index: NewsIndex) -> None:
        self.check_recorded_store(index)
        assert type(index.store.backend).__name__ == self.backend_class

    def test_every_mode_finds_the_article_and_so_does_a_reopened_index(self, index: NewsIndex) -> None:
        for idx in (index, reopen(index)):
            for mode in Mode:
                assert keys(idx.search("ferry crossings cancelled", 1, RetrievalSettings(mode=mode))) == ["ferry"], mode
            assert idx.manifest.articles == 4

    def test_adding_the_same_articles_again_changes_nothing(self, index: NewsIndex) -> None:
        report = index.add(ARTICLES)
        assert len(report.unchanged) == 4 and not report.added
        assert reopen(index).manifest.passages == index.manifest.passages

    def test_a_changed_article_replaces_the_old_version(self, index: NewsIndex) -> None:
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

    def test_a_copy_from_another_outlet_is_kept_with_the_article_and_searched_once(self, index: NewsIndex) -> None:
        ferry = ARTICLES[0]
        copy = Article(
            title="Storm cancels island ferries",
            text="PORT WEN (Island Post) - " + ferry.text,
            key="ferry-copy",
            source="Island Post",
            date="2026-03-02",
        )
        report = index.add([copy])
        assert report.merged == [(copy.id, ferry.id)] and not report.added
        for idx in (index, reopen(index)):
            assert [c.key for c in idx.article("ferry").copies] == ["ferry-copy"]
            assert idx.article("ferry-copy").key == "ferry", "the copy's key finds the article holding it"
            for mode in Mode:
                found = keys(idx.search("ferry crossings cancelled storm", 5, RetrievalSettings(mode=mode)))
                assert found.count("ferry") >= 1 and "ferry-copy" not in found, mode
        assert index.remove(["ferry"]) == [ferry.id]
        idx = reopen(index)
        assert idx.article("ferry") is None and idx.article("ferry-copy").copies == ()
        assert keys(idx.search("ferry crossings cancelled", 1, RetrievalSettings(mode=Mode.HYBRID))) == ["ferry-copy"]

    def test_a_removed_article_is_gone_from_every_mode(self, index: NewsIndex) -> None:
        assert index.remove(["road"]) and reopen(index).manifest.articles == 3
        for idx in (index, reopen(index)):
            for mode in Mode:
                assert "road" not in keys(idx.search("storm coastal road sea wall", 5, RetrievalSettings(mode=mode))), (
                    mode
                )

    def test_filters_by_source_date_and_article(self, index: NewsIndex) -> None:
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

    def test_a_writer_dying_mid_save_leaves_the_published_index_and_the_next_save_cleans_up(
        self, index: NewsIndex, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        extra = Article(title="Zorblatt festival", text="The Zorblatt festival drew record crowds.", key="zorblatt")

        def die(directory: Path, folder: Path) -> str:
            raise KeyboardInterrupt("killed before the generation was published")

        # after the backend wrote its files (and Milvus' rows), before the generation is published
        monkeypatch.setattr("index.generations.publish", die)
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
        self.check_no_stray_rows(again)
