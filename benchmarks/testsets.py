"""Turn public question sets in ``../shared/datasets`` into the assistant's test-set format.

    .venv/bin/python -m benchmarks.testsets realtimeqa OUT.jsonl [--count 200] [--seed 0] [--full]
    .venv/bin/python -m benchmarks.testsets multihop OUT.jsonl --corpus ARTICLES.jsonl

RealTime QA: questions whose labelled articles are in the haystack (``haystack-3k.ids``, or the
whole corpus with ``--full``), a seeded sample; reference articles are the gold ``doc_id`` when
there is one, else the weak labels (articles containing the answer). Evaluate it against the
benchmark's index (``benchmarks/retrieval_realtimeqa.py`` builds it).

MultiHop-RAG: all 500 queries; "Insufficient information" ones are ``answerable: false``; the
evidence facts are the reference passages, their URLs the reference articles. There is no full
article text, so ``--corpus`` writes the evidence facts grouped by URL as articles to ingest.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
from pathlib import Path

from assistant.evaluation.testset import TestCase, write_testset
from benchmarks.realtimeqa import SHARED, haystack_ids, questions

MULTIHOP = SHARED / "datasets" / "multihop-rag-500"


def realtimeqa_testset(count: int = 200, seed: int = 0, full: bool = False) -> list[TestCase]:
    haystack = haystack_ids(full)
    cases = []
    for q in questions():
        gold = [d for d in q.gold if haystack is None or d in haystack]
        weak = [d for d in q.weak if haystack is None or d in haystack]
        if not (gold or weak):
            continue
        cases.append(
            TestCase(
                id=q.id,
                question=q.text,
                reference_answer=list(q.answers),
                reference_article_ids=gold or weak,
                metadata={"question_date": q.date, "labels": "gold" if gold else "weak"},
            )
        )
    random.Random(seed).shuffle(cases)
    return sorted(cases[:count], key=lambda c: c.id)


def multihop_testset() -> tuple[list[TestCase], list[dict]]:
    truth = json.loads((MULTIHOP / "ground_truth.json").read_text())
    raw = json.loads((MULTIHOP / "queries.json").read_text())["queries"]
    queries = ast.literal_eval(raw) if isinstance(raw, str) else raw
    articles: dict[str, dict] = {}
    cases = []
    for query in queries:
        qid = str(query["id"])
        gt = truth[qid]
        evidence = gt.get("evidence_list") or []
        for e in evidence:
            article = articles.setdefault(
                e["url"],
                {
                    "id": e["url"],
                    "url": e["url"],
                    "title": e["title"],
                    "source": e["source"],
                    "date": e["published_at"],
                    "text": "",
                },
            )
            if e["fact"] not in article["text"]:
                article["text"] += e["fact"] + "\n\n"
        answerable = gt["answer"].strip().rstrip(".").lower() != "insufficient information"
        cases.append(
            TestCase(
                id=f"multihop-{qid}",
                question=query["question"],
                reference_answer=[gt["answer"]] if answerable else [],
                reference_article_ids=sorted({e["url"] for e in evidence}),
                reference_passages=[e["fact"] for e in evidence],
                answerable=answerable,
                metadata={"question_type": query.get("question_type", "")},
            )
        )
    return cases, list(articles.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=["realtimeqa", "multihop"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--full", action="store_true")
    parser.add_argument("--corpus", type=Path, help="multihop: where to write the evidence articles")
    args = parser.parse_args()
    if args.dataset == "realtimeqa":
        cases = realtimeqa_testset(args.count, args.seed, args.full)
    else:
        cases, articles = multihop_testset()
        if args.corpus:
            args.corpus.write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles))
            print(f"wrote {len(articles)} evidence articles to {args.corpus}")
    write_testset(cases, args.out)
    print(f"wrote {len(cases)} questions ({sum(not c.answerable for c in cases)} unanswerable) to {args.out}")


if __name__ == "__main__":
    main()
