"""A quote continued with "he added" brings along the sentence that names its speaker (the
extractive engine's chosen sentences, completed)."""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answering.engines.candidates import Candidate
from index import Hit, Passage, sentence_spans

# "..." he added / she said: a quote that names its speaker only in the sentence before.
_CONTINUATION = re.compile(
    r"[”\"’']\s*,?\s*(?:he|she|they|the official|the spokesperson|the spokesman|the spokeswoman)\s+"
    r"(?:added|continued|went on|said|noted|stressed|warned|insisted|explained|clarified)\b"
    r"|^(?:He|She|They)\s+(?:added|continued|went on)\b",
    re.I,
)


def with_speakers(
    chosen: list[Candidate], hits: list[Hit], passages_of: Callable[[str], list[Passage]]
) -> list[Candidate]:
    """Bring along the sentence that names the speaker of a quote continued with "he added"."""
    out = list(chosen)
    have = {(hits[c.hit_index].passage.article_id, c.start) for c in out}
    for c in chosen:
        current = c
        for _ in range(3):
            if not _CONTINUATION.search(current.text):
                break
            prev = previous_sentence(current, hits, passages_of)
            if prev is None:
                break
            key = (hits[prev.hit_index].passage.article_id, prev.start)
            if key not in have:
                have.add(key)
                out.append(prev)
            current = prev
    return out


def previous_sentence(c: Candidate, hits: list[Hit], passages_of: Callable[[str], list[Passage]]) -> Candidate | None:
    """The sentence before ``c`` in its article, from a retrieved passage or else from the
    passage the index holds for it (then appended to ``hits`` so it can be cited)."""
    article_id = hits[c.hit_index].passage.article_id
    retrieved = [(i, h.passage) for i, h in enumerate(hits) if h.passage.article_id == article_id]
    stored: list[tuple[int | None, Passage]] = [(None, p) for p in passages_of(article_id)]
    for i, p in [*retrieved, *stored]:
        if not p.start <= c.start <= p.end:
            continue
        before = [(p.start + s, p.start + e) for s, e in sentence_spans(p.text) if p.start + e <= c.start]
        if before:
            if i is None:
                hits.append(Hit(p, 0.0, hits[c.hit_index].article))
                i = len(hits) - 1
            s, e = before[-1]
            return Candidate(i, s, e, p.text[s - p.start : e - p.start])
    return None
