"""BM25 keyword search over passages, kept in segments that are written once and never rewritten.

A :class:`KeywordSegment` holds the term counts of the passages one save added: a term × passage
sparse matrix (CSR: a posting list per term), each passage's length and its id. Nothing in it
depends on the other segments: the collection statistics BM25 needs (number of passages, each
term's document frequency, the average length) are summed over the live passages of all
segments when a question is asked, so a save that adds passages writes one new segment and a
removal only marks rows dead. Scores are Lucene's BM25 (bm25s' ``lucene`` method):
``idf = ln(1 + (N − df + 0.5) / (df + 0.5))`` times ``tf / (tf + k1·(1 − b + b·len/avglen))``.
"""

from __future__ import annotations

import math
import struct
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from index.errors import IndexCorruptError
from index.language.words import TOKENIZER_VERSION, terms

K1, B = 1.5, 0.75
SETTINGS = {"method": "bm25-lucene", "k1": K1, "b": B, "tokenizer": TOKENIZER_VERSION, "fields": "title+passage"}


@dataclass
class KeywordSegment:
    """Term counts of some passages: row ``i`` is passage ``ids[i]``; term ``t``'s postings are
    ``rows[indptr[t]:indptr[t + 1]]`` with counts ``counts[...]``."""

    ids: np.ndarray  # int64 passage ids
    lengths: np.ndarray  # float32 terms per passage
    terms: list[str]
    indptr: np.ndarray  # int64, len(terms) + 1
    rows: np.ndarray  # int32
    counts: np.ndarray  # float32
    vocab: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.vocab = {t: i for i, t in enumerate(self.terms)}

    @classmethod
    def build(cls, ids: Sequence[int], texts: Iterable[str]) -> KeywordSegment:
        """The segment of ``texts`` (one per id, in order; an iterable, never all in memory)."""
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        rows: list[int] = []
        counts: list[int] = []
        lengths: list[int] = []
        for row, text in enumerate(texts):
            words = terms(text)
            lengths.append(len(words))
            tally: dict[int, int] = {}
            for w in words:
                t = vocab.setdefault(w, len(vocab))
                tally[t] = tally.get(t, 0) + 1
            term_ids.extend(tally)
            counts.extend(tally.values())
            rows.extend([row] * len(tally))
        if len(lengths) != len(ids):
            raise ValueError(f"{len(ids)} ids but {len(lengths)} texts")
        return cls._from_postings(
            np.asarray(ids, dtype=np.int64),
            np.asarray(lengths, dtype=np.float32),
            list(vocab),
            np.asarray(term_ids, dtype=np.int64),
            np.asarray(rows, dtype=np.int32),
            np.asarray(counts, dtype=np.float32),
        )

    @classmethod
    def ids_only(cls, ids: Sequence[int]) -> KeywordSegment:
        """A segment of passage ids without postings (for a store whose keyword search is elsewhere)."""
        n = len(ids)
        empty = np.zeros(0, dtype=np.float32)
        return cls(
            np.asarray(ids, dtype=np.int64),
            np.zeros(n, np.float32),
            [],
            np.zeros(1, np.int64),
            np.zeros(0, np.int32),
            empty,
        )

    @classmethod
    def _from_postings(
        cls,
        ids: np.ndarray,
        lengths: np.ndarray,
        words: list[str],
        term: np.ndarray,
        rows: np.ndarray,
        counts: np.ndarray,
    ) -> KeywordSegment:
        order = np.lexsort((rows, term))
        indptr = np.zeros(len(words) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(words)), out=indptr[1:])
        return cls(ids, lengths, words, indptr, rows[order], counts[order])

    @classmethod
    def merge(cls, parts: Sequence[tuple[KeywordSegment, np.ndarray]]) -> KeywordSegment:
        """One segment of the live rows (``(segment, live mask)`` pairs), in order; no text is read."""
        vocab: dict[str, int] = {}
        ids, lengths, term, rows, counts = [], [], [], [], []
        offset = 0
        for seg, live in parts:
            gid = np.fromiter(
                (vocab.setdefault(t, len(vocab)) for t in seg.terms), dtype=np.int64, count=len(seg.terms)
            )
            new_row = np.cumsum(live, dtype=np.int64) - 1 + offset
            posting_term = np.repeat(gid, np.diff(seg.indptr))
            keep = live[seg.rows]
            term.append(posting_term[keep])
            rows.append(new_row[seg.rows[keep]].astype(np.int32))
            counts.append(seg.counts[keep])
            ids.append(seg.ids[live])
            lengths.append(seg.lengths[live])
            offset += int(live.sum())

        def cat(arrays: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(arrays).astype(dtype, copy=False) if arrays else np.zeros(0, dtype)

        words = list(vocab)
        t, r, c = cat(term, np.int64), cat(rows, np.int32), cat(counts, np.float32)
        # a term whose postings were all dead stays in the vocabulary with an empty list
        return cls._from_postings(cat(ids, np.int64), cat(lengths, np.float32), words, t, r, c)

    def save(self, path: Path) -> None:
        """Write as one ``.npz`` (not synced: the store syncs every file it writes)."""
        with path.open("wb") as f:
            np.savez(
                f,
                ids=self.ids,
                lengths=self.lengths,
                terms=np.frombuffer("\n".join(self.terms).encode(), dtype=np.uint8),
                indptr=self.indptr,
                rows=self.rows,
                counts=self.counts,
            )

    @classmethod
    def load(cls, path: Path) -> KeywordSegment:
        """The segment saved at ``path``, its arrays memory-mapped from the file (a question reads
        the postings of its words only; at the full RealTime QA corpus the postings were ~300 MB
        read whole), only the vocabulary in memory."""
        try:
            data = _mapped_npz(path)
            text = np.asarray(data["terms"]).tobytes().decode()
            seg = cls(
                data["ids"],
                data["lengths"],
                text.split("\n") if text else [],
                data["indptr"],
                data["rows"],
                data["counts"],
            )
        except (OSError, ValueError, KeyError, EOFError, UnicodeDecodeError, zipfile.BadZipFile) as e:
            raise IndexCorruptError(f"keyword segment {path} is missing or damaged ({e})") from e
        if len(seg.indptr) != len(seg.terms) + 1 or len(seg.lengths) != len(seg.ids) or seg.indptr[-1] != len(seg.rows):
            raise IndexCorruptError(f"keyword segment {path} is inconsistent")
        return seg


def _mapped_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of an uncompressed ``.npz`` (``np.savez``), each mapped from its place in the
    file (a read-only view: an ndarray over the map, since slicing a ``np.memmap`` is slow); a
    compressed member is read whole."""
    out: dict[str, np.ndarray] = {}
    with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
        for info in archive.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                with archive.open(info) as member:
                    out[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            raw.seek(info.header_offset)
            local = raw.read(30)
            if local[:4] != b"PK\x03\x04":
                raise ValueError(f"{info.filename}: not a zip member header")
            name_length, extra_length = struct.unpack("<HH", local[26:30])
            start = info.header_offset + 30 + name_length + extra_length
            raw.seek(start)
            version = np.lib.format.read_magic(raw)
            header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = header(raw)
            if dtype.hasobject:
                raise ValueError(f"{info.filename}: object arrays are not read")
            offset = raw.tell()
            count = int(np.prod(shape))
            if offset + count * dtype.itemsize > start + info.file_size:
                raise ValueError(f"{info.filename}: shorter than its header says")
            if count == 0:
                out[name] = np.zeros(shape, dtype=dtype)
                continue
            mapped = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape, order="F" if fortran else "C")
            out[name] = mapped.view(np.ndarray)
    return out


class KeywordIndex:
    """BM25 over segments, each with a mask of its live rows (removed passages are dead)."""

    def __init__(self, parts: Sequence[tuple[KeywordSegment, np.ndarray]]) -> None:
        self.parts = list(parts)
        self.passages = sum(int(live.sum()) for _, live in self.parts)
        total = sum(float(seg.lengths[live].sum()) for seg, live in self.parts)
        self.average_length = total / self.passages if self.passages else 1.0

    def live_ids(self) -> set[int]:
        """The passage ids it searches."""
        return {int(pid) for seg, live in self.parts for pid in seg.ids[live]}

    @classmethod
    def build(cls, ids: Sequence[int], texts: Iterable[str]) -> KeywordIndex:
        seg = KeywordSegment.build(ids, texts)
        return cls([(seg, np.ones(len(seg.ids), dtype=bool))])

    def search(self, query: str, k: int, allowed: set[int] | None = None) -> list[tuple[int, float]]:
        """The ``k`` best passages by BM25 (only ``allowed`` passage ids when given), best first."""
        words = terms(query)
        if not self.passages or not words or k < 1:
            return []
        postings: dict[str, list[tuple[int, np.ndarray, np.ndarray]]] = {}
        df: dict[str, int] = {}
        for w in set(words):
            found = []
            for s, (seg, live) in enumerate(self.parts):
                t = seg.vocab.get(w)
                if t is None:
                    continue
                rows = seg.rows[seg.indptr[t] : seg.indptr[t + 1]]
                counts = seg.counts[seg.indptr[t] : seg.indptr[t + 1]]
                keep = live[rows]
                found.append((s, rows[keep], counts[keep]))
            postings[w] = found
            df[w] = sum(len(rows) for _, rows, _ in found)
        scores = [np.zeros(len(seg.ids), dtype=np.float32) for seg, _ in self.parts]
        n = self.passages
        for w in words:  # a repeated query word counts each time (as bm25s does)
            if not df[w]:
                continue
            idf = math.log(1 + (n - df[w] + 0.5) / (df[w] + 0.5))
            for s, rows, tf in postings[w]:
                norm = K1 * ((1 - B) + B * self.parts[s][0].lengths[rows] / self.average_length)
                scores[s][rows] += np.float32(idf) * tf / (norm + tf)
        flat = np.concatenate(scores)
        ids = np.concatenate([seg.ids for seg, _ in self.parts])
        if allowed is not None:
            flat[~np.isin(ids, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))] = 0.0
        top = np.argsort(-flat, kind="stable")[:k]
        return [(int(ids[i]), float(flat[i])) for i in top if flat[i] > 0]
