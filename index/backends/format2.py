"""Reading a format-2 generation (one FAISS file, one docstore, bm25s postings), written before
segments: read whole, and written as segments by the next save."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from index.backends.faiss_backend import FaissBackend
from index.docstore import Docstore, read_sentences


def read_whole(gen: Path, docs: Docstore, backend: FaissBackend, dimension: int) -> None:
    """The generation's articles, passages and sentence vectors into ``docs``, its vectors into
    ``backend`` (all of it unsaved, so the next save compacts it into one segment)."""
    import faiss

    docs.read_articles(gen / "articles.jsonl")
    pids = docs.read_passages(gen / "passages.jsonl")
    if (gen / "sentences.rows.npy").is_file():
        docs.use_sentences(read_sentences(gen / "sentences.f16", gen / "sentences.rows.npy", dimension))
    backend.adopt(faiss.read_index(str(gen / "vectors.faiss")), np.asarray(pids, dtype=np.int64))
