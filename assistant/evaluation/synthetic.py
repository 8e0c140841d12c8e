"""Synthetic test sets without a language model: cloze questions from key sentences.

A key sentence is one of 8 to 40 words, not a quotation, that holds a number or a name (a run
of capitalised words not at the start of the sentence). The question is the sentence with that
number or name blanked out; the reference answer is what was blanked, the reference passage the
sentence, the reference article its article. Honest and simple: it tests retrieval and whether
the answer contains the fact, not reasoning. Every sentence passed over is counted with a reason,
so an empty result always says why.
"""

from __future__ import annotations

import random
import re
from collections import Counter

from assistant.evaluation.testset import TestCase
from index import NewsIndex
from index.language.splitter import sentence_spans

BLANK = "_____"
_NUMBER = re.compile(r"\b\d[\d,.]*(?:\s(?:percent|million|billion|thousand|hectares|years|dollars|euros|pounds))?")
_NAME = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)+")
_QUOTES = ('"', "“", "”")


def cloze(sentence: str) -> tuple[str, str] | None:
    """(question, answer) for a sentence, or None when it has nothing to blank out."""
    for pattern in (_NUMBER, _NAME):
        match = pattern.search(sentence)
        if match:
            answer = match.group(0).rstrip(".,")
            question = sentence[: match.start()] + BLANK + sentence[match.start() + len(answer) :]
            return f"Fill in the blank: {question}", answer
    return None


def generate_testset(index: NewsIndex, count: int = 30, seed: int = 0) -> tuple[list[TestCase], Counter[str]]:
    """Up to ``count`` cloze questions from the index's articles (at most one per article per
    round, articles in a seeded random order), and how many sentences were skipped, by reason."""
    rng = random.Random(seed)
    articles = sorted(index.iter_articles(), key=lambda a: a.id)
    rng.shuffle(articles)
    skipped: Counter[str] = Counter()
    candidates: list[list[tuple[str, str, str, str]]] = []  # per article: (question, answer, sentence, article)
    if not articles:
        skipped["the index has no articles"] += 1
    for article in articles:
        found = []
        for start, end in sentence_spans(article.text):
            sentence = " ".join(article.text[start:end].split())
            words = len(sentence.split())
            if words < 8 or words > 40:
                skipped["shorter than 8 or longer than 40 words"] += 1
            elif any(q in sentence for q in _QUOTES):
                skipped["a quotation"] += 1
            elif (made := cloze(sentence)) is None:
                skipped["no number or name to blank out"] += 1
            else:
                found.append((made[0], made[1], sentence, article.key or article.id))
        rng.shuffle(found)
        candidates.append(found)
    cases: list[TestCase] = []
    seen: set[str] = set()
    while len(cases) < count and any(candidates):
        for found in candidates:
            if found and len(cases) < count:
                question, answer, sentence, ref = found.pop()
                if question in seen:
                    skipped["the same question again"] += 1
                    continue
                seen.add(question)
                cases.append(
                    TestCase(
                        id=f"cloze-{len(cases) + 1:03d}",
                        question=question,
                        reference_answer=[answer],
                        reference_article_ids=[ref],
                        reference_passages=[sentence],
                        metadata={"generator": "cloze", "seed": seed},
                    )
                )
    left = sum(len(f) for f in candidates)
    if left:
        skipped[f"not needed: {count} questions were asked for"] += left
    return cases, skipped
