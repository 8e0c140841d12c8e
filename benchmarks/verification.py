"""Answer-time verification as a classifier: how often a ✓ sits on a sentence the passage doesn't
state (false accept), and how often a true sentence loses it (false reject).

    .venv/bin/python -m benchmarks.verification drafts     # the local models write answers (~25 min)
    .venv/bin/python -m benchmarks.verification show       # sentences still to label, with their passage
    .venv/bin/python -m benchmarks.verification score      # the table

``drafts``: the local engine with Qwen2.5-Coder 1.5B and 0.5B (``../shared/tools/test-models``) writes an
answer to every question of the shipped test set (over the bundled samples) and of the project's BBC
questions (over the BBC benchmark index that ``benchmarks/answers.py bbc`` builds); the drafts and
the passages they were written from go to ``runs/verification/drafts.jsonl`` (not committed: BBC
text is third-party). ``score``: every written sentence goes through the pipeline's own citation
check (:func:`attach_citations`: the cited passage, else the best retrieved one), once as it is
now and once without the number rules (units and place, :mod:`assistant.answering.units`), and
is compared with a hand label: 1 when the passage it ends up citing states it (numbers with their
units, names in their roles), 0 otherwise, given by reading the passage. Labels are in
``benchmarks/data/verification-labels.jsonl``, keyed by the sha1 of (passage, sentence).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

from assistant import Assistant, Settings
from assistant.answering import citations
from assistant.answering.engines.base import Draft, DraftRequest
from assistant.answering.judges import lexical
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.evaluation import load_testset
from assistant.samples_index import sample_testset_path
from index import Article, Hit, Passage

ROOT = Path(__file__).resolve().parents[1]


RUNS = ROOT / "runs" / "verification"
LABELS = ROOT / "benchmarks" / "data" / "verification-labels.jsonl"
MODELS = {"1.5b": "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "0.5b": "qwen2.5-coder-0.5b-instruct.gguf"}
SETS = {
    "shipped": (lambda: sample_testset_path(), None),
    "bbc": (lambda: ROOT / "benchmarks" / "data" / "bbc-questions.jsonl", ROOT / "runs" / "answers-bbc" / "index"),
    # 24 more questions on other articles of the same BBC index, written for the judge's labels (issue 25)
    "bbc-more": (
        lambda: ROOT / "benchmarks" / "data" / "bbc-questions-more.jsonl",
        ROOT / "runs" / "answers-bbc" / "index",
    ),
}


def drafts(out: Path, sets: list[str], models: list[str], evidence: str, start: int = 0) -> None:
    """Append the drafts of every question (from the ``start``-th of each set: an interrupted run
    continues) to ``out``."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a", encoding="utf-8") as f:
        for name, (testset, index) in SETS.items():
            for size, file in MODELS.items():
                if name not in sets or size not in models:
                    continue
                model = Path.home() / ".cache" / "test-models" / file
                bot = Assistant.open(
                    index, Settings(answer={"engine": "local"}, llm={"model_path": model, "evidence": evidence})
                )
                for case in load_testset(testset())[start:]:
                    vector = bot.index.query_vector(case.question)
                    hits = bot.index.search(case.question, None, bot.settings.retrieval, None, vector=vector)
                    request = DraftRequest(
                        case.question, hits, bot.index.passages_of, vector, bot.index.sentence_vectors
                    )
                    draft = next(d for d in bot.engine.draft(request) if isinstance(d, Draft))
                    row = {
                        "set": name,
                        "model": size,
                        "question": case.question,
                        "evidence": evidence,
                        "draft": draft.text,
                        "passages": [h.passage.text for h in draft.hits],
                        "hits": [
                            [h.passage.id, h.passage.article_id, h.passage.start, h.passage.end] for h in draft.hits
                        ],
                    }
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                bot.close()


