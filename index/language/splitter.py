"""Sentence-aware splitting of article text into passages with exact character offsets.

Passages are packed from whole sentences up to ``max_tokens`` word-pieces of the embedding
model's own tokenizer (MiniLM reads at most 256), and each passage after the first starts with the
trailing sentences of the one before it, up to ``overlap_tokens``. A sentence longer than
``max_tokens`` is cut at word boundaries. Every span satisfies ``text[start:end] == passage``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from index.errors import ConfigurationError

Span = tuple[int, int]
TokenCounter = Callable[[Sequence[str]], list[int]]

SPLITTER_VERSION = "sentences-v1"

# Words that end with a full stop without ending the sentence.
_ABBREVIATIONS = frozenset(
    """mr mrs ms dr prof st sr jr gen gov sen rep lt col capt cpt sgt maj rev fr inc ltd co corp
    bros jan feb mar apr jun jul aug sep sept oct nov dec no nos vs etc approx est dept univ
    mt ft pres u.s u.k u.n e.g i.e a.m p.m""".split()
)
_END = re.compile(r"[.!?…]+[\"'”’)\]]*")
_OPENERS = "\"'“‘([¡¿"
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_VISIBLE = re.compile(r"\S")
_LONGEST_WORD = 64  # how far back a full stop's word is looked for (abbreviations are short)


def _is_boundary(text: str, end_punct: re.Match[str]) -> bool:
    after = end_punct.end()
    if after >= len(text) or not text[after].isspace():
        return False
    visible = _VISIBLE.search(text, after)  # never copies the rest of the text: linear time overall
    if visible is None:
        return True
    nxt = visible.group()
    if not (nxt.isupper() or nxt.isdigit() or nxt in _OPENERS):
        return False
    if text[end_punct.start()] == ".":
        word_start = end_punct.start()
        floor = max(0, word_start - _LONGEST_WORD)
        while word_start > floor and not text[word_start - 1].isspace():
            word_start -= 1
        word = text[word_start : end_punct.start()].lstrip("\"'“‘([").lower()
        if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
            return False
    return True


def _trim(text: str, start: int, end: int) -> Span | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def sentence_spans(text: str) -> list[Span]:
    """Character spans of the sentences of ``text``, in order, without surrounding whitespace.

    A blank line always ends a sentence; otherwise a sentence ends at ``.``, ``!``, ``?`` (plus
    closing quotes or brackets) followed by whitespace and a capital, digit or opening quote,
    unless the word before the full stop is a known abbreviation or an initial.
    """
    spans: list[Span] = []
    cuts = [0]
    for m in _END.finditer(text):
        if _is_boundary(text, m):
            cuts.append(m.end())
    cuts += [m.start() for m in _PARAGRAPH.finditer(text)]
    cuts = sorted(set(cuts)) + [len(text)]
    for a, b in zip(cuts, cuts[1:], strict=False):
        span = _trim(text, a, b)
        if span:
            spans.append(span)
    return spans


def _cut_long(text: str, span: Span, count: int, max_tokens: int, counter: TokenCounter) -> list[tuple[Span, int]]:
    """Cut a sentence longer than ``max_tokens`` at word boundaries into pieces that fit."""
    if count <= max_tokens:
        return [(span, count)]
    words = [(span[0] + m.start(), span[0] + m.end()) for m in re.finditer(r"\S+", text[span[0] : span[1]])]
    counts = counter([text[a:b] for a, b in words])
    pieces: list[tuple[Span, int]] = []
    start, total, last_end = words[0][0], 0, words[0][0]
    for (a, b), c in zip(words, counts, strict=True):
        if total and total + c > max_tokens:
            pieces.append(((start, last_end), total))
            start, total = a, 0
        total += c
        last_end = b
    pieces.append(((start, last_end), total))
    return pieces


def split_passages(text: str, counter: TokenCounter, max_tokens: int = 200, overlap_tokens: int = 40) -> list[Span]:
    """Split ``text`` into passage spans of at most ``max_tokens`` tokens (as ``counter`` counts).

    Consecutive passages share whole trailing sentences of at most ``overlap_tokens`` tokens.
    """
    if max_tokens < 1 or not 0 <= overlap_tokens < max_tokens:
        raise ConfigurationError(
            f"chunk sizes max_tokens={max_tokens}, overlap_tokens={overlap_tokens} are invalid: "
            "need max_tokens >= 1 and 0 <= overlap_tokens < max_tokens"
        )
    sentences = sentence_spans(text)
    if not sentences:
        return []
    counts = counter([text[a:b] for a, b in sentences])
    units: list[tuple[Span, int]] = []
    for span, count in zip(sentences, counts, strict=True):
        units.extend(_cut_long(text, span, count, max_tokens, counter))

    passages: list[Span] = []
    current: list[tuple[Span, int]] = []
    for unit in units:
        if current and sum(c for _, c in current) + unit[1] > max_tokens:
            passages.append((current[0][0][0], current[-1][0][1]))
            overlap: list[tuple[Span, int]] = []
            for prev in reversed(current[1:]):  # never carry the whole passage over
                if sum(c for _, c in overlap) + prev[1] > overlap_tokens:
                    break
                overlap.insert(0, prev)
            while overlap and sum(c for _, c in overlap) + unit[1] > max_tokens:
                overlap.pop(0)
            current = overlap
        current.append(unit)
    passages.append((current[0][0][0], current[-1][0][1]))
    return passages
