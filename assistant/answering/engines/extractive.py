"""The offline answer engine: pick the sentences of the best passages that answer the question.

Every sentence of an extractive answer is copied verbatim from a retrieved passage and marked
with that passage's [n]; so an answer can never contain text that isn't in a cited passage.

Scoring: each sentence of the retrieved passages is scored by the learned sentence selector
(:mod:`assistant.answering.engines.selector`): a logistic model over features such as its cosine to the
question, the IDF-weighted share of the question's content words it holds (words of the article's
title count 0.3: they name the topic rather than what is asked), its passage's retrieval rank and
score, its place in the article, and, for the best ``TYPED_CANDIDATES``, whether spaCy finds in it
an entity of the kind the question asks for, tied to what it asks
(:mod:`assistant.answering.engines.answer_types`: "how many people died" wants a count of people that
belongs to a clause like "died"). A question that asks for a count, an amount or a date is answered
only from sentences that hold one, and the best tied entity of the first answering sentence is the
answer's short answer. Further sentences are kept when their probability is at least
``keep_ratio`` of the best one's. When the best sentence's probability is below ``min_relevance``
(both default to the values chosen in training), or no sentence speaks to what is asked (with
``require_focus``: none holds a content word of the question that is not in its article's title,
nor has a cosine of at least ``focus_cosine``), the engine says so with :data:`NOT_IN_ARTICLES`.

With ``answer_model`` (the default) the selector's best sentences are then read by the trained
answer model (:mod:`assistant.answering.engines.reading`): it reorders them, picks the short answer
and can answer what the selector would refuse. An open question ("What did X report?") skips the
focus filter and, when nothing clears the floors, gets the lede of the article its title names.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator

import numpy as np

from assistant.answering import nlp
from assistant.answering.engines import selector as selector_file
from assistant.answering.engines.answer_types import Asked, analyse, answer_spans
from assistant.answering.engines.base import Draft, DraftRequest
from assistant.answering.engines.candidates import (
    Candidate,
    Extract,
    Scored,
    compose,
    distinct,
    names_kind_only,
    restates,
)
from assistant.answering.engines.reading import Reader
from assistant.answering.engines.selector import TYPED_FEATURES, Selector, base_features, typed_features
from assistant.answering.engines.speakers import with_speakers
from assistant.settings import AnswerSettings, Settings
from index import Hit, Passage, sentence_spans
from index.language.words import keywords, stem

TOPIC_SHARE = 0.3
MODEL_KEEP = 0.6  # further sentences: at least this share of the best one's answer-model probability
MODEL_CONFIDENT = 0.3  # below this the model's probabilities are too low to choose further sentences by
# "What did Time Warner report?", "what happened to the bridge?": asks for the story, not a fact
_OPEN = re.compile(
    r"^\s*what\s+(?:did|does|has|have|is|was)?\s*.*?\b(?:report|reported|say|said|announce|announced|"
    r"happen|happened|new|latest|news)\b\W*$|^\s*what(?:'s| is)?\s+happen",
    re.I,
)


def open_question(question: str) -> bool:
    """Whether ``question`` asks for a story ("what did X report / say / announce", "what happened
    to X") rather than one fact: no sentence is typed for it, its article's lede answers it."""
    return bool(_OPEN.search(question))


def lede_of(scored: Scored, hits: list[Hit]) -> list[Candidate]:
    """The first two sentences of the best retrieved article whose title names what the question is
    about (none: nothing, and the question is refused)."""
    about = next((h.article.id for h in hits if scored.wanted & scored.titles.get(h.article.id, set())), None)
    own = [c for c in scored.candidates if hits[c.hit_index].article.id == about]
    return sorted(own, key=lambda c: c.start)[:2]


TYPED_CANDIDATES = 12  # the best sentences parsed for the kind of fact asked (~5 ms each)
PARSED_SENTENCES = 5_000  # parses kept (sentences of recent questions' passages)


class ExtractiveEngine:
    """The instant, no-model engine: copies the sentences of the passages that answer the question."""

    name = "extractive"
    model = ""
    prompt = ""

    CACHED_SENTENCES = 20_000  # vectors of recently read sentences (≈ 30 MB with MiniLM)

    def __init__(
        self, settings: AnswerSettings, embed: Callable[[list[str]], np.ndarray], selector: Selector | None = None
    ) -> None:
        self.embed = embed
        self.settings = settings
        self._selector = selector
        # questions about the same stories read the same sentences: embed each once (LRU)
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._parses: OrderedDict[str, object] = OrderedDict()
        self._parse_lock = threading.Lock()
        self.reader = Reader()  # the answer model (see assistant.answering.engines.reading)

    @property
    def selector(self) -> Selector:
        """The sentence selector (the shipped one unless given), read and checked on first use."""
        if self._selector is None:
            self._selector = selector_file.load()
        return self._selector

    def preload(self) -> None:
        """Load the selector and the answer model now (they load on first use otherwise)."""
        _ = self.selector
        if self.settings.answer_model:
            _ = self.reader.model

    @property
    def floor(self) -> float:
        """The least probability of the best sentence for an answer (``min_relevance``, else the selector's)."""
        return self.selector.threshold if self.settings.min_relevance is None else self.settings.min_relevance

    def parse(self, texts: list[str]) -> list[object]:
        """spaCy parses of ``texts`` (questions, sentences), from the cache where it has them."""
        with self._parse_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._parses))
            if missing:
                for text, doc in zip(missing, nlp.pipeline().pipe(missing), strict=True):
                    self._parses[text] = doc
            found = {t: self._parses[t] for t in texts}
            for t in found:
                self._parses.move_to_end(t)
            while len(self._parses) > PARSED_SENTENCES:
                self._parses.popitem(last=False)
        return [found[t] for t in texts]

    def asked(self, question: str) -> Asked | None:
        """What ``question`` asks for (None when typing is off)."""
        return analyse(self.parse([question])[0]) if self.settings.typing else None

    def similarity(self, phrase: str, phrases: list[str]) -> list[float]:
        """Cosines of ``phrase`` to each of ``phrases`` (through the sentence-vector cache: the asked
        predicate and the clauses of recent passages are embedded once)."""
        vectors = self.sentence_vectors([phrase, *phrases])
        return [float(x) for x in vectors[1:] @ vectors[0]]

    def type_candidates(self, asked: Asked, cands: list[Candidate]) -> None:
        """Find, in each candidate not parsed yet, the entities that answer ``asked``."""
        todo = [c for c in cands if c.answers is None]
        # a count, amount or date must be tied to what is asked; a name is ranked by its tie only
        min_tie = self.settings.min_tie if asked.strict else 0.0
        for c, doc in zip(todo, self.parse([c.text for c in todo]), strict=True):
            c.answers = answer_spans(asked, doc, self.similarity, min_tie)

    def sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Embeddings of candidate sentences, from the cache where it has them."""
        with self._cache_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._vectors))
        fresh = self.embed(missing) if missing else None
        with self._cache_lock:
            for text, vector in zip(missing, fresh if fresh is not None else [], strict=True):
                self._vectors[text] = vector
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for t in found:
                self._vectors.move_to_end(t)
            while len(self._vectors) > self.CACHED_SENTENCES:
                self._vectors.popitem(last=False)
        return np.vstack([found[t] for t in texts])

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        hits = list(request.hits)
        extract = (
            self.select(request.question, hits, request.passages_of, request.vector, request.sentence_vectors)
            if request.question
            else Extract([], 0)
        )
        draft = compose(extract, hits)
        yield draft.text
        yield draft

    def candidates(self, hits: list[Hit]) -> list[Candidate]:
        """Sentences of the hits, each once (overlapping passages share sentences)."""
        seen: set[tuple[str, int, int]] = set()
        out = []
        for i, hit in enumerate(hits):
            p = hit.passage
            for row, (s, e) in enumerate(sentence_spans(p.text)):
                key = (p.article_id, p.start + s, p.start + e)
                if key not in seen:
                    seen.add(key)
                    out.append(Candidate(i, p.start + s, p.start + e, p.text[s:e], row=row))
        return out

    def candidate_vectors(
        self, cands: list[Candidate], hits: list[Hit], stored: Callable[[int], np.ndarray | None]
    ) -> np.ndarray:
        """A vector per candidate: the one stored at ingest for its passage's sentence, else (an
        index built before sentence vectors were stored) embedded now."""
        rows: list[np.ndarray | None] = []
        blocks: dict[int, np.ndarray | None] = {}
        for c in cands:
            pid = hits[c.hit_index].passage.id
            block = blocks[pid] if pid in blocks else blocks.setdefault(pid, stored(pid))
            row = block[c.row] if block is not None and 0 <= c.row < len(block) else None
            rows.append(row)
        todo = [i for i, row in enumerate(rows) if row is None]
        if todo:
            for i, vector in zip(todo, self.sentence_vectors([cands[i].text for i in todo]), strict=True):
                rows[i] = vector
        return np.vstack(rows).astype(np.float32)  # type: ignore[arg-type]

    def score(
        self,
        question: str,
        hits: list[Hit],
        question_vector: np.ndarray | None = None,
        stored: Callable[[int], np.ndarray | None] = lambda _: None,
    ) -> Scored:
        """Every candidate sentence of ``hits`` with its base features (:mod:`selector`) and its
        selector log-odds without the typing features (no sentence is parsed yet)."""
        cands = self.candidates(hits)
        asked = self.asked(question) if cands else None
        wanted = keywords(question)
        if not cands:
            return Scored([], asked, wanted, {}, {})
        if question_vector is None:
            question_vector = self.embed([question])[0]
        cosines = self.candidate_vectors(cands, hits, stored) @ question_vector
        words = {id(c): keywords(c.text) for c in cands}
        # a question word that many candidate sentences share ("North Korea") tells less than a rare one
        weight = {w: math.log((len(cands) + 1) / (sum(w in ws for ws in words.values()) + 0.5)) for w in wanted}
        titles = {h.article.id: keywords(h.article.title) for h in hits}
        best_cosine = float(cosines.max())
        best_score = max((h.score for h in hits), default=0.0) or 1.0
        asked_noun = {stem(w) for w in (asked.kind, asked.unit) if w} if asked is not None else set()
        coverage = {}
        for c in cands:
            # words of the article's title name its topic; the rest of the question is what is asked
            topic = titles[hits[c.hit_index].article.id]
            w = {k: weight[k] * (TOPIC_SHARE if k in topic else 1.0) for k in wanted}
            total = sum(w.values())
            coverage[id(c)] = sum(w[k] for k in wanted & words[id(c)]) / total if total else 0.0
        best_coverage = max(coverage.values())
        for c, cos in zip(cands, cosines, strict=True):
            ws = words[id(c)]
            topic = titles[hits[c.hit_index].article.id]
            focus = wanted - topic
            c.cosine = float(cos)
            c.features = base_features(
                cosine=c.cosine,
                best_cosine=best_cosine,
                coverage=coverage[id(c)],
                best_coverage=best_coverage,
                names_asked=bool(asked_noun & ws),
                plain_coverage=len(wanted & ws) / len(wanted) if wanted else 0.0,
                focus=len(focus & ws) / len(focus) if focus else 0.0,
                rank=c.hit_index,
                relative_score=hits[c.hit_index].score / best_score,
                start=c.start,
                text=c.text,
                vague=names_kind_only(c.text, wanted),
            )
        base = np.asarray([c.features for c in cands], dtype=np.float64)
        logits = self.selector.logits(np.hstack([base, np.zeros((len(cands), len(TYPED_FEATURES)))]))
        for c, logit in zip(cands, logits, strict=True):
            c.logit = float(logit)
        return Scored(cands, asked, wanted, titles, words)

    def add_typing(self, asked: Asked, cands: list[Candidate]) -> None:
        """Parse ``cands`` (those not parsed yet) and add their typing features' part to their log-odds."""
        todo = [c for c in cands if c.answers is None]
        self.type_candidates(asked, todo)
        if not todo:
            return
        typed = np.asarray([typed_features(asked.typed, asked.strict, c.tie) for c in todo], dtype=np.float64)
        for c, part in zip(todo, self.selector.typed_part(typed), strict=True):
            c.logit += float(part)

    def rank(
        self,
        question: str,
        hits: list[Hit],
        question_vector: np.ndarray | None = None,
        stored: Callable[[int], np.ndarray | None] = lambda _: None,
    ) -> tuple[list[Candidate], Scored]:
        """The candidate sentences that may answer, most likely first, each with its selector
        probability in ``score`` (restatements of the question, repeats and, with
        ``require_focus``, sentences off what is asked left out; the best few parsed for typing)."""
        scored = self.score(question, hits, question_vector, stored)
        asked, wanted, words = scored.asked, scored.wanted, scored.words
        ranked = distinct(
            sorted((c for c in scored.candidates if not restates(question, c.text, wanted)), key=lambda c: -c.logit)
        )
        if self.settings.require_focus and not open_question(question):
            titles = scored.titles
            ranked = [c for c in ranked if self._on_focus(c, wanted, titles[hits[c.hit_index].article.id], words)]
        if ranked and asked is not None and asked.typed:  # the best sentences are parsed for what is asked
            top = ranked[:TYPED_CANDIDATES]
            self.add_typing(asked, top)
            ranked = sorted(top, key=lambda c: -c.logit) + ranked[TYPED_CANDIDATES:]
        for c in ranked:
            c.score = Selector.probability(c.logit)
        return ranked, scored

    def select(
        self,
        question: str,
        hits: list[Hit],
        passages_of: Callable[[str], list[Passage]] = lambda _: [],
        question_vector: np.ndarray | None = None,
        stored: Callable[[int], np.ndarray | None] = lambda _: None,
    ) -> Extract:
        """The sentences that answer ``question``; passages brought in for a quote's speaker are
        appended to ``hits`` (the engine's own copy)."""
        ranked, scored = self.rank(question, hits, question_vector, stored)
        if not ranked:
            return Extract([], 0.0)
        asked, wanted = scored.asked, scored.wanted
        best = ranked[0].score  # the selector's
        if self.settings.answer_model:
            ranked = self.reader.read(question, ranked, hits)
        read = ranked[0].reading is not None
        # the sentence the answer would lead with must itself be one the model is sure of (a surer one
        # lower in the blended order does not make this answer sure; taking the max measured worse on
        # BBC, 0.818 -> 0.795 contains-reference)
        top = ranked[0].reading.probability if read else 0.0  # type: ignore[union-attr]
        sure = read and top >= self.reader.floor()
        if best < self.floor and not sure:
            lede = lede_of(scored, hits) if open_question(question) else []
            return Extract(lede, best)  # an open question about a reported story: its first sentences
        if sure or top >= MODEL_CONFIDENT:  # the model's order; further sentences it finds nearly as likely
            chosen = [
                c
                for c in ranked[: self.settings.max_sentences]
                if c.reading and c.reading.probability >= top * MODEL_KEEP
            ]
        else:  # the model unsure of every sentence: the blended order, the selector's keep rule
            ratio = self.selector.keep_ratio if self.settings.keep_ratio is None else self.settings.keep_ratio
            chosen = [c for c in ranked[: self.settings.max_sentences] if c.score >= best * ratio]
        chosen = self._with_facts(asked, wanted, chosen, scored.candidates)
        if not chosen:  # no retrieved sentence holds the kind of fact asked for
            return Extract([], best)
        short = self.reader.short(asked, chosen) if read else None
        chosen = with_speakers(chosen, hits, passages_of)
        # best article first, then each article's sentences in reading order
        article_rank: dict[str, int] = {}
        for c in chosen:
            article_rank.setdefault(hits[c.hit_index].passage.article_id, len(article_rank))
        chosen.sort(key=lambda c: (article_rank[hits[c.hit_index].passage.article_id], c.start))
        return Extract(chosen, best, read, short)

    def _on_focus(self, c: Candidate, wanted: set[str], topic: set[str], words: dict[int, set[str]]) -> bool:
        """Whether a sentence speaks to what is asked: it holds one of the question's content words
        that are not in its article's title (those name the topic, not the question), or it is very
        close to the question. A question with no such words passes."""
        focus = wanted - topic
        return not focus or bool(focus & words[id(c)]) or c.cosine >= self.settings.focus_cosine

    def _with_facts(
        self, asked: Asked | None, wanted: set[str], chosen: list[Candidate], cands: list[Candidate]
    ) -> list[Candidate]:
        """Complete sentences that name the topic but not the fact asked for with the next sentence
        of the same passage when that one holds it (the answer to "who", "how many", or the ones a
        vague "several channels" stands for). For a question that asks for an amount, a count or a
        date (see ``Asked.strict``), a sentence is kept only when it, or the neighbour added to it,
        holds one tied to what is asked."""
        typed = asked is not None and asked.typed
        strict = asked is not None and asked.strict
        out: list[Candidate] = []
        for c in chosen:
            if typed:
                self.type_candidates(asked, [c])  # type: ignore[arg-type]
            if not strict or c.answers:
                out.append(c)
            if (c.answers if typed else True) and not names_kind_only(c.text, wanted):
                continue  # it holds what is asked (or nothing is typed and it is not vague)
            after = next((n for n in cands if n.hit_index == c.hit_index and n.start >= c.end), None)
            if after is None:
                continue
            if typed:
                self.type_candidates(asked, [after])  # type: ignore[arg-type]
                if not after.answers:
                    continue
            if c not in out:
                out.append(c)
            if all(after.start != o.start for o in out):
                out.append(after)
        return out


def create_extractive(settings: Settings, embed: Callable[[list[str]], np.ndarray]) -> ExtractiveEngine:
    return ExtractiveEngine(settings.answer, embed)
