"""BM25 keyword search over passages (bm25s), rebuilt from the docstore on every save.

Row ``i`` of the BM25 matrix is passage id ``ids[i]``. Persisted in the generation folder as
``keyword/`` (bm25s files) plus ``keyword/ids.npy``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.text import TOKENIZER_VERSION, terms

log = logging.getLogger(__name__)

K1, B = 1.5, 0.75
SETTINGS = {"method": "bm25", "k1": K1, "b": B, "tokenizer": TOKENIZER_VERSION, "fields": "title+passage"}


def _bm25s():  # type: ignore[no-untyped-def]
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG on import
    return bm25s


class KeywordIndex:
    def __init__(self, bm25, ids: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        self.bm25 = bm25
        self.ids = ids
        self.row = {int(pid): i for i, pid in enumerate(ids)}

    @classmethod
    def build(cls, ids: list[int], texts: Iterable[str]) -> KeywordIndex:
        """BM25 over ``texts`` (one per id, in order; an iterable, so they are never all in memory)."""
        bm25s = _bm25s()

        bm25 = bm25s.BM25(k1=K1, b=B)
        tokens = [terms(t) or [""] for t in texts]
        if tokens:
            bm25.index(tokens, show_progress=False)
        return cls(bm25, np.asarray(ids, dtype=np.int64))

    def save(self, directory: Path) -> None:
        directory.mkdir()
        if len(self.ids):
            self.bm25.save(str(directory), show_progress=False)
        np.save(directory / "ids.npy", self.ids)

    @classmethod
    def load(cls, directory: Path) -> KeywordIndex:
        bm25s = _bm25s()

        try:
            ids = np.load(directory / "ids.npy")
            if not len(ids):
                return cls(bm25s.BM25(k1=K1, b=B), ids)
            bm25 = bm25s.BM25.load(str(directory), show_progress=False)
            rows = bm25.scores["num_docs"]
        except (OSError, ValueError, KeyError, EOFError) as e:
            raise IndexCorruptError(
                f"keyword index {directory} is missing or damaged ({e}); rebuild the index: remove "
                f"{directory.parent.parent} and run `assistant ingest` again"
            ) from e
        if rows != len(ids):
            raise IndexCorruptError(f"keyword index {directory} has {rows} rows for {len(ids)} passage ids")
        return cls(bm25, ids)

    def search(self, query: str, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` best passages by BM25 (only ``allowed`` passage ids when given), best first."""
        words = terms(query)
        if not len(self.ids) or not words or k < 1:
            return []
        mask = None
        if allowed is not None:
            mask = np.zeros(len(self.ids), dtype=np.float32)
            mask[[self.row[p] for p in allowed if p in self.row]] = 1.0
        scores = self.bm25.get_scores(words, weight_mask=mask)
        top = np.argsort(-scores, kind="stable")[:k]
        return [(int(self.ids[i]), float(scores[i])) for i in top if scores[i] > 0]
