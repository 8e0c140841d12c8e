"""The default search backend: vectors in FAISS (exact, or IVF for large indexes) and our BM25
postings, both kept in each segment's files: ``.vectors.npy`` (float32, a row per passage),
``.keyword.npz`` (BM25 term counts, see :mod:`index.backends.keyword`), ``.lists.npy`` (each passage's IVF
list, with an IVF index), and the generation's ``ivf.faiss`` (the trained lists, empty)."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from index.backends.backend import Segment, Where
from index.backends.keyword import SETTINGS as KEYWORD_SETTINGS
from index.backends.keyword import KeywordIndex, KeywordSegment
from index.disk.files import write_matrix
from index.docstore import Docstore
from index.manifest import Manifest, VectorIndex, segment_file

log = logging.getLogger(__name__)

MIN_IVF_PASSAGES = 10_000  # below this an IVF index is not worth training: search stays exact
IVF_FILE = "ivf.faiss"
STEP = 16_384  # rows copied at a time (never a whole second copy of the vectors in numpy)


def ivf_lists(total: int) -> int:
    """Inverted lists for an IVF index over ``total`` vectors: about 4·√n (at least 16)."""
    return int(max(4 * np.sqrt(total), 16))


def new_vector_index(kind: VectorIndex, dimension: int, training: np.ndarray | None = None, total: int = 0):  # type: ignore[no-untyped-def]
    """An empty FAISS index with own int64 ids, inner-product metric, and lookup of a vector by id.
    IVF is trained on ``training`` (a sample of the vectors) and gets :func:`ivf_lists` of
    ``total`` lists (of the sample size when ``total`` is 0), at most one per 39 training vectors."""
    import faiss

    # vectors held as float16 (half the memory of float32; a unit vector's components lose ~1e-4)
    half = faiss.ScalarQuantizer.QT_fp16
    if kind == VectorIndex.FLAT:
        return faiss.IndexIDMap2(faiss.IndexScalarQuantizer(dimension, half, faiss.METRIC_INNER_PRODUCT))
    if training is None or len(training) < 256:
        raise ValueError("an IVF index needs at least 256 training vectors")
    lists = min(ivf_lists(total or len(training)), len(training) // 39)
    quantizer = faiss.IndexFlatIP(dimension)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dimension, lists, half, faiss.METRIC_INNER_PRODUCT, False)
    index.cp.seed = 1234
    index.train(np.ascontiguousarray(training, dtype=np.float32))
    index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct(id) and remove_ids
    return index


def vector_index_kind(index) -> VectorIndex:  # type: ignore[no-untyped-def]
    import faiss

    return VectorIndex.IVF if isinstance(index, faiss.IndexIVF) else VectorIndex.FLAT


class FaissBackend:
    """FAISS vectors and BM25 segments (a :class:`~index.backends.backend.StoreBackend`
    with segment files of its own: :class:`~index.backends.backend.SegmentFiles`)."""

    def __init__(self, manifest: Manifest, docstore: Docstore, segments: list[Segment]) -> None:
        self.manifest = manifest
        self.docs = docstore
        self.segments = segments  # the store's published segments (shared, changed in place)
        self.vectors = new_vector_index(VectorIndex.FLAT, manifest.dimension)
        self.keywords: dict[int, KeywordSegment] = {}  # segment number -> its postings
        self._new: dict[int, None] = {}  # rows added since the last save, in order
        self._pending: KeywordSegment | None = None  # keyword segment of those rows
        self._keyword: KeywordIndex | None = None  # None: stale, made again on the next keyword search
        self._compact = False
        self._rebuild_keyword = manifest.keyword != KEYWORD_SETTINGS  # derived data: made again with today's
        self._written: tuple[int, KeywordSegment, bool] | None = None

    @staticmethod
    def settings_for(directory: Path, uri: str | None) -> dict[str, object]:
        return {"kind": "faiss"}

    def copy(self, manifest: Manifest, docstore: Docstore, segments: list[Segment]) -> FaissBackend:
        import faiss

        other = FaissBackend.__new__(FaissBackend)
        other.__dict__.update(self.__dict__)
        other.manifest, other.docs, other.segments = manifest, docstore, segments
        other.vectors = faiss.clone_index(self.vectors)
        other.keywords = dict(self.keywords)
        other._new = dict(self._new)
        other._keyword = None
        return other

    # ---- rows ----------------------------------------------------------------------------
    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids):
            self.vectors.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        self._new.update(dict.fromkeys(int(i) for i in ids))
        self._pending = self._keyword = None

    def remove(self, ids: np.ndarray) -> None:
        for pid in ids:
            if self._new.pop(int(pid), 0) is None:
                self._pending = None
        if len(ids):
            self.vectors.remove_ids(np.asarray(ids, dtype=np.int64))
        self._keyword = None

    def adopt(self, vectors, ids: np.ndarray) -> None:  # type: ignore[no-untyped-def]
        """Take a whole FAISS index (a format-2 generation's) as the rows ``ids``, all unsaved."""
        self.vectors = vectors
        self._new = dict.fromkeys(int(i) for i in ids)
        self._compact = True

    def vector(self, pid: int) -> np.ndarray:
        return np.asarray(self.vectors.reconstruct(pid), dtype=np.float32)

    # ---- search --------------------------------------------------------------------------
    def dense_search(
        self, vector: np.ndarray, k: int, where: Where | None, nprobe: int = 32
    ) -> list[tuple[int, float]]:
        """The ``k`` passages nearest to ``vector`` (inner product), only ``where``'s ids when given;
        an IVF index searches ``nprobe`` of its lists."""
        import faiss

        allowed = where.ids if where is not None else None
        if self.vectors.ntotal == 0 or k < 1 or (allowed is not None and not allowed):
            return []
        selector = faiss.IDSelectorBatch(np.fromiter(allowed, dtype=np.int64)) if allowed is not None else None
        if vector_index_kind(self.vectors) == VectorIndex.IVF:
            params = faiss.SearchParametersIVF(sel=selector, nprobe=nprobe)
        else:
            params = faiss.SearchParameters(sel=selector) if selector is not None else None
        query = np.ascontiguousarray(vector.reshape(1, -1), dtype=np.float32)
        scores, ids = self.vectors.search(query, k, params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0], strict=True) if i >= 0]

    def keyword_search(self, query: str, k: int, where: Where | None) -> list[tuple[int, float]]:
        return self.keyword_index().search(query, k, where.ids if where is not None else None)

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index over each passage with its article's title: the published segments and
        one for the passages added since (made from their text when first needed)."""
        if self._keyword is None:
            if self._rebuild_keyword:
                pids = self.docs.passage_ids()
                self._keyword = KeywordIndex.build(pids, self.docs.texts(pids))
            else:
                parts = [(self.keywords[s.number], s.live) for s in self.segments]
                if self._new:
                    pending = self._pending_keyword()
                    parts.append((pending, np.ones(len(pending.ids), dtype=bool)))
                self._keyword = KeywordIndex(parts)
        return self._keyword

    def _pending_keyword(self) -> KeywordSegment:
        if self._pending is None:
            pids = list(self._new)
            self._pending = KeywordSegment.build(pids, self.docs.texts(pids))
        return self._pending

    # ---- the vector index type -----------------------------------------------------------
    def build_vector_index(self, kind: VectorIndex, chunk: int = STEP):  # type: ignore[no-untyped-def]
        """A new ``kind`` index holding the current vectors, copied over ``chunk`` rows at a time
        (never a whole second copy in numpy); IVF is trained on a seeded sample of them."""
        ids = np.asarray(sorted(self.docs.passage_ids()), dtype=np.int64)
        training = None
        if kind == VectorIndex.IVF:
            size = min(len(ids), 64 * ivf_lists(len(ids)))
            sample = np.sort(np.random.default_rng(0).choice(ids, size=size, replace=False))
            training = self.vectors.reconstruct_batch(sample)
        index = new_vector_index(kind, self.manifest.dimension, training, total=len(ids))
        del training
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            index.add_with_ids(self.vectors.reconstruct_batch(part), part)
        return index

    def use_vector_index(self, kind: VectorIndex) -> bool:
        """Rebuild the vectors into a ``kind`` index (IVF is trained on the vectors held now);
        False when it is that kind already, or too small to train an IVF index. The next save
        compacts the segments (each passage's IVF list changes)."""
        passages = self.docs.count()[1]
        if vector_index_kind(self.vectors) == kind or (kind == VectorIndex.IVF and passages < MIN_IVF_PASSAGES):
            return False
        self.vectors = self.build_vector_index(kind)
        self._compact = True
        log.info("vectors now in a %s index (%d passages)", kind.value, passages)
        return True

    @property
    def needs_compaction(self) -> bool:
        return self._compact or self._rebuild_keyword

    # ---- files ---------------------------------------------------------------------------
    def read_segment(self, gen: Path, segment: Segment) -> None:
        """Segment's keyword postings (its vectors are added by :meth:`open`), checked against its rows."""
        keyword = KeywordSegment.load(gen / segment_file(segment.number, "keyword.npz"))
        vectors = np.load(gen / segment_file(segment.number, "vectors.npy"), mmap_mode="r")
        if not np.array_equal(keyword.ids, segment.ids) or vectors.shape != (len(segment.ids), self.manifest.dimension):
            raise ValueError(f"segment {segment.number}'s passages, vectors and keyword rows disagree")
        self.keywords[segment.number] = keyword

    def open(self, gen: Path) -> None:
        """The FAISS index of the live passages of every segment (IVF: the trained lists, each
        passage added to the list recorded for it, so nothing is assigned again)."""
        import faiss

        ivf = self.manifest.vector_index == VectorIndex.IVF.value
        if ivf:
            self.vectors = faiss.read_index(str(gen / IVF_FILE))
        for segment in self.segments:
            vectors = np.load(gen / segment_file(segment.number, "vectors.npy"), mmap_mode="r")
            lists_path = gen / segment_file(segment.number, "lists.npy")
            if ivf and not lists_path.is_file():
                raise ValueError(f"segment {segment.number} lacks the IVF lists of its passages")
            lists = np.load(lists_path) if ivf else None
            rows = np.flatnonzero(segment.live)
            for start in range(0, len(rows), STEP):
                part = rows[start : start + STEP]
                x = np.ascontiguousarray(vectors[part], dtype=np.float32)
                ids = np.ascontiguousarray(segment.ids[part], dtype=np.int64)
                if lists is None:
                    self.vectors.add_with_ids(x, ids)
                else:
                    assign = np.ascontiguousarray(lists[part].ravel(), dtype=np.int64)
                    self.vectors.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(assign))
        if self.vectors.ntotal != self.docs.count()[1]:
            raise ValueError(f"{self.vectors.ntotal} vectors for {self.docs.count()[1]} passages")

    def write_segment(self, gen: Path, number: int, compact: bool) -> np.ndarray:
        if not compact:
            keyword = self._pending_keyword()
        elif self._rebuild_keyword:
            pids = self.docs.passage_ids()
            keyword = KeywordSegment.build(pids, self.docs.texts(pids))
        else:
            parts = [(self.keywords[s.number], s.live) for s in self.segments]
            if self._new:
                pending = self._pending_keyword()
                parts.append((pending, np.ones(len(pending.ids), dtype=bool)))
            keyword = KeywordSegment.merge(parts)
        pids = keyword.ids
        batches = (self.vectors.reconstruct_batch(pids[i : i + STEP]) for i in range(0, len(pids), STEP))
        dimension = self.manifest.dimension
        write_matrix(gen / segment_file(number, "vectors.npy"), len(pids), dimension, "<f4", batches)
        if vector_index_kind(self.vectors) == VectorIndex.IVF:
            quantizer = self.vectors.quantizer
            lists = (
                quantizer.search(self.vectors.reconstruct_batch(pids[i : i + STEP]), 1)[1]
                for i in range(0, len(pids), STEP)
            )
            write_matrix(gen / segment_file(number, "lists.npy"), len(pids), 1, "<i8", lists)
        keyword.save(gen / segment_file(number, "keyword.npz"))
        self._written = (number, keyword, compact)
        return pids

    def before_publish(self, gen: Path, manifest: Manifest) -> None:
        import faiss

        manifest.vector_index = vector_index_kind(self.vectors).value
        if self._written is not None and self._written[2]:
            manifest.keyword = dict(KEYWORD_SETTINGS)
        if manifest.vector_index == VectorIndex.IVF.value:
            empty = faiss.clone_index(self.vectors)
            empty.reset()  # the trained lists without their vectors (those are in the segments)
            faiss.write_index(empty, str(gen / IVF_FILE))

    def after_publish(self, manifest: Manifest) -> None:
        self.manifest = manifest
        if self._written is not None:
            number, keyword, compact = self._written
            self.keywords = {number: keyword} if compact else {**self.keywords, number: keyword}
        self.keywords = {s.number: self.keywords[s.number] for s in self.segments}
        self._written = None
        self._new = {}
        self._pending = self._keyword = None
        self._compact = self._rebuild_keyword = False
