"""The docstore: articles, their passages' spans and their sentences' vectors, in memory and in
each segment's files (``.articles.jsonl``, ``.passages.jsonl``, ``.sentences.f16`` +
``.sentences.rows.npy``). The search structures are the backend's (see :mod:`index.backends.backend`)."""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

from index.disk.files import write_lines
from index.errors import IndexCorruptError
from index.manifest import segment_file
from index.records import Article, Passage, indexed_text
from index.retrieval import Filters


class Docstore:
    """Articles by id (a key or a merged copy's id finds its article), passage spans by passage
    id, and the float16 vectors of each passage's sentences. Its tables are private: read it
    through the methods below, change it with :meth:`add`, :meth:`register` and :meth:`drop`."""

    def __init__(self) -> None:
        self._articles: dict[str, Article] = {}  # read from a segment file: without texts (see _stored)
        self._stored: dict[str, tuple[TextFile, int, int]] = {}  # article id -> its line in a segment file
        self._keys: dict[str, str] = {}  # article key -> article id (a merged copy's key -> its holder's id)
        self._copies: dict[str, str] = {}  # id of a merged copy -> id of the article holding it
        self._spans: dict[int, tuple[str, int, int]] = {}  # passage id -> (article id, start, end)
        self._by_article: dict[str, list[int]] = {}  # lists are replaced, never changed in place
        self._sentences: dict[int, np.ndarray] = {}  # passage id -> its sentences' vectors (sentence_spans order)
        self._postings: tuple[dict[str, list[str]], list[tuple[str, str]], list[str]] | None = None

    def copy(self) -> Docstore:
        other = Docstore()
        other._articles = dict(self._articles)
        other._stored = dict(self._stored)
        other._keys = dict(self._keys)
        other._copies = dict(self._copies)
        other._spans = dict(self._spans)
        other._by_article = dict(self._by_article)
        other._sentences = dict(self._sentences)
        return other

    # ---- reading -------------------------------------------------------------------------
    def article(self, ref: str) -> Article | None:
        """An article by its content id, or by its key (record id, URL or file path); a merged
        copy's id or key gives the article holding it."""
        if ref in self._articles:
            return self._whole(ref)
        aid = self._keys.get(ref) or self._copies.get(ref)
        return self._whole(aid) if aid else None

    def get(self, article_id: str) -> Article:
        """The article with content id ``article_id`` (KeyError when there is none)."""
        return self._whole(article_id)

    def _whole(self, article_id: str) -> Article:
        """The article with its text: read from its segment file when it came from one."""
        stored = self._stored.get(article_id)
        return self._articles[article_id] if stored is None else read_article(*stored)

    def headers(self) -> Iterator[Article]:
        """Every article without reading texts from disk (an article read from a segment file
        comes with an empty text and its copies' too): for listings, dates and filters."""
        return iter(list(self._articles.values()))

    def has_article(self, article_id: str) -> bool:
        return article_id in self._articles

    def article_ids(self) -> list[str]:
        """The articles' content ids, in the order they were added."""
        return list(self._articles)

    def iter_articles(self) -> Iterator[Article]:
        """Every article with its text (read from disk for those of segment files: use
        :meth:`headers` where the texts are not needed)."""
        return (self._whole(aid) for aid in list(self._articles))

    def id_for_key(self, key: str) -> str | None:
        """The id of the article stored under ``key`` (a merged copy's key gives its holder's)."""
        return self._keys.get(key)

    def keys(self) -> dict[str, str]:
        """Every key and the article id it finds (a copy)."""
        return dict(self._keys)

    def holder_of(self, copy_id: str) -> str | None:
        """The id of the article holding the merged copy ``copy_id``; None when it is no copy."""
        return self._copies.get(copy_id)

    def copy_count(self) -> int:
        return len(self._copies)

    def passage_ids(self) -> list[int]:
        """Every passage id, in the order they were added."""
        return list(self._spans)

    def has_passage(self, pid: int) -> bool:
        return pid in self._spans

    def span(self, pid: int) -> tuple[str, int, int]:
        """(article id, start, end) of passage ``pid`` in its article's text."""
        return self._spans[pid]

    def passage_ids_of(self, article_id: str) -> list[int]:
        """The passage ids of an article, in text order (empty for an unknown id)."""
        return list(self._by_article.get(article_id, ()))

    def sentence_vectors(self, pid: int) -> np.ndarray | None:
        """The float16 vectors of passage ``pid``'s sentences, when stored."""
        return self._sentences.get(pid)

    def sentence_ids(self) -> list[int]:
        """The passages whose sentence vectors are stored."""
        return list(self._sentences)

    def count(self) -> tuple[int, int]:
        """(articles, passages)."""
        return len(self._articles), len(self._spans)

    def passage(self, pid: int) -> Passage:
        aid, start, end = self._spans[pid]
        return Passage(pid, aid, start, end, self._whole(aid).text[start:end])

    def passages_of(self, article_id: str) -> list[Passage]:
        return [self.passage(pid) for pid in self._by_article.get(article_id, [])]

    def article_of(self, pid: int) -> str:
        return self._spans[pid][0]

    def texts(self, pids: Iterable[int]) -> Iterator[str]:
        """What is keyword-indexed for each passage: its article's title, then the passage."""
        return (indexed_text(self._articles[self._spans[p][0]].title, self.passage(p).text) for p in pids)

    def allowed(self, filters: Filters) -> frozenset[int]:
        """The passage ids of the articles ``filters`` allows, from per-source and per-day
        postings (made once per generation), not a scan of every article."""
        by_source, days, undated = self._index()
        passages = self._by_article
        if not (filters.article_ids or filters.sources):  # dates only: the sorted days say it exactly
            low = filters.since[:10] if filters.since else ""
            high = min(d[:10] for d in (filters.until, filters.as_of) if d) if (filters.until or filters.as_of) else ""
            start = bisect.bisect_left(days, (low, ""))
            end = bisect.bisect_right(days, (high, "\uffff")) if high else len(days)
            dated = (pid for _, aid in days[start:end] for pid in passages[aid])
            if filters.since or filters.until:
                return frozenset(dated)
            return frozenset(itertools.chain(dated, (pid for aid in undated for pid in passages[aid])))
        if filters.article_ids:
            candidates: Iterable[str] = {a.id for ref in filters.article_ids if (a := self.article(ref))}
        else:
            candidates = [aid for s in {s.casefold() for s in filters.sources} for aid in by_source.get(s, ())]
        allows = filters.allows
        return frozenset(pid for aid in candidates if allows(self._articles[aid]) for pid in passages[aid])

    def _index(self) -> tuple[dict[str, list[str]], list[tuple[str, str]], list[str]]:
        if self._postings is None:
            by_source: dict[str, list[str]] = {}
            days, undated = [], []
            for a in self._articles.values():
                by_source.setdefault(a.source.casefold(), []).append(a.id)
                if a.date[:10]:
                    days.append((a.date[:10], a.id))
                else:
                    undated.append(a.id)
            self._postings = (by_source, sorted(days), undated)
        return self._postings

    # ---- changing ------------------------------------------------------------------------
    def register(self, article: Article) -> None:
        self._articles[article.id] = article
        self._stored.pop(article.id, None)
        for copy_ in article.copies:
            self._copies[copy_.id] = article.id
            self._keys.setdefault(copy_.key, article.id)
        self._keys[article.key] = article.id
        self._postings = None

    def add(
        self,
        article: Article,
        pids: Sequence[int],
        spans: Sequence[tuple[int, int]],
        sentences: Sequence[np.ndarray] | None = None,
    ) -> None:
        self.register(article)
        self._by_article[article.id] = [int(i) for i in pids]
        for pid, (start, end) in zip(pids, spans, strict=True):
            self._spans[int(pid)] = (article.id, start, end)
        for pid, rows in zip(pids, sentences or (), strict=False):
            self._sentences[int(pid)] = np.asarray(rows, dtype=np.float16)

    def drop(self, article_id: str) -> list[int]:
        """Forget an article, its merged copies and its passages; the passage ids it had."""
        article = self._articles.pop(article_id, None)
        self._stored.pop(article_id, None)
        if article is None:
            return []
        for copy_ in article.copies:
            if self._copies.get(copy_.id) == article_id:
                del self._copies[copy_.id]
        for key in (article.key, *(c.key for c in article.copies)):
            if self._keys.get(key) == article_id:
                del self._keys[key]
        pids = self._by_article.pop(article_id)
        for pid in pids:
            del self._spans[pid]
            self._sentences.pop(pid, None)
        self._postings = None
        return pids

    # ---- files ---------------------------------------------------------------------------
    def read_articles(self, path: Path) -> None:
        """The articles of a segment file, their texts left on disk (read again when asked for:
        at the full RealTime QA corpus the texts were ~250 MB of a serving process)."""
        source = TextFile(path)
        offset = 0
        with path.open("rb") as f:
            for line in f:
                article = Article.from_dict(json.loads(line))
                self.register(without_texts(article))
                self._stored[article.id] = (source, offset, len(line))
                self._by_article[article.id] = []
                offset += len(line)

    def read_passages(self, path: Path) -> np.ndarray:
        pids = []
        with path.open(encoding="utf-8") as f:
            for line in f:
                pid, aid, start, end = json.loads(line)
                self._spans[pid] = (aid, start, end)
                self._by_article[aid].append(pid)
                pids.append(pid)
        return np.asarray(pids, dtype=np.int64)

    def read_segment(self, gen: Path, number: int, dimension: int) -> np.ndarray:
        """Segment ``number``'s articles, passages and sentence vectors; its passage ids in row order."""
        self.read_articles(gen / segment_file(number, "articles.jsonl"))
        pids = self.read_passages(gen / segment_file(number, "passages.jsonl"))
        self.map_sentences(gen, number, dimension)
        return pids

    def use_sentences(self, vectors: dict[int, np.ndarray]) -> None:
        """Sentence vectors read from a generation's files (they replace those held in memory)."""
        self._sentences.update(vectors)

    def map_sentences(self, gen: Path, number: int, dimension: int) -> None:
        """Sentence vectors of segment ``number`` from its file, memory-mapped (replacing the
        in-memory copies a save wrote, so a long ingest does not hold them all)."""
        rows = gen / segment_file(number, "sentences.rows.npy")
        if rows.is_file():
            self._sentences.update(read_sentences(gen / segment_file(number, "sentences.f16"), rows, dimension))

    def write_segment(self, gen: Path, number: int, article_ids: Iterable[str], pids: np.ndarray) -> None:
        """Segment ``number``'s docstore files: the articles ``article_ids``, the passages ``pids`` in
        that (row) order and their sentence vectors (files not yet synced)."""
        write_lines(
            gen / segment_file(number, "articles.jsonl"),
            (json.dumps(self._whole(a).to_dict(), ensure_ascii=False) for a in article_ids),
        )
        write_lines(gen / segment_file(number, "passages.jsonl"), (json.dumps([int(p), *self._spans[p]]) for p in pids))
        if any(int(p) in self._sentences for p in pids):
            write_sentences(gen, number, ((int(p), self._sentences[p]) for p in pids if p in self._sentences))


