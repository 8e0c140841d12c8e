"""The comparison point for the retrieval benchmark: llama-index's default pipeline, same model.

    .venv/bin/python -m benchmarks.llamaindex_baseline [--full] [--cache DIR]

llama-index ``VectorStoreIndex.from_documents`` with its defaults (SentenceSplitter, 1024-token
chunks with 200 overlap, the title as document metadata, in-memory vector store) over the same
haystack, embedding with the same MiniLM model (through the same disk cache, so a rerun is quick).
Each question retrieves 30 nodes; their documents, in order and without repeats, are the ranking.
Reports article-level Recall@1/5/10 and MRR@10 on the gold and weak label sets, and timings.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import percentile
from assistant.settings import use_offline_environment
from benchmarks.realtimeqa import copies, corpus_records, haystack_ids, label_sets, questions, rank_metrics
from index import CachedEmbedder, Embedder, load_embedder

CACHE = Path.home() / ".cache" / "news-assistant-bench"


def llama_embedding(embedder: Embedder) -> Any:
    """A llama-index embedding model backed by our embedder (no hub, no OpenAI)."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class Local(BaseEmbedding):
        _embedder: Embedder = PrivateAttr()

        def __init__(self, inner: Embedder) -> None:
            super().__init__(model_name=inner.name, embed_batch_size=64)
            self._embedder = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._embedder.embed([query])[0].tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._embedder.embed([text])[0].tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._embedder.embed(texts).tolist()

    return Local(embedder)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", action="store_true", help="all 26,701 corpus articles instead of the haystack")
    parser.add_argument("--cache", type=Path, default=CACHE / "embeddings", help="embedding cache folder")
    args = parser.parse_args()
    use_offline_environment()

    from llama_index.core import Document, Settings, VectorStoreIndex

    model = load_embedder("all-MiniLM-L6-v2")
    cached = CachedEmbedder(model, args.cache)
    Settings.llm = None  # retrieval only; nothing may reach OpenAI
    ids = haystack_ids(args.full)
    docs = [
        Document(text=r["text"], id_=r["doc_id"], metadata={"title": r.get("title") or ""})
        for r in corpus_records(ids)
        if (r.get("text") or "").strip()
    ]
    t0 = time.perf_counter()
    index = VectorStoreIndex.from_documents(docs, embed_model=llama_embedding(cached), show_progress=True)
    build_s = time.perf_counter() - t0
    nodes = len(index.docstore.docs)
    print(
        f"llama-index: {len(docs)} documents, {nodes} nodes in {build_s:.1f} s "
        f"(embedding cache {cached.hits} hits, {cached.misses} misses)"
    )

    retriever = index.as_retriever(similarity_top_k=30, embed_model=llama_embedding(model))
    haystack = ids if ids is not None else {d.id_ for d in docs}
    sets = label_sets(questions(), haystack, copies(ids))
    print("| labels | method | R@1 | R@5 | R@10 | MRR@10 |")
    print("|---|---|---|---|---|---|")
    latency: list[float] = []
    for name, pairs in sets.items():
        ranked = []
        for q, _ in pairs:
            t = time.perf_counter()
            found = retriever.retrieve(q.text)
            latency.append(1000 * (time.perf_counter() - t))
            ranked.append(list(dict.fromkeys(n.node.ref_doc_id for n in found))[:10])
        m = rank_metrics(ranked, [rel for _, rel in pairs])
        print(
            f"| {name} | llama-index default | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | {m['MRR@10']:.3f} |"
        )
    print(f"retrieval ms p50 {percentile(latency, 0.5):.1f}, p95 {percentile(latency, 0.95):.1f}")


if __name__ == "__main__":
    main()
