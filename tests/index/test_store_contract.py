"""One contract for both passage stores (FAISS files in the index folder, a Milvus Lite collection):
add, re-add unchanged, replace, remove, filters, hybrid ranking, a writer dying mid-save, reopen."""

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from index import Article, ConfigurationError, IndexSettings, NewsIndex, load_embedder
from index.backends.backend import SegmentFiles
from index.backends.milvus_backend import MilvusBackend
from index.backends.milvus_client import milvus_client
from index.embedding.embedder import DEFAULT_MODEL
from index.retrieval import Mode
from index.settings import RetrievalSettings
from tests.helpers.processes import kill_when
from tests.helpers.store_contract import ARTICLES, StoreContract, keys, reopen

STORES = ["faiss", "milvus"]


def settings(kind: str, tmp_path: Path) -> IndexSettings:
    return IndexSettings(store=str(tmp_path / "milvus.db") if kind == "milvus" else None)


class TestFaissStore(StoreContract):
    backend_class = "FaissBackend"

    def store_settings(self, tmp_path: Path) -> IndexSettings:
        return settings("faiss", tmp_path)

    def check_recorded_store(self, index: NewsIndex) -> None:
        assert index.manifest.store == {"kind": "faiss"}
        assert isinstance(index.store.backend, SegmentFiles), "FAISS keeps files beside each segment"


class TestMilvusStore(StoreContract):
    backend_class = "MilvusBackend"

    def store_settings(self, tmp_path: Path) -> IndexSettings:
        return settings("milvus", tmp_path)

    def check_recorded_store(self, index: NewsIndex) -> None:
        store = index.manifest.store
        assert store["kind"] == "milvus" and str(store["uri"]).endswith("milvus.db") and store["collection"]
        assert not isinstance(index.store.backend, SegmentFiles), "Milvus has no segment files"

    def check_no_stray_rows(self, index: NewsIndex) -> None:
        backend = index.store.backend
        assert isinstance(backend, MilvusBackend)
        assert backend.row_count() == index.manifest.passages, "the dead writer's rows were deleted"


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


WRITER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from tests.helpers.store_contract import ARTICLES
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
