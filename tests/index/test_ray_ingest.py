"""Ingest with a real local Ray (2 CPUs): the same passages and vectors as the plain ingest,
resumable by content id, into either backend, through the same writer and embedding cache."""

from pathlib import Path

import numpy as np
import pytest

from assistant.samples_index import sample_articles_path
from index import IndexSettings, NewsIndex, load_embedder
from index.embedding.embedder import DEFAULT_MODEL
from index.embedding.ray_ingest import ray_ingest
from index.reading.loaders import load_paths


@pytest.mark.slow
def test_ray_ingest_matches_the_plain_ingest_and_resumes(tmp_path: Path) -> None:
    import ray

    embedder = load_embedder(DEFAULT_MODEL)  # ONNX: each actor loads it in a second, torch in ~10

    articles = list(load_paths([sample_articles_path()]))
    plain = NewsIndex.open(tmp_path / "plain", embedder, create=True)
    plain.add(articles)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        settings = IndexSettings(store=str(tmp_path / "milvus.db"), embed_cache=tmp_path / "cache")
        spread = NewsIndex.open(tmp_path / "ray", embedder, settings, create=True)
        first = ray_ingest(spread, articles[:5], batch_passages=8)
        assert len(first.added) == 5 and spread.manifest.articles == 5
        again = ray_ingest(spread, articles, batch_passages=8)  # continues: only the rest is embedded
        assert len(again.unchanged) == 5 and len(again.added) == len(articles) - 5
    finally:
        ray.shutdown()
    # the Ray ingest filled the embedding cache: a plain ingest of the same articles embeds nothing
    cached = NewsIndex.open(tmp_path / "cached", embedder, IndexSettings(embed_cache=tmp_path / "cache"), create=True)
    cached.add(articles)
    assert cached.passage_embedder.misses == 0 and cached.passage_embedder.hits > 0  # type: ignore[attr-defined]
    reopened = NewsIndex.open(tmp_path / "ray", embedder)
    assert reopened.manifest.store["kind"] == "milvus"
    assert set(reopened.store.docs.article_ids()) == set(plain.store.docs.article_ids())
    for aid in plain.store.docs.article_ids():
        mine, theirs = reopened.passages_of(aid), plain.passages_of(aid)
        assert [p.text for p in mine] == [p.text for p in theirs]
        for a, b in zip(mine, theirs, strict=True):
            assert np.allclose(reopened.store.vector(a.id), plain.store.vector(b.id), atol=5e-4)  # FAISS keeps float16
            mine_s, theirs_s = reopened.sentence_vectors(a.id), plain.sentence_vectors(b.id)
            assert mine_s.shape == theirs_s.shape  # type: ignore[union-attr]
            # sentences are embedded in batches, whose int8 quantisation depends on the batch-mates
            assert (mine_s.astype(np.float32) * theirs_s).sum(1).min() > 0.95  # type: ignore[union-attr]
    question = "What channels did the US use?"
    assert [h.article.id for h in reopened.search(question, 3)] == [h.article.id for h in plain.search(question, 3)]
