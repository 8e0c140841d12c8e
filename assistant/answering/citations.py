"""Citations, in one place: the [n] format, a defensive parser, and attaching checked citations to
a drafted answer.

A draft (from any engine) is text with [n] markers that point into its numbered passages. Small
models cite badly (no markers, or every passage for everything), so markers are only a hint:
:func:`attach_citations` splits the draft into sentences, checks each against the passages it
cites with the faithfulness judge, re-attaches a sentence to the passage that supports it best when
its own markers are missing or wrong, and marks what no passage supports. :func:`build_answer`
numbers the cited passages 1..k in order of use and makes the :class:`Answer`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.answering.answer import Answer, Citation, SentenceCheck, ShortAnswer
from assistant.answering.judges.judge import FaithfulnessJudge, Verdict
from index import Hit, sentence_spans

# Said whenever the articles don't answer; tests and the UI use this constant too.
NOT_IN_ARTICLES = "The articles don't say: none of the loaded articles answers this question."

_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")
_CLAIM = re.compile(r"(.+?(?:\s*\[\d+\])+)(?=\s|$)|(.+?)$", re.S)
# how a model says "not in the passages" when it does not copy the phrase exactly
_REFUSAL = re.compile(
    r"articles don'?t say|none of the (?:loaded )?articles|(?:passages|articles|context) (?:do(?:es)? not|don'?t) "
    r"(?:say|mention|answer|contain|provide|specify|state)|not (?:mentioned|stated|specified|given|provided) in the "
    r"(?:given |provided )?(?:passages?|articles?|context)|no information (?:about|on)",
    re.I,
)


# At answer time a sentence is verified by the judge ``answer.judge`` names (the lexical one by
# default, milliseconds per sentence; an llm judge checks evaluations only) together with what the
# lexical features see reliably: no number or name the passage lacks, no negation flip against the
# passage's closest sentence (a shared word negated in one only), and at most a third of its content
# words new.
MAX_UNCOVERED = 0.34


def verifies(verdict: Verdict) -> bool:
    """Whether a judge's verdict is strong enough to verify an answer sentence: the judge says the
    passage supports it (its score at least the calibrated threshold), and it adds no number, name
    or negation and at most a third new words. (The judge's own decision was once left out: a
    written sentence with support 0.063, under the threshold 0.0895, was marked verified.)"""
    f = verdict.features
    return (
        verdict.supported
        and f["novel_numbers"] == 0
        and f["novel_names"] == 0
        and f["negation"] == 0
        and f["uncovered"] <= MAX_UNCOVERED
        and f["changed_units"] == 0  # every number keeps the unit
        and f["moved_numbers"] == 0  # and the place the passage gives it
    )


def marker(n: int) -> str:
    return f"[{n}]"


def _numbers(group: str) -> list[int]:
    return [int(x) for x in re.findall(r"\d+", group)]


def parse_markers(text: str, count: int) -> list[int]:
    """Citation numbers in ``text`` that point at one of ``count`` passages (1-based), in order of
    first appearance. Out-of-range markers such as [0] or [count+1] are dropped, never wrapped.
    "[1, 3]" counts as [1][3]."""
    seen: list[int] = []
    for m in _MARKER.finditer(text):
        for n in _numbers(m.group(1)):
            if 1 <= n <= count and n not in seen:
                seen.append(n)
    return seen


def split_claims(text: str, count: int) -> list[tuple[str, list[int]]]:
    """The answer's claims: each run of text up to its trailing markers, with the valid markers.

    "A [1] B [2][3]" gives [("A", [1]), ("B", [2, 3])]. Text after the last marker is a claim with
    no citation, so an uncited sentence is visible to whoever checks the answer.
    """
    claims = []
    for m in _CLAIM.finditer(text.strip()):
        chunk = m.group(0).strip()
        if not chunk:
            continue
        claim = _MARKER.sub("", chunk).strip()
        if claim:
            claims.append((claim, parse_markers(chunk, count)))
    return claims


def split_sentences(text: str, count: int) -> list[tuple[str, list[int]]]:
    """The sentences of a drafted answer, each with the valid markers that belong to it.

    A marker belongs to the sentence it stands in or right after: "A [1]. B.[2] C" gives
    [("A.", [1]), ("B.", [2]), ("C", [])]. Out-of-range markers are dropped.
    """
    clean: list[str] = []
    found: list[tuple[int, list[int]]] = []  # (position in the clean text, numbers)
    pos = 0
    for m in _MARKER.finditer(text):
        clean.append(text[pos : m.start()])
        found.append((len("".join(clean).rstrip()), _numbers(m.group(1))))
        pos = m.end()
    clean.append(text[pos:])
    plain = "".join(clean)
    spans = sentence_spans(plain)
    out: list[tuple[str, list[int]]] = []
    for s, e in spans:
        sentence = re.sub(r"\s+([.,;:!?])", r"\1", " ".join(plain[s:e].split()))
        out.append((sentence, []))
    for at, numbers in found:
        # the last sentence that starts before the marker
        i = max((k for k, (s, _) in enumerate(spans) if s < at), default=0)
        if not out:
            break
        for n in numbers:
            if 1 <= n <= count and n not in out[i][1]:
                out[i][1].append(n)
    return [(t, ms) for t, ms in out if any(ch.isalnum() for ch in t)]


def is_refusal(text: str) -> bool:
    """True when a draft says the passages don't answer (the shared phrase or a paraphrase)."""
    return text.strip() == NOT_IN_ARTICLES or bool(_REFUSAL.search(text))


