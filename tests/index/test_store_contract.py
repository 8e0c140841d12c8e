"""One contract for both passage stores (FAISS files in the index folder, a Milvus Lite collection):
add, re-add unchanged, replace, remove, filters, hybrid ranking, a writer dying mid-save, reopen."""

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from index import Article, ConfigurationError, IndexSettings, NewsIndex, load_embedder
from index.backends.milvus_backend import MilvusBackend
from index.backends.milvus_client import milvus_client
from index.embedding.embedder import DEFAULT_MODEL
from index.retrieval import Filters, Mode
from index.settings import RetrievalSettings
from tests.helpers.processes import kill_when

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
        assert type(index.store.backend).__name__ == "MilvusBackend"
    else:
        assert store == {"kind": "faiss"} and type(index.store.backend).__name__ == "FaissBackend"


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


def test_a_copy_from_another_outlet_is_kept_with_the_article_and_searched_once(index: NewsIndex) -> None:
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


def test_milvus_bm25_scores_are_ours_times_k1_plus_one_also_for_compound_words(tmp_path: Path, embedder: Any) -> None:
    """Milvus' tokenizer splits at "-" and "'": the stored terms join compound words so that its
    BM25 counts the same terms and lengths as the FAISS store's."""
    articles = [
        *ARTICLES,
        Article(title="Covid-19 jabs", text="The covid-19 booster and O'Brien's well-known plan.", key="jab"),
        Article(title="Covid data", text="Covid cases rose; 19 wards reported well known delays.", key="data"),
    ]
    built = {}
    for kind in STORES:
        built[kind] = NewsIndex.open(tmp_path / kind, embedder, settings(kind, tmp_path), create=True)
        built[kind].add(articles)
    for query in ("covid-19 booster", "O'Brien's well-known plan", "covid 19 well known"):
        ours = dict(built["faiss"].store.keyword_search(query, 8, None))
        theirs = dict(built["milvus"].store.keyword_search(query, 8, None))
        assert ours.keys() == theirs.keys() and ours, query
        for pid, score in ours.items():
            assert theirs[pid] == pytest.approx(2.5 * score, rel=1e-3), (query, pid)  # k1 + 1 = 2.5


def test_the_milvus_vector_index_follows_the_size_unless_the_uri_names_one(tmp_path: Path, embedder: Any) -> None:
    small = IndexSettings(store=str(tmp_path / "auto.db"), approximate_above=3)
    idx = NewsIndex.open(tmp_path / "auto", embedder, small, create=True)
    idx.add(ARTICLES[:2])
    assert idx.manifest.store["index_type"] == "FLAT" and idx.manifest.store["auto"]
    idx.add(ARTICLES[2:])  # 4 passages: past approximate_above, rebuilt as HNSW before publishing
    again = reopen(idx)
    assert again.manifest.store["index_type"] == "HNSW" and again.manifest.store["params"]["ef"] == 64
    for article in ARTICLES:
        assert keys(again.search(article.title, 1, RetrievalSettings(mode=Mode.DENSE))) == [article.key]
    named = IndexSettings(store=str(tmp_path / "named.db") + "?index=FLAT", approximate_above=3)
    fixed = NewsIndex.open(tmp_path / "named", embedder, named, create=True)
    fixed.add(ARTICLES)
    assert fixed.manifest.store["index_type"] == "FLAT" and not fixed.manifest.store["auto"]


def test_a_writer_dying_mid_save_leaves_the_published_index_and_the_next_save_cleans_up(
    index: NewsIndex, monkeypatch: pytest.MonkeyPatch
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
    if isinstance(again.store.backend, MilvusBackend):
        assert again.store.backend.row_count() == again.manifest.passages, "the dead writer's rows were deleted"


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from tests.index.test_store_contract import ARTICLES
    from index import Article, ConfigurationError, IndexSettings, NewsIndex, PassageStore, load_embedder
    from index.embedding.embedder import DEFAULT_MODEL
    directory, store, flag = Path(sys.argv[2]), sys.argv[3] or None, Path(sys.argv[4])
    index = NewsIndex.open(directory, load_embedder(DEFAULT_MODEL), IndexSettings(store=store), create=True)
    if not flag.name.startswith("stall"):
        index.add(ARTICLES)
        raise SystemExit(0)

    def stall(directory, folder):  # the backend has written its rows (Milvus') before the publish
        flag.write_text("rows written, generation not published")
        time.sleep(120)

    from index import generations
    generations.publish = stall
    index.add([Article(title="Zorblatt festival", text="The Zorblatt festival drew record crowds.", key="zorblatt")])
""")


@pytest.mark.parametrize("kind", ["milvus"])  # the FAISS store's are in test_store.py and test_concurrency.py
def test_a_writer_killed_in_another_process_loses_nothing_published(tmp_path: Path, kind: str) -> None:
    """kill -9 of a writer process between writing its passages (Milvus rows) and publishing."""
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    directory, store = tmp_path / "idx", settings(kind, tmp_path).store or ""
    root = str(Path(__file__).resolve().parents[2])
    subprocess.run([sys.executable, str(script), root, str(directory), store, str(tmp_path / "build")], check=True)
    flag = tmp_path / "stall"
    proc = subprocess.Popen([sys.executable, str(script), root, str(directory), store, str(flag)])
    kill_when(proc, flag.exists, "the save", timeout=120)

    idx = NewsIndex.open(directory, load_embedder(DEFAULT_MODEL), settings(kind, tmp_path))
    assert idx.manifest.articles == 4 and idx.article("zorblatt") is None
    for mode in Mode:
        assert "zorblatt" not in keys(idx.search("Zorblatt festival crowds", 4, RetrievalSettings(mode=mode))), mode
    assert keys(idx.search("ferry crossings cancelled", 1, RetrievalSettings(mode=Mode.HYBRID))) == ["ferry"]
    idx.add([Article(title="Zorblatt festival", text="The Zorblatt festival drew record crowds.", key="zorblatt")])
    again = reopen(idx)
    assert keys(again.search("Zorblatt festival", 1, RetrievalSettings(mode=Mode.KEYWORD))) == ["zorblatt"]
    if isinstance(again.store.backend, MilvusBackend):
        assert again.store.backend.row_count() == again.manifest.passages, "the killed writer's rows were deleted"


def test_a_milvus_lite_file_open_in_another_process_is_reported(tmp_path: Path) -> None:
    uri = str(tmp_path / "milvus.db")
    milvus_client(uri)  # this process has it open
    root = str(Path(__file__).resolve().parents[2])
    code = (
        f"import sys; sys.path.insert(0, {root!r}); "
        "from index.backends.milvus_client import milvus_client; milvus_client(sys.argv[1])"
    )
    result = subprocess.run([sys.executable, "-c", code, uri], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"IndexBusyError: cannot open the Milvus Lite file {uri}: another process has it open" in result.stderr
    with pytest.raises(ConfigurationError, match="cannot open the Milvus Lite file .*not exists"):
        milvus_client(str(tmp_path / "no such folder" / "milvus.db"))  # not a lock: pymilvus' own reason