class TextFile:
    """A segment's articles file, held open: its lines stay readable after a writer removes the
    generation (as a memory map would), until no docstore refers to it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("rb")

    def read(self, offset: int, length: int) -> bytes:
        data = os.pread(self._file.fileno(), length, offset)
        if len(data) != length:
            raise IndexCorruptError(f"{self.path} is shorter than when it was opened")
        return data

    def __del__(self) -> None:
        self._file.close()


@lru_cache(maxsize=256)
def read_article(source: TextFile, offset: int, length: int) -> Article:
    """The article on one line of a segment's articles file (the last 256 read are kept)."""
    return Article.from_dict(json.loads(source.read(offset, length)))


def without_texts(article: Article) -> Article:
    """``article`` and its copies with empty texts (what the docstore keeps in memory)."""
    copies = tuple(dataclasses.replace(c, text="") for c in article.copies)
    return dataclasses.replace(article, text="", copies=copies)


def write_sentences(gen: Path, number: int, blocks: Iterable[tuple[int, np.ndarray]]) -> None:
    """Sentence vectors as one float16 matrix (streamed, no second copy in memory) and an index
    of ``(passage id, first row, rows)``."""
    rows = []
    at = 0
    with (gen / segment_file(number, "sentences.f16")).open("wb") as f:
        for pid, block in blocks:
            f.write(np.ascontiguousarray(block, dtype=np.float16).tobytes())
            rows.append((pid, at, len(block)))
            at += len(block)
    np.save(gen / segment_file(number, "sentences.rows.npy"), np.asarray(rows, dtype=np.int64).reshape(-1, 3))


def read_sentences(matrix_path: Path, rows_path: Path, dimension: int) -> dict[int, np.ndarray]:
    """Sentence vectors, memory-mapped (read from disk as questions need them)."""
    rows = np.load(rows_path)
    if matrix_path.stat().st_size == 0:
        return {}
    # a plain ndarray over the mapped file: slicing a np.memmap costs ~10 µs a slice (0.4 s per
    # 35k passages at every open), an ndarray's slice a fraction of that
    matrix = np.memmap(matrix_path, dtype=np.float16, mode="r").view(np.ndarray).reshape(-1, dimension)
    if len(rows) and int((rows[:, 1] + rows[:, 2]).max()) > len(matrix):
        raise ValueError("the row index points past the matrix")
    return {pid: matrix[start : start + count] for pid, start, count in rows.tolist()}
