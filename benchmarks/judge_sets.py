"""The two hand-labelled sets the faithfulness judge is measured on besides SummEdits (issue 10).

    python -m benchmarks.judge_sets summaries [--articles 40] [--model PATH]   # ~15 min on 2 cores
    python -m benchmarks.judge_sets answers                                     # seconds
    python -m benchmarks.judge_sets show SET                                    # pairs to label

``summaries``: BBC News articles (seeded choice, 150–450 words, every category), each summarised
in three sentences by a small local model (Qwen2.5 0.5B and 1.5B from ``../shared/tools/test-models``,
temperature 0, alternating); every summary sentence against its whole article is one pair.

``answers``: every sentence of the answers in ``runs/answers-realtimeqa/*/results.jsonl`` (made
by ``benchmarks/answers.py``: the extractive engine and the local engine with both models over
RealTime QA questions), against the passage it cites.

Both write ``runs/judge-sets/SET.jsonl`` (set, key, passage, claim). The text stays out of the
repository: it is, or quotes, third-party articles. The labels are in
``benchmarks/data/judge-labels.jsonl``: one line per pair, keyed by the sha1 of (passage, claim),
with the label (1 supported, 0 not) given by hand by reading the passage, and a short reason.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
from pathlib import Path

from index import sentence_spans

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
SETS = ROOT / "runs" / "judge-sets"
LABELS = ROOT / "benchmarks" / "data" / "judge-labels.jsonl"
MODELS = Path.home() / ".cache" / "test-models"


def key(passage: str, claim: str) -> str:
    return hashlib.sha1(f"{passage}\0{claim}".encode()).hexdigest()[:16]


def write(name: str, rows: list[dict[str, str]]) -> None:
    SETS.mkdir(parents=True, exist_ok=True)
    with (SETS / f"{name}.jsonl").open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"set": name, "key": key(r["passage"], r["claim"]), **r}, ensure_ascii=False) + "\n")
    print(f"{len(rows)} pairs -> {SETS / f'{name}.jsonl'}")


def summaries(count: int, models: list[Path]) -> None:
    from assistant.answering.engines.llm import ChatClient, LocalServer
    from assistant.settings import LLMSettings

    rng = random.Random(0)
    rows = [json.loads(line) for line in gzip.open(SHARED / "datasets" / "bbc-news" / "bbc_news.jsonl.gz", "rt")]
    rows = [r for r in rows if 150 <= len(r["body"].split()) <= 450]
    rng.shuffle(rows)
    by_category: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_category.setdefault(r["category"], []).append(r)
    chosen = [by_category[c][i] for i in range(count) for c in sorted(by_category)][:count]
    settings = LLMSettings(max_tokens=160, temperature=0.0, parallel=1, context_size=2048)
    out = []
    for m, path in enumerate(models):
        server = LocalServer(path, settings)
        client = ChatClient(server.base_url, path.name, "", settings, "model")
        for i, article in enumerate(chosen):
            if i % len(models) != m:
                continue
            text = client.complete(
                [
                    ("system", "You summarise news articles."),
                    ("user", f"Summarise this article in three sentences.\n\n{article['title']}\n\n{article['body']}"),
                ]
            )
            text = " ".join(text.split())
            for s, e in sentence_spans(text):
                sentence = text[s:e].strip()
                if len(sentence.split()) >= 4:
                    out.append(
                        {
                            "passage": article["body"],
                            "claim": sentence,
                            "article": f"bbc:{article['id']}",
                            "model": path.name,
                        }
                    )
            print(f"{i + 1}/{len(chosen)} {path.name}", flush=True)
        server.close()
    write("summaries", out)


def answers() -> None:
    out = []
    for results in sorted((ROOT / "runs" / "answers-realtimeqa").glob("*/results.jsonl")):
        engine = results.parent.name
        for line in results.open(encoding="utf-8"):
            r = json.loads(line)
            if not r.get("answered"):
                continue
            by_marker = {c["marker"]: c for c in r["citations"]}
            for part in re.finditer(r"(.+?)((?:\s*\[\d+\])+)(?=\s|$)", r["answer"]):
                claim = part.group(1).strip()
                markers = [int(x) for x in re.findall(r"\d+", part.group(2))]
                cited = by_marker.get(markers[0])
                if cited and claim:
                    out.append(
                        {"passage": cited["passage"], "claim": claim, "article": cited["article_id"], "model": engine}
                    )
    seen: set[str] = set()
    unique = []
    for row in out:
        k = key(row["passage"], row["claim"])
        if k not in seen:
            seen.add(k)
            unique.append(row)
    write("answers", unique)


def show(name: str) -> None:
    labelled = {json.loads(line)["key"] for line in LABELS.open()} if LABELS.is_file() else set()
    for line in (SETS / f"{name}.jsonl").open(encoding="utf-8"):
        r = json.loads(line)
        if r["key"] not in labelled:
            print(json.dumps(r, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    s = sub.add_parser("summaries")
    s.add_argument("--articles", type=int, default=40)
    s.add_argument(
        "--model",
        type=Path,
        action="append",
        help="GGUF model(s); default: the test models' Qwen2.5 0.5B and 1.5B",
    )
    sub.add_parser("answers")
    sh = sub.add_parser("show")
    sh.add_argument("set", choices=["summaries", "answers"])
    args = parser.parse_args()
    if args.command == "summaries":
        models = args.model or [
            MODELS / "qwen2.5-coder-0.5b-instruct.gguf",
            MODELS / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        ]
        summaries(args.articles, models)
    elif args.command == "answers":
        answers()
    else:
        show(args.set)


if __name__ == "__main__":
    main()
