"""Answers and their citations: typed, JSON round-trippable."""

from __future__ import annotations

from pydantic import BaseModel, Field, computed_field

from index import Hit


def heading(title: str, source: str = "", date: str = "") -> str:
    """How a cited article is named wherever it is listed: "title · source · date" (the parts it has)."""
    return " · ".join(x for x in (title, source, date[:10]) if x)


class Citation(BaseModel):
    """A passage an answer cites (or, in ``Answer.related``, a nearby passage it did not use)."""

    marker: int = Field(description="The n of the [n] marker in the answer text.")
    passage_id: int
    article_id: str
    passage: str = Field(description="The passage text, exactly as it stands in the article.")
    start: int = Field(description="Start of the passage in the article text.")
    end: int = Field(description="End of the passage in the article text.")
    sentences: list[tuple[int, int]] = Field(
        default_factory=list,
        description="Supporting sentences, as offsets into the article text (passage_sentences: into passage).",
    )
    score: float = Field(
        description="Retrieval score of the passage: cosine, BM25 or fused rank score, by retrieval mode."
    )
    title: str = ""
    source: str = ""
    date: str = ""
    url: str = ""

    @property
    def heading(self) -> str:
        """ "title · source · date" of the cited article (see :func:`heading`)."""
        return heading(self.title, self.source, self.date)

    @classmethod
    def from_hit(cls, marker: int, hit: Hit, sentences: list[tuple[int, int]] | None = None) -> Citation:
        p, a = hit.passage, hit.article
        return cls(
            marker=marker,
            passage_id=p.id,
            article_id=p.article_id,
            passage=p.text,
            start=p.start,
            end=p.end,
            sentences=sorted(sentences or []),
            score=round(hit.score, 4),
            title=a.title,
            source=a.source or a.metadata.get("path", "").rsplit("/", 1)[-1],
            date=a.date,
            url=a.url,
        )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passage_start(self) -> int:
        """Where ``passage`` starts in the article text (``start``): article offsets minus this
        are offsets into ``passage``."""
        return self.start

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passage_sentences(self) -> list[tuple[int, int]]:
        """The supporting sentences as offsets into ``passage``: ``passage[a:b]`` is the sentence."""
        return [(s - self.start, e - self.start) for s, e in self.sentences]


class SentenceCheck(BaseModel):
    """One sentence of an answer, the passages it cites and how well the judge finds it supported."""

    text: str = Field(description="The sentence, without its markers.")
    markers: list[int] = Field(default_factory=list, description="The [n] it cites (into Answer.citations).")
    support: float = Field(0.0, description="The judge's support score against the best cited passage, 0 to 1.")
    verified: bool = Field(False, description="True when a cited passage supports the sentence.")
    reattached: bool = Field(False, description="True when the citation was attached or corrected after drafting.")


class ShortAnswer(BaseModel):
    """The few words that answer the question ("New York", "$25.4bn", "January 19"), cut from a
    cited passage: ``Answer.citation(marker).passage[start:end] == text``."""

    text: str
    marker: int = Field(description="The [n] of the cited passage it is cut from.")
    start: int = Field(description="Start in that passage's text.")
    end: int = Field(description="End in that passage's text.")
    label: str = Field("", description="What kind of thing it is (spaCy's entity label: PERSON, DATE, MONEY, …).")


class TimelineLine(BaseModel):
    """One line of a timeline answer: a report's day and the sentence of it the line quotes."""

    day: str = Field(description="The report's date (YYYY-MM-DD).")
    marker: int = Field(description="The [n] of the report's cited passage.")
    text: str = Field(description="The sentence, as the report says it.")


class Disagreement(BaseModel):
    """One of the values reports give when they differ (a revised count, another amount)."""

    value: str = Field(description="The value as this report gives it.")
    marker: int = Field(description="The [n] of the report's cited passage.")
    source: str = ""
    date: str = ""
    latest: bool = Field(False, description="True for the newest report's value (the one the answer leads with).")


class Answer(BaseModel):
    """A short answer whose every sentence carries [n] markers pointing into ``citations``."""

    question: str
    text: str
    answered: bool = Field(description="False when the articles don't answer the question.")
    citations: list[Citation] = Field(default_factory=list)
    related: list[Citation] = Field(
        default_factory=list, description="Nearest passages not cited (shown when nothing answers)."
    )
    sentences: list[SentenceCheck] = Field(
        default_factory=list, description="Each answer sentence with its citations and support."
    )
    short: ShortAnswer | None = Field(
        None, description="The short answer, when one entity or phrase of a cited sentence answers the question."
    )
    draft: str = Field(
        "",
        description="When a written draft was refused because no passage supports any of its sentences: the draft; "
        "with fallback, the model's words.",
    )
    fallback: bool = Field(
        False,
        description="True when nothing the model wrote holds (it said the articles don't say, or no passage "
        "supports it) but the sentence selector found an answer: the answer is the extractive engine's "
        "sentences, the model's words are in draft.",
    )
    engine: str = "extractive"
    model: str = Field("", description="The generating model (empty for the extractive engine).")
    prompt: str = Field("", description="Prompt template id and version, e.g. grounded_answer.v2.")
    query: str = Field("", description="What was searched: the question, rewritten as a standalone one for follow-ups.")
    timings: dict[str, float] = Field(default_factory=dict, description="Milliseconds per stage.")
    time: str = Field(
        "plain",
        description="What the question asks about time: plain, latest, since DAY, before DAY or development.",
    )
    timeline: list[TimelineLine] = Field(
        default_factory=list, description="For a development question: one dated line per report, oldest first."
    )
    disagreements: list[Disagreement] = Field(
        default_factory=list, description="When reports give different values for what was asked: each, latest first."
    )
    note: str = Field(
        "",
        description="What the answer's time policy did: reports left out by a date filter, the latest report "
        "answered from, reports that differ.",
    )

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_json(cls, data: str) -> Answer:
        return cls.model_validate_json(data)

    @property
    def unverified(self) -> list[SentenceCheck]:
        """The sentences no cited passage was found to support."""
        return [s for s in self.sentences if not s.verified]

    def citation(self, marker: int) -> Citation | None:
        return next((c for c in self.citations if c.marker == marker), None)
