"""Test sets from the chat's ratings: a team's evaluation grows from real use.

The rules, per rated turn (the question asked and the answer given then):

- 👍 on an answer: answerable; the reference answer is the short answer when there is one, else the
  answer's sentences; the reference articles are the ones it cited.
- 👍 on a refusal ("the articles don't say"): unanswerable; refusing again is right.
- 👎 on an answer says what was wrong (the chat asks):
  - *should have refused*: unanswerable; the articles don't say it, refusing is right;
  - *wrong*: answerable, with no reference answer (the given one is kept in the metadata as
    ``wrong_answer``; a team that knows the right answer edits the case);
  - *incomplete*: answerable, the cited articles as reference articles, no reference answer;
  - not said: left out (a 👎 alone no longer turns a question into an unanswerable one).
- 👎 on a refusal (or *should have answered*): answerable, with no reference answer: refusing
  again counts as a false refusal.

Each case keeps the rating, the comment and the conversation's answer in its metadata. The same
question rated twice gives one case: the latest rating wins.
"""

from __future__ import annotations

import hashlib

from assistant.conversations import ConversationStore
from assistant.evaluation.testset import TestCase


def feedback_testset(store: ConversationStore) -> list[TestCase]:
    """Test cases from every rated turn of ``store`` (see the module's rules)."""
    cases: dict[str, TestCase] = {}
    for turn in store.rated():
        answer = turn.answer
        good = turn.rating == 1
        cited = list(dict.fromkeys(c.article_id for c in answer.citations))
        reference: list[str] = []
        articles: list[str] = []
        metadata = {"rating": turn.rating, "comment": turn.comment, "answer": answer.text, "from": "feedback"}
        if good:
            answerable = answer.answered
            if answer.answered:
                reference = [answer.short.text] if answer.short else [" ".join(s.text for s in answer.sentences)]
                articles = cited
        elif not answer.answered or turn.reason == "should_answer":
            answerable = True
        elif turn.reason == "should_refuse":
            answerable = False
        elif turn.reason in ("wrong", "incomplete"):
            answerable = True
            metadata["reason"] = turn.reason
            if turn.reason == "wrong":
                metadata["wrong_answer"] = answer.text
            else:
                articles = cited
        else:
            continue  # a 👎 on an answer without a reason: nothing to learn for sure
        key = " ".join(answer.question.lower().split())
        cases[key] = TestCase(
            id="feedback-" + hashlib.sha256(key.encode()).hexdigest()[:12],
            question=answer.question,
            reference_answer=reference,
            reference_article_ids=articles,
            answerable=answerable,
            metadata=metadata,
        )
    return list(cases.values())
