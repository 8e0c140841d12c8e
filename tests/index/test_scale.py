"""Ingest at scale: the embedding cache, resuming a killed or interrupted ingest, and the
approximate (IVF) vector index chosen by size."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest

from index import (
    Article,
    CachedEmbedder,
    Filters,
    IndexSettings,
    Mode,
    NewsIndex,
    PassageStore,
    RetrievalSettings,
    load_embedder,
)
from index.backends.backend import Where
from index.embedding.embedder import DEFAULT_MODEL
from index.manifest import Manifest, VectorIndex
from index.writer import IndexWriter
from tests.helpers.data import BBC, bbc_articles
from tests.helpers.processes import kill_when
from tests.helpers.shared import needs_shared

ROOT = Path(__file__).resolve().parents[2]


def test_embedding_cache_returns_the_models_vectors_and_survives_a_torn_append(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    texts = ["The council approved the budget.", "Rain is expected on Sunday.", "The council approved the budget."]
    cache = CachedEmbedder(embedder, tmp_path)
    first = cache.embed(texts)
    assert np.allclose(first, embedder.embed(texts), atol=1e-5)
    assert (cache.hits, cache.misses, len(cache)) == (0, 3, 2), "a repeated text is embedded once"

    again = CachedEmbedder(embedder, tmp_path)  # a new process: read from disk
    assert np.array_equal(again.embed(texts[:2]), first[:2]) and (again.hits, again.misses) == (2, 0)

    # a writer killed mid-append: vectors written, its key only half written
    with (again.directory / "vectors.f32").open("ab") as f:
        f.write(np.ones(again.dimension, dtype=np.float32).tobytes())
    with (again.directory / "keys.bin").open("ab") as f:
        f.write(b"\x01" * 7)
    torn = CachedEmbedder(embedder, tmp_path)
    assert len(torn) == 2
    assert np.allclose(torn.embed(["A new sentence about trains."]), embedder.embed(["A new sentence about trains."]))
    assert len(CachedEmbedder(embedder, tmp_path)) == 3


INGEST = textwrap.dedent("""
    import sys
    sys.path.insert(0, sys.argv[1])
    from assistant.settings import use_offline_environment
    use_offline_environment()
    from pathlib import Path
    from index import NewsIndex, load_embedder
    from tests.helpers.data import bbc_articles
    from index.embedding.embedder import DEFAULT_MODEL
    index = NewsIndex.open(Path(sys.argv[2]), load_embedder(DEFAULT_MODEL), create=True)
    index.add(bbc_articles(), batch_passages=8, save_every=8)
