"""RealTime QA data for the benchmarks: the haystack articles, the questions and their labels,
and article-level ranking metrics. Reads ``../shared/datasets/realtimeqa`` (never copied here)."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from index import Article, LoadFailure, UnreadableArticleError, article_from_record, content_id

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATA = SHARED / "datasets" / "realtimeqa"
CORPUS = DATA / "corpus.jsonl.gz"
QUESTIONS = DATA / "questions-dev.jsonl.gz"
HAYSTACK = DATA / "haystack-3k.ids"


def haystack_ids(full: bool = False) -> set[str] | None:
    """The doc_ids of the default haystack, or None for the whole corpus."""
    return None if full else set(HAYSTACK.read_text().split())


def corpus_records(ids: set[str] | None = None) -> Iterator[dict]:
    """Raw corpus records (only ``ids`` when given), streamed."""
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            if ids is None or record["doc_id"] in ids:
                yield record


def corpus_articles(ids: set[str] | None = None) -> Iterator[Article | LoadFailure]:
    """Corpus articles keyed by doc_id, streamed; empty ones come as load failures."""
    for record in corpus_records(ids):
        try:
            yield article_from_record(record)
        except UnreadableArticleError as e:
            yield LoadFailure(f"{CORPUS.name}:{record['doc_id']}", str(e))


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    date: str  # YYYY/MM/DD
    gold: tuple[str, ...]  # doc_ids the question was written from
    weak: tuple[str, ...]  # doc_ids whose text contains the answer string
    answers: tuple[str, ...]


def questions() -> list[Question]:
    with gzip.open(QUESTIONS, "rt", encoding="utf-8") as f:
        rows = [json.loads(line) for line in f]
    return [
        Question(
            r["question_id"],
            r["question"],
            r["question_date"],
            tuple(r.get("gold_doc_ids") or ()),
            tuple(r.get("answer_in_gcs_doc_ids") or ()),
            tuple(r.get("answer_text") or ()),
        )
        for r in rows
    ]


def copies(ids: set[str] | None) -> dict[str, set[str]]:
    """doc_id -> every doc_id with the same title and text (the corpus holds a few exact copies
    under two ids; the index keeps one, and either id names the same article)."""
    by_content: dict[str, set[str]] = {}
    for record in corpus_records(ids):
        by_content.setdefault(content_id(record.get("title") or "", record.get("text") or ""), set()).add(
            record["doc_id"]
        )
    return {doc: group for group in by_content.values() for doc in group}


def label_sets(
    qs: Sequence[Question], haystack: set[str], same: dict[str, set[str]] | None = None
) -> dict[str, list[tuple[Question, set[str]]]]:
    """(question, relevant doc_ids in the haystack) pairs: ``gold`` and ``weak`` label sets. With
    ``same`` (from :func:`copies`), exact copies of a relevant article are relevant too."""
    sets: dict[str, list[tuple[Question, set[str]]]] = {"gold": [], "weak": []}
    for q in qs:
        for name, ids in (("gold", q.gold), ("weak", q.weak)):
            relevant = set(ids) & haystack
            if same:
                relevant = {c for d in relevant for c in same.get(d, {d})}
            if relevant:
                sets[name].append((q, relevant))
    return sets


def rank_metrics(ranked: Sequence[Sequence[str]], relevant: Sequence[set[str]]) -> dict[str, float]:
    """Recall@1/5/10 (a relevant article among the first k) and MRR@10, averaged over questions."""
    n = len(ranked)
    out = {"R@1": 0.0, "R@5": 0.0, "R@10": 0.0, "MRR@10": 0.0}
    for docs, rel in zip(ranked, relevant, strict=True):
        first = next((i for i, d in enumerate(docs[:10]) if d in rel), None)
        if first is None:
            continue
        out["MRR@10"] += 1 / (first + 1)
        for k in (1, 5, 10):
            out[f"R@{k}"] += first < k
    return {name: value / n for name, value in out.items()} if n else out
