"""Passages searched in a Milvus collection: a Milvus server or cluster by URI, or Milvus Lite in a file.

What lives where. The article docstore (articles, passage spans, sentence vectors) stays in the
index folder's generations exactly as for the FAISS store, so publishing stays atomic and safe
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

import fcntl
import hashlib
import json
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import numpy as np

from index.errors import ConfigurationError, IndexBusyError, IndexCorruptError
from index.keyword import K1, B, KeywordSegment
from index.records import indexed_text
from index.retrieval import Filters
from index.store import Manifest, PassageStore, VectorIndex
from index.text import terms

log = logging.getLogger(__name__)

BATCH = 1000  # rows per insert
JOINED_TERMS = "joined-v2"  # the store entry's "terms" when compound words are joined by "_"
_COMPOUND = str.maketrans({"-": "_", "'": "_", "\u2019": "_"})


def milvus_terms(text: str, joined: bool = True) -> str:
    """``text``'s keyword terms as Milvus' analyzer should read them: the FAISS store's terms, with
    compound words ("covid-19", "o'brien") joined by "_", which Milvus' standard tokenizer keeps
    whole (it splits words at "-" and "'"). Collections made before that (no ``terms`` entry in the
    manifest's store) are queried without joining, as they were written."""
    words = terms(text)
    return " ".join(w.translate(_COMPOUND) for w in words) if joined else " ".join(words)


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def milvus_settings(directory: Path, uri: str) -> dict[str, object]:
    """The manifest's ``store`` entry for a new index at ``directory`` kept in Milvus at ``uri``:
    a Milvus Lite file (``….db``) or ``milvus://host:port``, either with ``?index=…`` naming the
    vector index and its parameters (FLAT: exact; HNSW with ``M``, ``efConstruction``, ``ef``;
    IVF_FLAT with ``nlist``, searched with ``nprobe``). Without it the index follows the size: FLAT,
    then HNSW past ``approximate_above`` passages (:meth:`MilvusPassageStore.use_vector_index`)."""
    parts = urlsplit(uri)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "milvus":
        address = f"http://{parts.netloc}"
    elif parts.path.endswith(".db") and not parts.scheme:
        address = str(Path(parts.path).expanduser().resolve())
    else:
        raise ConfigurationError(f"store {uri!r}: use a Milvus Lite file (….db) or milvus://host:port")
    name = f"news_{hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]}"
    chosen = options.pop("index", "").upper()
    if chosen not in ("", "FLAT", "HNSW", "IVF_FLAT"):
        raise ConfigurationError(f"store {uri!r}: index must be FLAT, HNSW or IVF_FLAT")
    return {
        "kind": "milvus",
        "uri": address,
        "collection": name,
        "index_type": chosen or "FLAT",
        "params": options,
        "terms": JOINED_TERMS,
        "auto": not chosen,  # the vector index follows the size (see use_vector_index)
    }


def _client(uri: str) -> Any:
    """One client per URI in a process (Milvus Lite opens its file once)."""
    with _clients_lock:
        if uri not in _clients:
            from pymilvus import MilvusClient
            from pymilvus.exceptions import MilvusException

            try:
                _clients[uri] = MilvusClient(uri, token=os.environ.get("MILVUS_TOKEN", ""))
            except MilvusException as error:
                if uri.startswith(("http://", "https://")):
                    raise ConfigurationError(f"cannot reach the Milvus server at {uri}: {error}") from None
                if _lite_file_locked(Path(uri)):
                    raise IndexBusyError(
                        f"cannot open the Milvus Lite file {uri}: another process has it open (Milvus Lite "
                        "serves one process per file; run a Milvus server, milvus://host:port, to read and "
                        "write from several processes)"
                    ) from None
                raise ConfigurationError(f"cannot open the Milvus Lite file {uri}: {error}") from None
        return _clients[uri]


def _lite_file_locked(path: Path) -> bool:
    """Whether another process holds Milvus Lite's lock on ``path`` (an advisory flock on its LOCK file)."""
    try:
        with (path / "LOCK").open("rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:  # no LOCK file: not opened yet
        return False
    return False


@contextmanager
def _quiet_server_log() -> Iterator[None]:
    """Milvus Lite's embedded server lacks AllocTimestamp, which pymilvus calls while it waits for
    an index to be built; the call fails harmlessly but the server logs a traceback: keep it quiet."""
    server_log = logging.getLogger("grpc._server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        server_log.setLevel(level)


class MilvusPassageStore(PassageStore):
    """:class:`PassageStore` whose vectors and keyword postings live in a Milvus collection."""

    def __init__(self, directory: Path, manifest: Manifest) -> None:
        super().__init__(directory, manifest)
        self._rows: dict[int, np.ndarray] = {}  # vectors of passages added since the last save
        self._removed: list[int] = []  # published passages removed since the last save
        self._vector_cache: OrderedDict[int, np.ndarray] = OrderedDict()

    @property
    def client(self) -> Any:
        return _client(str(self.manifest.store["uri"]))

    @property
    def collection(self) -> str:
        return str(self.manifest.store["collection"])

    @property
    def _joined_terms(self) -> bool:
        """Whether the collection's terms join compound words (see :func:`milvus_terms`)."""
        return self.manifest.store.get("terms") == JOINED_TERMS

    def copy(self) -> MilvusPassageStore:
        other = super().copy()
        assert isinstance(other, MilvusPassageStore)
        other._rows = dict(self._rows)
        other._removed = list(self._removed)
        other._vector_cache = OrderedDict()
        return other

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
        with _quiet_server_log():
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

    # ---- hooks of PassageStore ----------------------------------------------------------------
    def _add_vectors(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        for pid, vector in zip(ids, vectors, strict=True):
            self._rows[int(pid)] = vector

    def _remove_vectors(self, ids: np.ndarray) -> None:
        for pid in ids:
            if self._rows.pop(int(pid), None) is None:
                self._removed.append(int(pid))

    def _write_search_files(self, gen: Path, number: int, keyword: KeywordSegment) -> None:
        pass  # the rows are in the collection

    def _read_search_files(self, gen: Path, number: int, pids: np.ndarray) -> KeywordSegment:
        return KeywordSegment.ids_only(pids)

    def _open_search(self, gen: Path) -> None:
        if not self.spans:
            return
        if not self.client.has_collection(self.collection):
            raise IndexCorruptError(
                f"the Milvus collection {self.collection} at {self.manifest.store['uri']} of index {self.directory} "
                "is missing"
            )
        self.client.load_collection(self.collection)  # a new process finds it released

    def _keyword_segment(self, pids: Sequence[int]) -> KeywordSegment:
        return KeywordSegment.ids_only(pids)

    def use_vector_index(self, kind: VectorIndex) -> bool:
        """With no index type in the store's URI, the collection's vector index follows the size as
        the FAISS store's does (``vector_index`` auto: exact up to ``approximate_above`` passages):
        FLAT, then HNSW (M 16, efConstruction 200, searched with ef 64), rebuilt in place once, before
        the save that publishes it (searches fail while the collection is released and reloaded; a
        writer dying before publishing leaves an HNSW collection under a manifest saying FLAT, which
        readers search with Milvus' default HNSW parameters until the next writer's save records
        it). A type named in the URI stays."""
        store = self.manifest.store
        if not store.get("auto") or kind != VectorIndex.IVF or store.get("index_type") == "HNSW":
            return False
        self.manifest.store = {**store, "index_type": "HNSW", "params": {"M": 16, "efConstruction": 200, "ef": 64}}
        if self.client.has_collection(self.collection):
            self.client.release_collection(self.collection)
            self.client.drop_index(self.collection, "vector")
            with _quiet_server_log():
                self.client.create_index(self.collection, self._vector_index_params())
            self.client.load_collection(self.collection)
        log.info("Milvus collection %s: vector index now HNSW (%d passages)", self.collection, len(self.spans))
        return True

    # ---- searching -----------------------------------------------------------------------
    def _expression(self, filters: Filters | None) -> str:
        if not filters:
            return ""
        parts = []
        if filters.sources:
            parts.append(f"source in {json.dumps([s.casefold() for s in filters.sources])}")
        if filters.article_ids:
            ids = sorted({self.keys.get(ref, ref) for ref in filters.article_ids})
            parts.append(f"article_id in {json.dumps(ids)}")
        if filters.since:
            parts.append(f"day >= {json.dumps(filters.since[:10])}")
        if filters.until:
            parts.append(f'day != "" and day <= {json.dumps(filters.until[:10])}')
        if filters.as_of:  # undated articles are kept (they may be older)
            parts.append(f'(day == "" or day <= {json.dumps(filters.as_of[:10])})')
        return " and ".join(parts)

    def _hits(
        self, found: list[dict[str, Any]], k: int, allowed: set[int] | None, keyword: bool
    ) -> list[tuple[int, float]]:
        out = []
        for hit in found:
            pid = int(hit["pid"] if "pid" in hit else hit["id"])
            if pid not in self.spans or (allowed is not None and pid not in allowed):
                continue  # a row of another generation, or one the docstore's filter excludes
            vector = (hit.get("entity") or {}).get("vector")
            if vector is not None:
                self._remember(pid, np.asarray(vector, dtype=np.float32))
            distance = float(hit["distance"])
            out.append((pid, abs(distance) if keyword else distance))
        return out[:k]

    def dense_search(
        self, vector: np.ndarray, k: int, filters: Filters | None, allowed: set[int] | None, nprobe: int = 32
    ) -> list[tuple[int, float]]:
        if k < 1 or not self.spans or (allowed is not None and not allowed):
            return []
        unsaved = self._unsaved_hits(vector, k) if filters is None and allowed is None else []
        if self.generation is None and not self.client.has_collection(self.collection):
            return unsaved  # nothing published yet
        found = self.client.search(
            self.collection,
            data=[np.asarray(vector, dtype=np.float32).tolist()],
            anns_field="vector",
            limit=k + 10,
            filter=self._expression(filters),
            output_fields=["vector"],
            search_params=self._search_params(nprobe),
        )
        hits = self._hits(found[0], k, allowed, keyword=False)
        return sorted(hits + unsaved, key=lambda hit: -hit[1])[:k] if unsaved else hits

    def _unsaved_hits(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The passages added since the last save (not yet in the collection) nearest to ``vector``,
        so that an unfiltered search sees them as the FAISS store's does (an ingest finds the
        copies among its own articles, see :mod:`index.copies`)."""
        pids = [pid for pid in self._rows if pid in self.spans]
        if not pids:
            return []
        scores = np.vstack([self._rows[p] for p in pids]) @ np.asarray(vector, dtype=np.float32)
        best = np.argsort(-scores)[:k]
        return [(pids[i], float(scores[i])) for i in best]

    def keyword_search(
        self, query: str, k: int, filters: Filters | None, allowed: set[int] | None
    ) -> list[tuple[int, float]]:
        words = milvus_terms(query, self._joined_terms)
        if k < 1 or not words or not self.spans or (allowed is not None and not allowed):
            return []
        found = self.client.search(
            self.collection,
            data=[words],
            anns_field="sparse",
            limit=k + 10,
            filter=self._expression(filters),
            search_params={"metric_type": "BM25"},
        )
        return self._hits(found[0], k, allowed, keyword=True)

    def _remember(self, pid: int, vector: np.ndarray) -> None:
        self._vector_cache[pid] = vector
        self._vector_cache.move_to_end(pid)
        while len(self._vector_cache) > 4096:
            self._vector_cache.popitem(last=False)

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

    # ---- writing -------------------------------------------------------------------------
    def _row(self, pid: int, vector: np.ndarray) -> dict[str, object]:
        aid, start, end = self.spans[pid]
        article = self.articles[aid]
        text = indexed_text(article.title, article.text[start:end])
        return {
            "pid": pid,
            "article_id": aid,
            "source": article.source.casefold(),
            "day": article.date[:10],
            "terms": milvus_terms(text, self._joined_terms),
            "vector": np.asarray(vector, dtype=np.float32).tolist(),
        }

    def save(self, package_version: str = "") -> None:
        """Write the new passages' rows, publish the generation, then delete removed rows."""
        self._ensure_current()
        self._create_collection()
        client = self.client
        client.delete(self.collection, filter=f"pid >= {int(self.manifest.next_id)}")  # a killed writer's rows
        rows = [(pid, v) for pid, v in self._rows.items() if pid in self.spans]
        for start in range(0, len(rows), BATCH):
            client.insert(self.collection, [self._row(pid, v) for pid, v in rows[start : start + BATCH]])
        if rows:
            client.flush(self.collection)
        previous = [int(p) for p in self.manifest.store.get("pending_deletes", [])]  # type: ignore[union-attr]
        store = dict(self.manifest.store)
        self.manifest.store = {**store, "pending_deletes": list(self._removed)}
        try:
            super().save(package_version)
        except BaseException:
            self.manifest.store = store
            raise
        deletes = previous + self._removed
        if deletes:
            client.delete(self.collection, ids=deletes)
        self._rows = {}
        self._removed = []

    def row_count(self) -> int:
        """Rows in the collection (for checks and tests)."""
        result = self.client.query(self.collection, filter="", output_fields=["count(*)"])
        return int(result[0]["count(*)"])
