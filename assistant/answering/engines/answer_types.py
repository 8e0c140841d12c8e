"""What a question asks for, and which words of a sentence give it: answer typing with spaCy.

:func:`analyse` reads the question's parse: its wh-word ("who", "how many", "which city", a quiz's
"this app") gives the entity labels an answer has (who → PERSON/ORG/NORP, where → GPE/LOC/FAC,
when → DATE/TIME, how many → CARDINAL/QUANTITY/MONEY, …), "how many X" gives the counted thing X,
and the question's own predicate ("died", "were evacuated") what the answer must be tied to.

:func:`answer_spans` finds, in a parsed sentence, the entities of those labels that are *tied*
to what is asked, not merely present: a count must count the asked thing (the number modifies
"people", or a noun the embedding model puts near it) and belong to a predicate like the asked
one (the number's own clause or a relative clause on it, e.g. "were ordered to leave their
homes", scored against "people died" by the embedding model, or holding the asked verb itself).
"How many people died?" is so not answered by "About 6,000 people were ordered to leave": the
count is of people, but not of deaths. No WordNet here: loading it takes ~3 s, which a cold
``ask`` cannot afford.
Entities the question itself names are the topic, never the answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# what each kind of question is answered by (spaCy's OntoNotes entity labels)
_WH = {
    "who": ("PERSON", "ORG", "NORP"),
    "whom": ("PERSON", "ORG", "NORP"),
    "whose": ("PERSON", "ORG", "NORP"),
    "where": ("GPE", "LOC", "FAC"),
    "when": ("DATE", "TIME"),
}
_HOW = {
    "many": ("CARDINAL", "QUANTITY", "MONEY"),
    "much": ("MONEY", "QUANTITY", "PERCENT", "CARDINAL"),
    "long": ("DATE", "TIME", "QUANTITY"),
    "old": ("DATE", "CARDINAL"),
    "far": ("QUANTITY",),
    "big": ("QUANTITY", "CARDINAL", "MONEY", "PERCENT"),
    "large": ("QUANTITY", "CARDINAL", "MONEY", "PERCENT"),
    "often": ("DATE", "TIME", "CARDINAL"),
}
# "which city", "what year", "this app": the noun says what kind of entity answers
_KINDS = {
    ("GPE",): "city country nation state capital town province county village territory kingdom republic",
    ("LOC", "GPE"): "region continent river mountain lake sea ocean island area desert peninsula",
    ("FAC", "GPE", "LOC"): "airport bridge building stadium port venue",
    ("ORG",): "company firm organization organisation group team club party agency bank network airline "
    "university school brand retailer manufacturer startup newspaper broadcaster carrier union league",
    ("PERSON",): "person man woman leader president minister official actor actress singer player author "
    "artist ceo director politician star athlete candidate senator governor judge celebrity rapper musician "
    "comedian billionaire king queen prince princess pope founder executive chairman coach",
    ("NORP",): "nationality religion",
    ("PRODUCT", "ORG"): "product phone car vehicle device game app platform drug vaccine software",
    ("EVENT",): "event tournament festival war storm hurricane",
    ("WORK_OF_ART",): "film movie book show song album series novel",
    ("LAW",): "law bill act treaty",
    ("LANGUAGE",): "language",
    ("DATE",): "year month day date decade century",
    ("TIME",): "time hour",
    ("PERCENT",): "percentage percent share proportion rate",
    ("MONEY",): "price cost amount fee fine salary budget money",
}
KIND_LABELS = {noun: labels for labels, nouns in _KINDS.items() for noun in nouns.split()}
_ASKING = {"what", "which", "this", "these"}
_LIGHT_VERBS = {"be", "have", "do", "happen", "get", "live", "exist", "remain", "become", "include"}
# a clause's words that say what it is about; the rest (subject, adjuncts) say where and who
_ADJUNCTS = {"prep", "advcl", "punct", "npadvmod", "advmod", "mark", "cc", "conj", "agent", "relcl", "ccomp"}
MAX_HOPS = 3  # how far (dependency arcs) an answer may sit from the word it is tied to
UNIT_COSINE = 0.6  # a noun this near the counted thing names it too ("residents" for "people")


@dataclass(frozen=True)
class Asked:
    """What a question asks for: entity ``labels`` (empty: not an entity), the counted or named
    thing (``unit``: "people" of "how many people"; ``kind``: "governor" of "who is the governor"),
    the question's predicate (``verb`` lemma and ``predicate`` phrase: "die", "died"), and the
    words the question names (``topic``), which are never the answer."""

    wh: str
    labels: tuple[str, ...] = ()
    unit: str = ""
    kind: str = ""
    verb: str = ""
    predicate: str = ""
    topic: frozenset[str] = field(default_factory=frozenset)
    words: frozenset[str] = field(default_factory=frozenset)  # lemmas of the question's nouns and verbs

    @property
    def typed(self) -> bool:
        return bool(self.labels)

    @property
    def strict(self) -> bool:
        """Whether only a sentence holding a tied answer may answer: for amounts, counts and dates
        ("how many", "how much", "when"), which spaCy's NER finds reliably. A name ("who", "which
        company") is looked for and preferred, not required: the small model misses or mislabels
        too many (on the RealTime QA 200 sample requiring one refused 23 answerable questions)."""
        return self.typed and (self.wh.startswith("how") or self.wh == "when")


def _predicate(token: Any) -> tuple[Any, list[Any]]:
    """The clause a token belongs to, without the token's own phrase: its nearest verb (or the
    sentence's root) with that verb's words but its adjuncts and the part holding the token
    ("About 6,000 people were ordered to leave their homes" gives "were ordered to leave their
    homes" for "6,000"; "Rainfall reached only a third" gives "Rainfall reached" for "a third")."""
    verb = token
    while verb.pos_ not in ("VERB", "AUX") and verb.head.i != verb.i:
        verb = verb.head
    inside = {t.i for t in token.ancestors} | {token.i}
    words = [verb]
    stack = [verb]
    while stack:
        for child in stack.pop().children:
            if child.dep_ in _ADJUNCTS or (child.i in inside and child.i != verb.i):
                continue
            if child.dep_ in ("nsubj", "nsubjpass") and any(t.i in inside for t in child.subtree):
                continue
            words.append(child)
            stack.append(child)
    words.sort(key=lambda t: t.i)
    return verb, words


def _clauses(token: Any) -> list[list[Any]]:
    """Every clause that says something of the entity at ``token``: its own (see :func:`_predicate`)
    and the relative clauses on it or on the noun it counts ("Dana Okafor, who proposed the plan,
    said …"; "the 40 parking spaces that will be removed")."""
    out = [_predicate(token)[1]]
    for noun in (token, token.head):
        for child in noun.children:
            if child.dep_ in ("relcl", "acl"):
                out.append([t for t in child.subtree if not t.is_punct])
    return out


def _text(tokens: list[Any]) -> str:
    return " ".join(t.text for t in tokens)


def analyse(question: Any) -> Asked:
    """What the parsed ``question`` (a spaCy Doc) asks for."""
    tokens = list(question)
    topic = frozenset(e.text.lower() for e in question.ents) | frozenset(
        t.lower_ for t in tokens if t.pos_ == "PROPN" or (t.ent_type_ and t.is_alpha and not t.is_stop)
    )
    wh, labels, unit, kind, anchor = "", (), "", "", None
    for i, t in enumerate(tokens):
        word = t.lower_
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if word == "how" and following is not None and following.lower_ in _HOW:
            wh, labels, anchor = f"how {following.lower_}", _HOW[following.lower_], following
            if following.lower_ in ("many", "much") and following.head.pos_ in ("NOUN", "PROPN"):
                unit, anchor = following.head.lemma_.lower(), following.head
                if unit in KIND_LABELS:  # "how many years", "how much money": the noun says the kind
                    labels, unit = KIND_LABELS[unit], ""
                elif following.lower_ == "much":  # "how much aid": an amount of it, seldom next to it
                    unit = ""
            break
        if word in _WH:
            wh, labels, anchor = word, _WH[word], t
            break
        if word in _ASKING and t.dep_ in ("det", "nsubj", "dobj", "attr", "pobj") and t.head.pos_ == "NOUN":
            noun = t.head.lemma_.lower()
            if word in ("this", "these") and noun not in KIND_LABELS:
                continue  # "this week": not the quiz's blank
            wh, kind, anchor = f"{word} {noun}", noun, t.head
            labels = KIND_LABELS.get(noun, ())
            break
    if not wh:
        return Asked("", topic=topic)
    if wh in ("who", "whom", "whose") and not kind:
        # "who is the governor of …": the noun the wh-word stands for
        for t in tokens:
            if t.dep_ in ("nsubj", "attr") and t.pos_ == "NOUN" and (anchor is None or t.i != anchor.i):
                kind = t.lemma_.lower()
                break
    verb_token, words = _predicate(anchor if anchor is not None else question[:].root)
    verb = verb_token.lemma_.lower() if verb_token.pos_ == "VERB" else ""
    if verb in _LIGHT_VERBS:
        verb = ""
    asked_words = [t for t in words if (anchor is None or t.i != anchor.i) and t.lower_ not in _HOW | _WH.keys()]
    if unit and anchor is not None:  # "people died": the counted thing belongs to the predicate asked
        asked_words = sorted({anchor.i: anchor, **{t.i: t for t in asked_words}}.values(), key=lambda t: t.i)
    words = frozenset(t.lemma_.lower() for t in tokens if t.pos_ in ("NOUN", "VERB") and t.lemma_.lower() != unit)
    return Asked(wh, tuple(labels), unit, kind, verb, _text(asked_words) if verb else "", topic, words)


def _hops(a: Any, b: Any) -> int:
    """Dependency arcs between two tokens of one sentence."""
    up_a = [a, *a.ancestors]
    depth = {t.i: n for n, t in enumerate(up_a)}
    for n, t in enumerate([b, *b.ancestors]):
        if t.i in depth:
            return n + depth[t.i]
    return 99


@dataclass(frozen=True)
class Tied:
    """An entity that answers: its characters in the sentence and how strongly it is tied."""

    start: int
    end: int
    text: str
    label: str
    tie: float


def answer_spans(
    asked: Asked,
    sentence: Any,
    similarity: Callable[[str, list[str]], list[float]],
    min_tie: float,
) -> list[Tied]:
    """The entities of ``sentence`` (a parsed Doc or Span) that answer ``asked``, best tied first.
    ``similarity(phrase, phrases)`` scores the question's predicate against each entity's clause
    (the embedding model's cosine); a clause holding the asked verb itself ties at 1."""
    if not asked.typed:
        return []
    counted: list[Any] = []
    if asked.unit:  # the sentence's nouns that name the counted thing (the same word, or one near it)
        nouns = [t for t in sentence if t.pos_ in ("NOUN", "PROPN")]
        near = similarity(asked.unit, [t.lemma_.lower() for t in nouns]) if nouns else []
        counted = [t for t, s in zip(nouns, near, strict=True) if t.lemma_.lower() == asked.unit or s >= UNIT_COSINE]
    found = []
    for ent in sentence.ents:
        words = {w.lower_ for w in ent if w.is_alpha and not w.is_stop}
        if ent.label_ not in asked.labels or ent.text.lower() in asked.topic or (words and words <= asked.topic):
            continue
        root = ent.root
        if asked.unit and not any(_hops(root, t) <= 2 for t in counted):
            continue  # the number counts something else
        if asked.kind and asked.kind not in KIND_LABELS and asked.wh.startswith(("who", "whom", "whose")):
            named = [t for t in sentence if t.lemma_.lower() == asked.kind]
            if named and not any(_hops(root, t) <= MAX_HOPS for t in named):
                continue
        found.append((ent, _clauses(root)))
    if not found:
        return []
    ties = [1.0] * len(found)
    if asked.verb:
        phrases = [_text(words) for _, clauses in found for words in clauses]
        scores = iter(similarity(asked.predicate, phrases))
        for i, (_, clauses) in enumerate(found):
            best = 0.0
            for words in clauses:
                score = next(scores)
                # the clause's verb is the asked one, or a word of the question ("will the bike lanes
                # cost": the parser took "lanes" for the verb, "cost" for a noun)
                same = any(t.pos_ == "VERB" and t.lemma_.lower() in {asked.verb, *asked.words} for t in words)
                best = max(best, 1.0 if same else score)
            ties[i] = best
    start = sentence[0].idx if len(sentence) else 0
    out = [
        Tied(ent.start_char - start, ent.end_char - start, ent.text, ent.label_, tie)
        for (ent, _), tie in zip(found, ties, strict=True)
        if tie >= min_tie
    ]
    return sorted(out, key=lambda t: -t.tie)