""")


def live_articles(directory: Path) -> int:
    try:
        return PassageStore.read_manifest(directory).articles
    except Exception:  # not written yet
        return 0


@pytest.mark.slow
def test_a_killed_ingest_continues_where_it_stopped_without_loss_or_duplicates(tmp_path: Path) -> None:
    needs_shared(BBC, "the BBC articles")  # the killed process reads them
    embedder = load_embedder(DEFAULT_MODEL)  # the default ONNX model, as the killed process used
    directory = tmp_path / "index"
    script = tmp_path / "ingest.py"
    script.write_text(INGEST)
    proc = subprocess.Popen([sys.executable, str(script), str(ROOT), str(directory)])
    kill_when(proc, lambda: live_articles(directory) >= 16, "its second save")
    saved = live_articles(directory)
    articles = bbc_articles()
    unique = {a.id: a for a in articles}  # two of the 50 BBC records carry the same story
    assert 16 <= saved < len(unique)
    saved_ids = set(PassageStore.load(directory).docs.article_ids())

    index = NewsIndex.open(directory, embedder)
    report = index.add(articles, batch_passages=8)
    assert saved_ids <= set(report.unchanged) and set(report.added) == set(unique) - saved_ids
    reloaded = NewsIndex.open(directory, embedder)
    store = reloaded.store
    assert set(store.docs.article_ids()) == set(unique)
    expected = {aid: len(reloaded.split(a)) for aid, a in unique.items()}
    assert {aid: len(store.docs.passage_ids_of(aid)) for aid in store.docs.article_ids()} == expected, (
        "no passage lost or doubled"
    )
    assert store.backend.vectors.ntotal == store.docs.count()[1] == sum(expected.values())
    assert store.backend.keyword_index().live_ids() == set(store.docs.passage_ids())


def test_ctrl_c_saves_what_was_indexed(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    articles = bbc_articles()[:6]

    def interrupted() -> Iterator[Article]:
        yield from articles[:4]
        raise KeyboardInterrupt

    index = NewsIndex.open(tmp_path / "index", embedder, create=True)
    with pytest.raises(KeyboardInterrupt):
        index.add(interrupted(), batch_passages=4, save_every=1000)
    assert PassageStore.load(tmp_path / "index").manifest.articles == 4
    report = NewsIndex.open(tmp_path / "index", embedder).add(articles, batch_passages=4)
    assert (len(report.unchanged), len(report.added)) == (4, 2)


def synthetic_store(directory: Path, n: int, dimension: int = 32) -> tuple[PassageStore, np.ndarray]:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((n, dimension)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    store = PassageStore(directory, Manifest("test", "fp", dimension, {}))
    for i in range(n):
        text = f"note {i}"
        store.add(
            Article(text=text, key=f"k{i}", source="even" if i % 2 == 0 else "odd"),
            [(0, len(text))],
            vectors[i : i + 1],
        )
    return store, vectors


def test_the_vector_index_turns_approximate_above_the_threshold_and_stays_usable(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    store, vectors = synthetic_store(tmp_path / "index", 12_000)
    IndexWriter(store, IndexSettings(vector_index="auto", approximate_above=11_000), lambda a: [], embedder).save()
    loaded = PassageStore.load(tmp_path / "index")
    assert loaded.manifest.vector_index == VectorIndex.IVF
    assert isinstance(loaded.backend.vectors, faiss.IndexIVFScalarQuantizer)  # float16 vectors in its lists
    assert loaded.backend.vectors.sq.qtype == faiss.ScalarQuantizer.QT_fp16
    for i in (0, 5_001, 11_999):  # a stored vector finds itself first
        assert loaded.dense_search(vectors[i], 3, None, nprobe=8)[0][0] == i
        assert np.allclose(loaded.vector(i), vectors[i], atol=5e-4)  # held as float16
    docs = loaded.docs
    even = {pid for pid in docs.passage_ids() if docs.get(docs.article_of(pid)).source == "even"}
    assert {
        pid for pid, _ in loaded.dense_search(vectors[1], 10, Where(Filters(sources=("even",)), frozenset(even)))
    } <= even
    loaded.remove(loaded.docs.span(5_001)[0])
    assert loaded.dense_search(vectors[5_001], 1, None, nprobe=8)[0][0] != 5_001
    assert loaded.backend.vectors.ntotal == 11_999
    loaded.add(Article(text="One more.", key="late"), [(0, 9)], vectors[5_001:5_002])
    loaded.save()  # appended: a segment with the new passage's IVF list, the first one linked
    again = PassageStore.load(tmp_path / "index")
    assert again.manifest.segments == [1, 2] and again.backend.vectors.ntotal == 12_000
    assert isinstance(again.backend.vectors, faiss.IndexIVFScalarQuantizer)
    assert again.dense_search(vectors[5_001], 1, None, nprobe=8)[0][0] == 12_000, "the new passage, not the removed one"
    assert again.dense_search(vectors[11_999], 1, None, nprobe=8)[0][0] == 11_999

    exact = NewsIndex(loaded, embedder, IndexSettings(vector_index="flat"))
    IndexWriter(loaded, exact.settings, exact.split, embedder).save()
    assert PassageStore.load(tmp_path / "index").manifest.vector_index == VectorIndex.FLAT
    hits = exact.search("", 2, RetrievalSettings(mode=Mode.DENSE), Filters(sources=("odd",)), vector=vectors[3])
    assert hits[0].passage.id == 3
