"""Issue 38: a big ingest is embedded by worker processes (``index.ingest_processes``), with the
vectors this process would give; a small one never starts them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.samples_index import sample_articles_path
from index import Article, NewsIndex, load_embedder, sentence_spans
from index.embedding.embedder import DEFAULT_MODEL
from index.embedding.onnx_embedder import ALONE
from index.embedding.processes import ProcessEmbedder, parts
from index.settings import IndexSettings


def sample_articles() -> list[Article]:
    rows = [json.loads(line) for line in sample_articles_path().read_text().splitlines()]
    return [Article(r["text"], r["title"], key=r["id"], source=r["source"], date=r["date"]) for r in rows]


def test_parts_are_consecutive_runs_of_about_equal_length() -> None:
    assert parts([5, 5, 5, 5], 2) == [(0, 2), (2, 4)]
    assert parts([1, 1, 1, 9], 2) == [(0, 3), (3, 4)]
    assert parts([3], 4) == [(0, 1)]
    runs = parts([1] * 10, 3)
    assert runs[0][0] == 0 and runs[-1][1] == 10 and all(a < b for a, b in runs)
    assert all(runs[i][1] == runs[i + 1][0] for i in range(len(runs) - 1))


def test_workers_embed_as_this_process_does_and_end_when_closed() -> None:
    local = load_embedder(DEFAULT_MODEL)
    texts = [a.title + "\n" + a.text[s:e] for a in sample_articles() for s, e in sentence_spans(a.text)[:6:2]]
    texts += [a.text[:4000] for a in sample_articles()]  # long: spans past the 256 word pieces are cut off
    spans = [sentence_spans(t) for t in texts]
    with ProcessEmbedder(local, 2, least=8) as spread:
        vectors, pooled = spread.embed_spans(texts, spans)
        workers = list(spread._workers)
        assert len(workers) == 2 and all(w.poll() is None for w in workers)
        question = spread.embed(["Who answered the outreach?"])  # once started, the workers take small calls
    assert all(w.poll() is not None for w in workers), "closing ends the workers"
    mine, my_pooled = local.embed_spans(texts, spans)  # type: ignore[attr-defined]
    long = [i for i, n in enumerate(local.count_tokens(texts)) if n + 2 >= ALONE]
    assert len(long) >= 8
    assert np.array_equal(vectors[long], mine[long]), "a passage runs alone: the same vector in any process"
    assert float(np.min(np.sum(vectors * mine, axis=1))) > 0.97  # short ones are batched (int8 scales per batch)
    assert np.allclose(question, local.embed(["Who answered the outreach?"]), atol=1e-6)
    assert [len(row) for row in pooled] == [len(s) for s in spans]
    for i in long:
        for a, b in zip(pooled[i], my_pooled[i], strict=True):
            assert a is not None and np.allclose(a, b, atol=1e-6)


@pytest.mark.parametrize("processes", [1, 2])
def test_an_ingest_through_workers_stores_the_vectors_of_one_in_this_process(
    tmp_path: Path, processes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = []
    real_start = ProcessEmbedder._start
    monkeypatch.setattr(ProcessEmbedder, "_start", lambda self: started.append(1) or real_start(self))
    embedder = load_embedder(DEFAULT_MODEL)
    settings = IndexSettings(ingest_processes=processes, sentence_vectors_from_passage=True)
    spread = NewsIndex.open(tmp_path / "spread", embedder, settings, create=True)
    spread.add(sample_articles(), batch_passages=8)  # a "big" ingest: batches of 8 passages
    assert len(started) == (1 if processes == 2 else 0)
    alone = NewsIndex.open(tmp_path / "alone", embedder, IndexSettings(ingest_processes=1), create=True)
    alone.add(sample_articles(), batch_passages=8)
    for pid in alone.store.docs.passage_ids():
        assert np.array_equal(spread.store.vector(pid), alone.store.vector(pid))
    started.clear()
    spread.add([Article("A single short article about a harbour. It has two sentences.", "One more")])
    assert not started, "a small ingest runs in this process"
