"""The Milvus search backend: passages searched in a Milvus collection, on a Milvus server or cluster by URI,
or Milvus Lite in a file.

What lives where. The article docstore (articles, passage spans, sentence vectors) stays in the
index folder's generations exactly as with the FAISS backend, so publishing stays atomic and safe
against kill -9. The collection holds one row per passage: its id (primary key), article id,
source (casefolded) and day (``YYYY-MM-DD``) for filters, the passage's stemmed terms (the same
terms the FAISS store's BM25 reads, so Milvus' built-in BM25 function scores the same words) and
its vector. Dense search, keyword search and the filters run inside Milvus.

Keeping the collection in step with the generations (rows are keyed by passage id, and ids are
never reused):

- a save writes the new passages' rows *before* it publishes the generation that lists them, and
  deletes removed passages' rows *after* publishing the generation without them (their ids are
  kept in that manifest's ``store.pending_deletes`` and deleted again by the next save);
- a search drops rows whose passage the reader's generation does not list (a newer generation's,
  or a killed writer's), asking Milvus for a few more than it needs;
- a writer first deletes rows with ids at or above the published next passage id: what a writer
  killed before publishing left behind.

Milvus Lite (3.2, embedded, pure Python) differs from the server in ways this code handles or
that show in the rankings: it reports BM25 as a negative distance (the magnitude is used); it
computes BM25's statistics (document count, average length, document frequencies) per internal
segment, not over the collection (a TODO in its ``collection.py``), and with a filter over the
filtered rows only, so on a collection of several segments its keyword ranking differs slightly
from the FAISS store's (on the 3k RealTime QA haystack: keyword MRR@10 0.721 against 0.708;
hybrid, the default, 0.714 against 0.710), while on one segment the scores are exactly ours ×
(k1 + 1). Its only analyzers are ``standard`` and ``jieba``; the stored terms are already
Porter-stemmed words, which the standard tokenizer keeps as they are once compound words are
joined by "_" (it splits at "-" and "'", which would change the term counts and lengths BM25
reads). Milvus scores BM25 as (k1 + 1) × Lucene's formula (checked), which ranks the same and
fuses the same after hybrid search's normalisation.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from index.backends.backend import Segment, Where
from index.backends.keyword import K1, B
from index.backends.milvus_client import JOINED_TERMS, milvus_client, milvus_settings, milvus_terms, quiet_server_log
from index.docstore import Docstore
from index.errors import IndexCorruptError
from index.manifest import Manifest, VectorIndex
from index.records import indexed_text
from index.retrieval import Filters

log = logging.getLogger(__name__)

BATCH = 1000  # rows per insert


class MilvusBackend:
    """A Milvus collection (a :class:`~index.backends.backend.StoreBackend`; the rows live in the
    collection, no segment files)."""

    def __init__(self, manifest: Manifest, docstore: Docstore, segments: list[Segment]) -> None:
        self.manifest = manifest
        self.docs = docstore
        self.segments = segments
        self.published = False  # whether the collection has rows of a published generation
        self._rows: dict[int, np.ndarray] = {}  # vectors of passages added since the last save
        self._removed: list[int] = []  # published passages removed since the last save
        self._vector_cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._deletes: list[int] = []  # rows to delete once the generation being saved is live

    @staticmethod
    def settings_for(directory: Path, uri: str | None) -> dict[str, object]:
        return milvus_settings(directory, str(uri))

    def copy(self, manifest: Manifest, docstore: Docstore, segments: list[Segment]) -> MilvusBackend:
        other = MilvusBackend(manifest, docstore, segments)
        other.published = self.published
        other._rows = dict(self._rows)
        other._removed = list(self._removed)
        return other

    @property
    def client(self) -> Any:
        return milvus_client(str(self.manifest.store["uri"]))

    @property
    def collection(self) -> str:
        return str(self.manifest.store["collection"])

    @property
    def _joined_terms(self) -> bool:
        """Whether the collection's terms join compound words (see :func:`milvus_terms`)."""
        return self.manifest.store.get("terms") == JOINED_TERMS

    # ---- the collection ------------------------------------------------------------------
    def _create_collection(self) -> None:
        from pymilvus import DataType, Function, FunctionType

        client = self.client
        if client.has_collection(self.collection):
            return
        schema = client.create_schema(auto_id=False)
        schema.add_field("pid", DataType.INT64, is_primary=True)
        schema.add_field("article_id", DataType.VARCHAR, max_length=64)
        schema.add_field("source", DataType.VARCHAR, max_length=1024)
        schema.add_field("day", DataType.VARCHAR, max_length=10)
        schema.add_field("terms", DataType.VARCHAR, max_length=65535, enable_analyzer=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=self.manifest.dimension)
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_function(
            Function(
                name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"], output_field_names=["sparse"]
            )
        )
        index = self._vector_index_params()
        index.add_index(
            "sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25", params={"bm25_k1": K1, "bm25_b": B}
        )
        with quiet_server_log():
            client.create_collection(self.collection, schema=schema, index_params=index)
        log.info("created Milvus collection %s at %s", self.collection, self.manifest.store["uri"])

    def _vector_index_params(self) -> Any:
        store = self.manifest.store
        params = {
            k: int(v) for k, v in dict(store.get("params") or {}).items() if k in ("M", "efConstruction", "nlist")
        }  # type: ignore[call-overload]
        index = self.client.prepare_index_params()
        index.add_index("vector", index_type=store.get("index_type", "FLAT"), metric_type="IP", params=params)
        return index

    def _search_params(self, nprobe: int) -> dict[str, object]:
        store = self.manifest.store
        kind = store.get("index_type", "FLAT")
        options = dict(store.get("params") or {})  # type: ignore[call-overload]
        if kind == "HNSW":
            return {"metric_type": "IP", "params": {"ef": int(options.get("ef", 64))}}
        if kind == "IVF_FLAT":
            return {"metric_type": "IP", "params": {"nprobe": nprobe}}
        return {"metric_type": "IP"}

    # ---- rows ----------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        for pid, vector in zip(ids, vectors, strict=True):
            self._rows[int(pid)] = np.asarray(vector, dtype=np.float32)

    def remove(self, ids: np.ndarray) -> None:
        for pid in ids:
            if self._rows.pop(int(pid), None) is None:
                self._removed.append(int(pid))

    def vector(self, pid: int) -> np.ndarray:
        cached = self._vector_cache.get(pid)
        if cached is not None:
            return cached
        if pid in self._rows:
            return np.asarray(self._rows[pid], dtype=np.float32)
        [row] = self.client.get(self.collection, ids=[pid], output_fields=["vector"])
        vector = np.asarray(row["vector"], dtype=np.float32)
        self._remember(pid, vector)
        return vector

    def _remember(self, pid: int, vector: np.ndarray) -> None:
        self._vector_cache[pid] = vector
        self._vector_cache.move_to_end(pid)
        while len(self._vector_cache) > 4096:
            self._vector_cache.popitem(last=False)

    def use_vector_index(self, kind: VectorIndex) -> bool:
        """With no index type in the store's URI, the collection's vector index follows the size as
        the FAISS backend's does (``vector_index`` auto: exact up to ``approximate_above``
        passages): FLAT, then HNSW (M 16, efConstruction 200, searched with ef 64) once ``kind``
        asks for an approximate index, rebuilt in place once, before the save that publishes it
        (searches fail while the collection is released and reloaded; a writer dying before
        publishing leaves an HNSW collection under a manifest saying FLAT, which readers search
        with Milvus' default HNSW parameters until the next writer's save records it). A type
        named in the URI stays."""
        store = self.manifest.store
        if not store.get("auto") or kind != VectorIndex.IVF or store.get("index_type") == "HNSW":
            return False
        self.manifest.store = {**store, "index_type": "HNSW", "params": {"M": 16, "efConstruction": 200, "ef": 64}}
        if self.client.has_collection(self.collection):
            self.client.release_collection(self.collection)
            self.client.drop_index(self.collection, "vector")
            with quiet_server_log():
                self.client.create_index(self.collection, self._vector_index_params())
            self.client.load_collection(self.collection)
        log.info("Milvus collection %s: vector index now HNSW (%d passages)", self.collection, self.docs.count()[1])
        return False  # the collection's rows stay where they are: no compaction

    @property
    def needs_compaction(self) -> bool:
        return False

    # ---- searching -----------------------------------------------------------------------
    def _expression(self, filters: Filters | None) -> str:
        if not filters:
            return ""
        parts = []
        if filters.sources:
            parts.append(f"source in {json.dumps([s.casefold() for s in filters.sources])}")
        if filters.article_ids:
            ids = sorted({self.docs.id_for_key(ref) or ref for ref in filters.article_ids})
            parts.append(f"article_id in {json.dumps(ids)}")
        if filters.since:
            parts.append(f"day >= {json.dumps(filters.since[:10])}")
        if filters.until:
            parts.append(f'day != "" and day <= {json.dumps(filters.until[:10])}')
        if filters.as_of:  # undated articles are kept (they may be older)
            parts.append(f'(day == "" or day <= {json.dumps(filters.as_of[:10])})')
        return " and ".join(parts)

    def _hits(self, found: list[dict[str, Any]], k: int, where: Where | None, keyword: bool) -> list[tuple[int, float]]:
        out = []
        for hit in found:
            pid = int(hit["pid"] if "pid" in hit else hit["id"])
            if not self.docs.has_passage(pid) or (where is not None and pid not in where.ids):
                continue  # a row of another generation, or one the docstore's filter excludes
            vector = (hit.get("entity") or {}).get("vector")
            if vector is not None:
                self._remember(pid, np.asarray(vector, dtype=np.float32))
            distance = float(hit["distance"])
            out.append((pid, abs(distance) if keyword else distance))
        return out[:k]

    def _searchable(self) -> bool:
        """Whether the collection exists (it does once a generation with passages was published)."""
        if not self.published:
            self.published = self.client.has_collection(self.collection)
        return self.published

    def dense_search(
        self, vector: np.ndarray, k: int, where: Where | None, nprobe: int = 32
    ) -> list[tuple[int, float]]:
        if k < 1 or not self.docs.count()[1] or (where is not None and not where.ids):
            return []
        unsaved = self._unsaved_hits(vector, k) if where is None else []
        if not self._searchable():
            return unsaved
        found = self.client.search(
            self.collection,
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="vector",
            limit=k + 10,
            filter=self._expression(where.filters if where else None),
            output_fields=["vector"],
            search_params=self._search_params(nprobe),
        )
        hits = self._hits(found[0], k, where, keyword=False)
        return sorted(hits + unsaved, key=lambda hit: -hit[1])[:k] if unsaved else hits

    def _unsaved_hits(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The passages added since the last save (not yet in the collection) nearest to ``vector``,
        so that an unfiltered search sees them as the FAISS backend's does (an ingest finds the
        copies among its own articles, see :mod:`index.copies`)."""
        pids = [pid for pid in self._rows if self.docs.has_passage(pid)]
        if not pids:
            return []
        scores = np.vstack([self._rows[p] for p in pids]) @ np.asarray(vector, dtype=np.float32)
        best = np.argsort(-scores)[:k]
        return [(pids[i], float(scores[i])) for i in best]

    def keyword_search(self, query: str, k: int, where: Where | None) -> list[tuple[int, float]]:
        words = milvus_terms(query, self._joined_terms)
        if k < 1 or not words or not self.docs.count()[1] or (where is not None and not where.ids):
            return []
        if not self._searchable():
            return []
        found = self.client.search(
            self.collection,
            data=[words],
            anns_field="sparse",
            limit=k + 10,
            filter=self._expression(where.filters if where else None),
            search_params={"metric_type": "BM25"},
        )
        return self._hits(found[0], k, where, keyword=True)

    # ---- files and publishing ------------------------------------------------------------
    def open(self, gen: Path) -> None:
        if not self.docs.count()[1]:
            return
        if not self.client.has_collection(self.collection):
            raise IndexCorruptError(
                f"the Milvus collection {self.collection} at {self.manifest.store['uri']} is missing"
            )
        self.client.load_collection(self.collection)  # a new process finds it released
        self.published = True

    def write_segment(self, gen: Path, number: int, compact: bool) -> np.ndarray:
        new = [pid for pid in self._rows if self.docs.has_passage(pid)]
        live = [s.ids[s.live] for s in self.segments] if compact else []
        return np.concatenate([*live, np.asarray(new, dtype=np.int64)]).astype(np.int64)

    def _row(self, pid: int, vector: np.ndarray) -> dict[str, object]:
        aid, start, end = self.docs.span(pid)
        article = self.docs.get(aid)
        text = indexed_text(article.title, article.text[start:end])
        return {
            "pid": pid,
            "article_id": aid,
            "source": article.source.casefold(),
            "day": article.date[:10],
            "terms": milvus_terms(text, self._joined_terms),
            "vector": np.asarray(vector, dtype=np.float32).tolist(),
        }

    def before_publish(self, gen: Path, manifest: Manifest) -> None:
        """Write the new passages' rows (after deleting what a killed writer left), and record the
        rows to delete once this generation is live."""
        self._create_collection()
        client = self.client
        client.delete(self.collection, filter=f"pid >= {int(self.manifest.next_id)}")  # a killed writer's rows
        rows = [(pid, v) for pid, v in self._rows.items() if self.docs.has_passage(pid)]
        for start in range(0, len(rows), BATCH):
            client.insert(self.collection, [self._row(pid, v) for pid, v in rows[start : start + BATCH]])
        if rows:
            client.flush(self.collection)
        previous = [int(p) for p in self.manifest.store.get("pending_deletes", [])]  # type: ignore[union-attr]
        manifest.store = {**manifest.store, "pending_deletes": list(self._removed)}
        index_type = str(manifest.store.get("index_type", "FLAT"))
        manifest.vector_index = "flat" if index_type == "FLAT" else index_type.lower()
        self._deletes = previous + self._removed

    def after_publish(self, manifest: Manifest) -> None:
        self.manifest = manifest
        if self._deletes:
            self.client.delete(self.collection, ids=self._deletes)
        self._deletes = []
        self._rows = {}
        self._removed = []
        self.published = True

    def row_count(self) -> int:
        """Rows in the collection (for checks and tests)."""
        result = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(result[0]["count(*)"])
