"""The ONNX embedder (MiniLM through onnxruntime): same vectors as sentence-transformers in fp32,
close in int8, the same token counts, and an index built with one variant refuses the other."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from index import Article, IndexMismatchError, NewsIndex, load_embedder
from index.embedding.embedder import MINILM
from index.embedding.onnx_embedder import ALONE

TEXTS = [
    "The council voted to build protected bike lanes along Mill Street.",
    "Officials said the ferry would return in 2027 with forty new crew members, after years of delay.",
    "Short.",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def onnx_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx")


def test_onnx_vectors_match_sentence_transformers(embedder, onnx_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ASSISTANT_ONNX_DIR", str(onnx_dir))
    reference = embedder.embed(TEXTS)
    fp32 = load_embedder(f"{MINILM}-onnx-fp32")
    int8 = load_embedder(f"{MINILM}-onnx-int8")
    a, b = fp32.embed(TEXTS), int8.embed(TEXTS)
    assert a.shape == reference.shape == b.shape and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert (a * reference).sum(1).min() > 0.9999, "fp32 gives the sentence-transformers vectors"
    assert (b * reference).sum(1).min() > 0.85, "int8 stays close"
    assert fp32.count_tokens(TEXTS) == embedder.count_tokens(TEXTS)
    assert fp32.embed([]).shape == (0, 384)
    assert len({embedder.fingerprint, fp32.fingerprint, int8.fingerprint}) == 3


def test_an_index_built_with_one_variant_refuses_another(tmp_path: Path, onnx_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ASSISTANT_ONNX_DIR", str(onnx_dir))
    fp32 = load_embedder(f"{MINILM}-onnx-fp32")
    index = NewsIndex.open(tmp_path / "idx", fp32, create=True)
    index.add([Article(text=TEXTS[0], title="Bike lanes", key="a")])
    hits = NewsIndex.open(tmp_path / "idx", fp32).search("bike lanes on Mill Street", k=1)
    assert hits and hits[0].passage.article_id
    with pytest.raises(IndexMismatchError, match="onnx-fp32"):
        NewsIndex.open(tmp_path / "idx", load_embedder(f"{MINILM}-onnx-int8"))


def test_omp_num_threads_sets_onnxruntime_threads(onnx_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Ray sets OMP_NUM_THREADS to an actor's CPUs; onnxruntime's own pool follows it."""
    monkeypatch.setenv("ASSISTANT_ONNX_DIR", str(onnx_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    one = load_embedder(f"{MINILM}-onnx-int8")
    assert one.embed(TEXTS[:1]).shape == (1, 384)
    assert one._session.get_session_options().intra_op_num_threads == 1
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert load_embedder(f"{MINILM}-onnx-int8")._session.get_session_options().intra_op_num_threads == 0


def test_an_int8_passage_vector_does_not_depend_on_the_texts_batched_with_it(onnx_dir: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ASSISTANT_ONNX_DIR", str(onnx_dir))
    int8 = load_embedder(f"{MINILM}-onnx-int8")
    passages = [" ".join([t] * n) for t, n in zip(TEXTS, (6, 4, 40), strict=True)]  # 64+ word pieces each
    texts = [*passages, *TEXTS]  # and three short ones, batched together
    assert min(int8.count_tokens(passages)) + 2 >= ALONE > max(int8.count_tokens(TEXTS)) + 2
    together = int8.embed(texts)
    alone = np.vstack([int8.embed([t]) for t in texts])
    assert np.allclose(together[:3], alone[:3], atol=1e-6), "each passage quantised on its own"
    assert (together[3:] * alone[3:]).sum(1).min() > 0.95, "short texts batched: close, not equal"
