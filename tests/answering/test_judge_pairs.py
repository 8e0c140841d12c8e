"""The claim-pair generator for training a support model: each kind changes (or keeps) what it says."""

from __future__ import annotations

import random

from benchmarks.judge_pairs import Perturber, joined, lacks_some, pairs

STORY = (
    "The Harbourton council met on Monday to discuss the ferry. Mayor Alice Brennan said the ferry would "
    "return in 2027 with 40 new crew members. Councillor Tom Okafor, who chairs the transport board, was "
    "not convinced by the plan. After the meeting, Alice Brennan thanked Tom Okafor for his questions. "
    "The vote was delayed until March, officials said. Residents of Harbourton "
    "want the ferry back before the summer season."
)
OTHER = (
    "The Millbrook school reopened after repairs on Friday. Head teacher Priya Nandal thanked the parents "
    "who raised funds. Pupils returned to 12 classrooms and a new library. The roof had leaked for years, "
    "the council said. Inspectors will visit the school again in May."
)


def test_every_kind_of_pair_is_made_and_labelled() -> None:
    pool = [
        {"id": "a", "topic": "local", "text": STORY, "source": "made-up"},
        {"id": "b", "topic": "local", "text": OTHER, "source": "made-up"},
    ]
    made: dict[str, list[dict[str, object]]] = {}
    for seed in range(120):
        rng = random.Random(seed)
        for pair in pairs(pool[0], Perturber(rng, pool), rng, perturbed=3):
            made.setdefault(str(pair["kind"]), []).append(pair)
    supported = {"sentence", "clause", "merged", "paraphrase"}
    perturbed = {"entity", "number", "date", "antonym", "cohyponym", "negation", "swap", "added", "related"}
    negative = perturbed | {"removed", "half"}
    assert supported <= set(made) and negative <= set(made), (supported | negative) - set(made)
    assert set(made) <= supported | negative
    for kind, rows in made.items():
        assert all(r["label"] == (1 if kind in supported else 0) for r in rows), kind
        assert all(r["claim"] != "" and r["passage"] for r in rows)
    assert all(r["claim"] in str(r["passage"]) for r in made["sentence"])
    for r in made["removed"] + made["half"]:  # real claims against windows that lost their support
        assert r["claim"] not in str(r["passage"]) and lacks_some(str(r["claim"]), str(r["passage"]))
    rng = random.Random(0)
    default = list(pairs(pool[0], Perturber(rng, pool), rng))
    assert sum(str(p["kind"]) in perturbed for p in default) <= 1, "one perturbed negative an article by default"
    assert all(" not " in str(r["claim"]) or "not" not in str(r["claim"]) for r in made["negation"])
    for r in made["paraphrase"] + made["cohyponym"]:
        assert r["claim"] not in str(r["passage"]), "a word was replaced"
    assert all("Monday" not in str(r["claim"]) or "March" not in str(r["claim"]) for r in made["date"])
    assert all(len(str(r["passage"]).split()) <= 90 or str(r["passage"]).count(". ") == 0 for r in made["sentence"])
    numbers = [str(r["claim"]) for r in made["number"]]
    assert all(("2027" not in c or "40" not in c) for c in numbers), "a number changed"
    assert (
        joined("Mayor Alice Brennan spoke.", "Tom Okafor agreed.")
        == "Mayor Alice Brennan spoke, and Tom Okafor agreed."
    )
    assert joined("It rained.", "The vote was delayed.") == "It rained, and the vote was delayed."
