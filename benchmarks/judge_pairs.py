"""Training pairs for a claim-support model (issue 10): (passage, claim, label) from news articles.

    python benchmarks/judge_pairs.py OUT.jsonl [--articles 2000] [--seed 0]

Reads BBC News and a sample of RealTime QA from ../shared at run time (their text is never
committed). Each article gives a passage window of consecutive sentences and claims about it:

supported (label 1)
    ``sentence``   a sentence of the passage, verbatim
    ``clause``     a sentence with a comma-delimited clause dropped
    ``merged``     two sentences of the passage joined into one
unsupported (label 0)
    ``entity``     a name swapped for another name (of another article, or of the same one but
                   outside the passage)
    ``number``     a number or year changed
    ``antonym``    a word replaced by a WordNet antonym
    ``negation``   "not" added after an auxiliary, or removed
    ``swap``       two names of the sentence swapped (roles, order)
    ``added``      a sentence with a clause of a related article (same category) appended
    ``related``    a sentence of another article on the same topic (same category)

Writes OUT.jsonl (passage, claim, label, kind, source, article) and OUT.card.json (sources, counts
per kind and label). Seeded: the same seed gives the same pairs. SummEdits is not read here: its
``evaluation`` split is for thresholds and early stopping only, its ``test`` split for reporting.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))

from index import sentence_spans  # noqa: E402

_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*)\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_AUX = re.compile(r"\b(is|was|were|are|will|would|has|had|have|can|could|should|did|does|do)\b")
_NOT = re.compile(r"\s+(not|n't)\b|n't\b")
_CLAUSE = re.compile(r",[^,]{8,80},")
_STARTERS = {
    "The",
    "A",
    "An",
    "But",
    "And",
    "He",
    "She",
    "It",
    "They",
    "We",
    "In",
    "On",
    "At",
    "This",
    "That",
    "Mr",
    "Ms",
}


def joined(first: str, second: str) -> str:
    """Two sentences as one: "A, and b." (the second one's first word lowercased only when it is a
    function word, never a name)."""
    word = second.split(" ", 1)[0]
    if word in _STARTERS - {"Mr", "Ms"}:
        second = second[0].lower() + second[1:]
    return f"{first.rstrip('.!?')}, and {second}"


def names(text: str) -> list[str]:
    """Capitalised words and runs of them, except sentence starters."""
    return [m.group(0) for m in _NAME.finditer(text) if m.group(0) not in _STARTERS and m.start() > 0]


def articles(limit: int, rng: random.Random) -> list[dict[str, str]]:
    """BBC articles (category = topic) and RealTime QA articles (source = topic), shuffled."""
    rows: list[dict[str, str]] = []
    bbc = SHARED / "datasets" / "bbc-news" / "bbc_news.jsonl.gz"
    for line in gzip.open(bbc, "rt", encoding="utf-8"):
        r = json.loads(line)
        rows.append({"id": f"bbc:{r['id']}", "topic": f"bbc/{r['category']}", "text": r["body"], "source": "bbc"})
    rtqa = SHARED / "datasets" / "realtimeqa" / "corpus.jsonl.gz"
    taken = 0
    for line in gzip.open(rtqa, "rt", encoding="utf-8"):
        if taken >= limit:
            break
        r = json.loads(line)
        if len(r.get("text") or "") > 800 and rng.random() < 0.1:
            host = (r.get("url") or "").split("/")[2] if "//" in (r.get("url") or "") else "rtqa"
            rows.append({"id": f"rtqa:{r['doc_id']}", "topic": host, "text": r["text"], "source": "realtimeqa"})
            taken += 1
    rng.shuffle(rows)
    return rows[:limit]


def sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text) if 6 <= len(text[s:e].split()) <= 60]


class Perturber:
    def __init__(self, rng: random.Random, pool: list[dict[str, str]]) -> None:
        from assistant.answering.wordnet import wordnet

        self.rng = rng
        self.wordnet = wordnet()
        self.by_topic: dict[str, list[dict[str, str]]] = {}
        for a in pool:
            self.by_topic.setdefault(a["topic"], []).append(a)
        self.all_names = [n for a in pool[:400] for n in names(a["text"][:2000])]

    def entity(self, claim: str, passage: str) -> str | None:
        found = [n for n in names(claim)]
        if not found:
            return None
        old = self.rng.choice(found)
        options = [n for n in self.all_names if n not in passage and len(n.split()) == len(old.split())]
        return claim.replace(old, self.rng.choice(options), 1) if options else None

    def number(self, claim: str, passage: str) -> str | None:
        found = [m for m in _NUMBER.finditer(claim) if m.group(0).replace(",", "").isdigit()]
        if not found:
            return None
        m = self.rng.choice(found)
        value = int(m.group(0).replace(",", ""))
        new = (
            value + self.rng.choice([-3, -2, -1, 1, 2, 5, 10])
            if 1900 <= value <= 2100
            else max(1, int(value * self.rng.choice([0.5, 0.7, 1.5, 2, 3])) + self.rng.choice([0, 1]))
        )
        if new == value or str(new) in passage:
            return None
        return claim[: m.start()] + f"{new:,}".replace(",", "," if "," in m.group(0) else "") + claim[m.end() :]

    def antonym(self, claim: str, passage: str) -> str | None:
        wn = self.wordnet
        if wn is None:
            return None
        words = [w for w in re.findall(r"\b[a-z]{4,}\b", claim)]
        self.rng.shuffle(words)
        for w in words[:8]:
            keys = wn.lemmas(w)
            for lemma in keys:
                for key in wn.senses.get(lemma, ()):
                    for a, b in wn.antonym_pairs:
                        if a == key and wn.words.get(b):
                            return re.sub(rf"\b{w}\b", wn.words[b][0].replace("_", " "), claim, count=1)
        return None

    def negation(self, claim: str, passage: str) -> str | None:
        if _NOT.search(claim):
            return _NOT.sub("", claim, count=1)
        m = _AUX.search(claim)
        return claim[: m.end()] + " not" + claim[m.end() :] if m else None

    def swap(self, claim: str, passage: str) -> str | None:
        found = list(dict.fromkeys(names(claim)))
        if len(found) < 2:
            return None
        a, b = self.rng.sample(found, 2)
        return claim.replace(a, "\0").replace(b, a).replace("\0", b)

    def related_sentence(self, article: dict[str, str]) -> str | None:
        others = [a for a in self.by_topic.get(article["topic"], []) if a["id"] != article["id"]]
        if not others:
            return None
        pool = sentences(self.rng.choice(others)["text"][:3000])
        return self.rng.choice(pool) if pool else None

    def added(self, claim: str, article: dict[str, str]) -> str | None:
        other = self.related_sentence(article)
        if other is None:
            return None
        return joined(claim, other)


def pairs(article: dict[str, str], p: Perturber, rng: random.Random) -> Iterator[dict[str, object]]:
    sents = sentences(article["text"])
    if len(sents) < 4:
        return
    start = rng.randrange(0, max(1, len(sents) - 4))
    window = sents[start : start + rng.randint(3, 6)]
    passage = " ".join(window)
    claim = rng.choice(window)
    base = {"passage": passage, "source": article["source"], "article": article["id"]}
    yield {**base, "claim": claim, "label": 1, "kind": "sentence"}
    clause = _CLAUSE.search(claim)
    if clause:
        yield {
            **base,
            "claim": claim[: clause.start()] + claim[clause.end() - 1 :].lstrip(","),
            "label": 1,
            "kind": "clause",
        }
    if len(window) >= 2:
        i = rng.randrange(len(window) - 1)
        yield {**base, "claim": joined(window[i], window[i + 1]), "label": 1, "kind": "merged"}
    for kind in ("entity", "number", "antonym", "negation", "swap"):
        changed = getattr(p, kind)(claim, passage)
        if changed and changed != claim:
            yield {**base, "claim": changed, "label": 0, "kind": kind}
    added = p.added(claim, article)
    if added:
        yield {**base, "claim": added, "label": 0, "kind": "added"}
    related = p.related_sentence(article)
    if related and related not in passage:
        yield {**base, "claim": related, "label": 0, "kind": "related"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = articles(args.articles, rng)
    perturber = Perturber(rng, pool)
    counts: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    with args.out.open("w", encoding="utf-8") as f:
        for article in pool:
            for pair in pairs(article, perturber, rng):
                f.write(json.dumps(pair, ensure_ascii=False) + "\n")
                counts[f"{pair['kind']} (label {pair['label']})"] += 1
                sources[str(pair["source"])] += 1
    card = {
        "seed": args.seed,
        "articles": len(pool),
        "sources": dict(sources),
        "pairs": sum(counts.values()),
        "per_kind": dict(sorted(counts.items())),
        "read_from": ["datasets/bbc-news/bbc_news.jsonl.gz", "datasets/realtimeqa/corpus.jsonl.gz"],
    }
    args.out.with_suffix(".card.json").write_text(json.dumps(card, indent=2))
    print(json.dumps(card, indent=2))


if __name__ == "__main__":
    main()