def sentences(path: Path) -> list[dict]:
    """Every written sentence with the passage it ends up citing and its verdict now and before."""
    judge = FaithfulnessJudge("lexical")
    out = []
    for line in path.open(encoding="utf-8"):
        r = json.loads(line)
        hits = [
            Hit(Passage(pid, aid, s, e, text), 1.0, Article(text=text, title=""))
            for (pid, aid, s, e), text in zip(r["hits"], r["passages"], strict=True)
        ]
        written = [(t, m) for t, m in citations.split_sentences(r["draft"], len(hits)) if not citations.is_refusal(t)]
        if not written:
            continue
        now = citations.attach_citations(written, hits, judge)
        checks = lexical.units_hold, lexical.numbers_in_place
        lexical.units_hold = lexical.numbers_in_place = lambda passage, claim: True  # as before the number rules
        try:
            before = citations.attach_citations(written, hits, judge)
        finally:
            lexical.units_hold, lexical.numbers_in_place = checks
        for (text, markers), n, b in zip(written, now, before, strict=True):
            cited = (n.hits or [m - 1 for m in markers] or [0])[0]
            passage = hits[cited].passage.text
            key = hashlib.sha1(f"{passage}\x00{text}".encode()).hexdigest()
            out.append(
                {
                    **{k: r[k] for k in ("set", "model", "question")},
                    "key": key,
                    "claim": text,
                    "passage": passage,
                    "before": b.verified,
                    "now": n.verified,
                }
            )
    return out


def labels() -> dict[str, int]:
    return (
        {r["key"]: int(r["label"]) for r in map(json.loads, LABELS.open(encoding="utf-8"))} if LABELS.exists() else {}
    )


def score(every: list[dict]) -> None:
    known = labels()
    rows = list({r["key"]: r for r in every if r["key"] in known}.values())
    unlabelled = len({r["key"] for r in every} - known.keys())
    print(f"{len(rows)} labelled sentences ({sum(known[r['key']] for r in rows)} supported); {unlabelled} unlabelled")
    print(
        "| check | false accepts (✓ on an unsupported sentence) | false rejects (no ✓ on a supported one) | accuracy |"
    )
    print("|---|---|---|---|")
    for name in ("before", "now"):  # before: without the number rules
        bad = [r for r in rows if not known[r["key"]]]
        good = [r for r in rows if known[r["key"]]]
        fa = sum(r[name] for r in bad)
        fr = sum(not r[name] for r in good)
        acc = (len(rows) - fa - fr) / len(rows) if rows else 0.0
        print(
            f"| {name} | {fa} of {len(bad)} ({fa / max(1, len(bad)):.3f}) | {fr} of {len(good)} "
            f"({fr / max(1, len(good)):.3f}) | {acc:.3f} |"
        )
    for r in rows:
        if bool(r["now"]) != bool(known[r["key"]]):
            kind = "false accept" if r["now"] else "false reject"
            print(f"- {kind} [{r['model']}, {r['set']}]: {r['claim']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["drafts", "show", "score"])
    parser.add_argument("--set", action="append", choices=list(SETS), help="drafts: only these sets (default all)")
    parser.add_argument("--model", action="append", choices=list(MODELS), help="drafts: only these models")
    parser.add_argument(
        "--evidence", default="sentences", choices=["sentences", "passages"], help="drafts: llm.evidence"
    )
    parser.add_argument("--start", type=int, default=0, help="drafts: from this question of each set (resuming)")
    args = parser.parse_args()
    path = RUNS / "drafts.jsonl"
    if args.command == "drafts":
        drafts(path, args.set or list(SETS), args.model or list(MODELS), args.evidence, args.start)
        return
    every = sentences(path)
    if args.command == "show":
        known = labels()
        for i, r in enumerate(every):
            if r["key"] not in known:
                print(
                    f"#{i} {r['key']} [{r['model']} {r['set']}] {r['question']}\n  C: {r['claim']}\n  P: {r['passage']}"
                )
    else:
        score(every)


if __name__ == "__main__":
    main()