@dataclass
class Checked:
    """One sentence after checking: the hits (0-based) it cites and the judge's verdict."""

    text: str
    hits: list[int]
    support: float
    verified: bool
    reattached: bool
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # hit → supporting sentence (article offsets)


def attach_citations(
    sentences: Sequence[tuple[str, list[int]]],
    hits: Sequence[Hit],
    judge: FaithfulnessJudge,
    known: dict[int, dict[int, tuple[int, int]]] | None = None,
) -> list[Checked]:
    """Check each (sentence, 1-based markers) against the passages of ``hits``.

    A sentence keeps those of its markers whose passage supports it. With none, it gets the one
    passage that supports it best, when the judge says that one does (``reattached``). Otherwise it
    keeps its valid markers (or none) and is unverified. ``known`` gives, per sentence index, the
    exact supporting sentence per hit when the engine knows it (extractive copies).
    """
    out = []
    for i, (text, markers) in enumerate(sentences):
        cited_hits = [m - 1 for m in markers]
        verdicts = dict(
            zip(cited_hits, judge.check_many([(hits[h].passage.text, text) for h in cited_hits]), strict=True)
        )
        good = [h for h in verdicts if verifies(verdicts[h])]
        reattached = False
        if not good:
            rest = [h for h in range(len(hits)) if h not in verdicts]
            others = dict(zip(rest, judge.check_many([(hits[h].passage.text, text) for h in rest]), strict=True))
            verdicts.update(others)
            best = max(others, key=lambda h: (verifies(others[h]), others[h].score), default=None)
            if best is not None and verifies(others[best]):
                good, reattached = [best], True
        cited = good or [m - 1 for m in markers]
        spans = {}
        for h in cited:
            if known and h in known.get(i, {}):
                spans[h] = known[i][h]
            else:
                s, e = verdicts[h].span
                spans[h] = (hits[h].passage.start + s, hits[h].passage.start + e)
        support = max((verdicts[h].score for h in cited), default=0.0)
        out.append(Checked(text, cited, round(support, 4), bool(good), reattached, spans))
    return out


def _short_answer(
    short: tuple[int, int, int, str] | None, checked: Sequence[Checked], hits: Sequence[Hit], numbers: dict[int, int]
) -> ShortAnswer | None:
    """The engine's short answer, kept only when it lies in a verified sentence of a cited passage."""
    if short is None or short[0] not in numbers:
        return None
    h, start, end, label = short
    inside = any(c.verified and s <= start and end <= e for c in checked for s, e in [c.spans.get(h, (0, -1))])
    if not inside:
        return None
    p = hits[h].passage
    return ShortAnswer(
        text=p.text[start - p.start : end - p.start],
        marker=numbers[h],
        start=start - p.start,
        end=end - p.start,
        label=label,
    )


def numbered(hits: Sequence[Hit], first: int = 1) -> list[Citation]:
    """The hits as citations numbered from ``first`` (what was retrieved, or nearest to a refusal)."""
    return [Citation.from_hit(first + i, hit) for i, hit in enumerate(hits)]


def build_answer(
    question: str,
    checked: Sequence[Checked],
    hits: Sequence[Hit],
    draft: str = "",
    short: tuple[int, int, int, str] | None = None,
    **fields: object,
) -> Answer:
    """The :class:`Answer` for checked sentences: cited passages numbered 1..k in order of first use,
    each sentence followed by its markers; the uncited retrieved passages go to ``related``. With no
    sentences, the answer is the shared refusal with the nearest passages as ``related``."""
    if not checked:
        related = numbered(hits[:3])
        return Answer(
            question=question,
            text=NOT_IN_ARTICLES,
            answered=False,
            related=related,
            draft=draft,
            **fields,  # type: ignore[arg-type]
        )
    numbers: dict[int, int] = {}
    support: dict[int, list[tuple[int, int]]] = {}
    parts, sentences = [], []
    for c in checked:
        ns = [numbers.setdefault(h, len(numbers) + 1) for h in c.hits]
        for h in c.hits:
            if c.spans.get(h) and c.spans[h] not in support.setdefault(h, []):
                support[h].append(c.spans[h])
        parts.append(" ".join([c.text, *map(marker, ns)]) if ns else c.text)
        sentences.append(
            SentenceCheck(text=c.text, markers=ns, support=c.support, verified=c.verified, reattached=c.reattached)
        )
    citations = [Citation.from_hit(n, hits[h], support.get(h)) for h, n in sorted(numbers.items(), key=lambda x: x[1])]
    related = [Citation.from_hit(0, hit) for h, hit in enumerate(hits) if h not in numbers]
    fields["short"] = _short_answer(short, checked, hits, numbers)
    return Answer(
        question=question,
        text=" ".join(parts),
        answered=True,
        citations=citations,
        related=related,
        sentences=sentences,
        draft=draft,
        **fields,  # type: ignore[arg-type]
    )
