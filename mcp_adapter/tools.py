"""The MCP server's tools and resources over one :class:`~assistant.Assistant`: ask (the verified
answer, each sentence with its verified flag and citations), search, get_article, list_articles,
list_sources, add_source, digest; articles as ``article://<id>`` resources.

Each tool has a JSON schema (from its typed parameters) and typed structured output (the pydantic
models below). An :class:`~assistant.AssistantError` becomes an MCP tool error with its one-line
message; nothing else of a failure (no traceback) reaches the client.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, Field

from assistant import Answer, Assistant, AssistantError, Citation, Filters, SourceRow, __version__

T = TypeVar("T")
MAX_K = 50
ASK = "Answer a question from the loaded news articles; every sentence is checked against the passage it cites."
MAX_PAGE = 100


class Source(BaseModel):
    """A cited passage's article and the sentence of it that supports the answer."""

    marker: int = Field(description="The [n] the answer's sentences use for it.")
    article_id: str
    title: str
    source: str
    date: str
    url: str
    sentence: str = Field(description="The sentence of the passage that supports the answer (the first one).")
    passage: str


class Sentence(BaseModel):
    text: str
    verified: bool = Field(description="True when a cited passage supports the sentence.")
    markers: list[int]


class AskResult(BaseModel):
    """A verified answer: every sentence checked against the passage it cites."""

    answered: bool
    text: str = Field(description="The answer with [n] markers, or the refusal when the articles don't say.")
    short_answer: str = Field("", description="The few words that answer, when one entity of a cited sentence does.")
    sentences: list[Sentence]
    citations: list[Source]
    refusal_reason: str = Field("", description="Why it was refused (empty when answered).")
    note: str = Field(
        "", description="What the question's time policy did (the latest report, a window, reports that differ)."
    )
    time: str = Field(
        "plain", description="What the question asks about time: plain, latest, since DAY, before DAY, development."
    )


class Passage(BaseModel):
    article_id: str
    title: str
    source: str
    date: str
    url: str
    score: float
    text: str


class SearchResult(BaseModel):
    passages: list[Passage]


class Article(BaseModel):
    id: str
    title: str
    source: str
    date: str
    url: str
    text: str


class ArticleRow(BaseModel):
    id: str
    title: str
    source: str
    date: str
    passages: int


class ArticleList(BaseModel):
    total: int
    page: int
    articles: list[ArticleRow]


class SourceList(BaseModel):
    sources: list[SourceRow]


class AddedSource(BaseModel):
    url: str
    added: int = Field(description="Articles added from it now.")
    failures: list[str]


class DigestStory(BaseModel):
    title: str
    line: str = Field(description="The newest report's first sentence.")
    source: str
    date: str
    article_id: str
    reports: int
    new_reports: int


class DigestResult(BaseModel):
    since: str
    as_of: str
    stories: list[DigestStory]


def _source(c: Citation) -> Source:
    sentence = next((c.passage[s:e] for s, e in sorted(c.passage_sentences)), "")
    return Source(
        marker=c.marker, article_id=c.article_id, title=c.title, source=c.source, date=c.date, url=c.url,
        sentence=sentence, passage=c.passage,
    )  # fmt: skip


def ask_result(answer: Answer) -> AskResult:
    return AskResult(
        answered=answer.answered,
        text=answer.text,
        short_answer=answer.short.text if answer.short else "",
        sentences=[Sentence(text=s.text, verified=s.verified, markers=s.markers) for s in answer.sentences],
        citations=[_source(c) for c in answer.citations],
        refusal_reason="" if answer.answered else (answer.note or "none of the loaded articles answers this question"),
        note=answer.note,
        time=answer.time,
    )


def checked(call: Callable[[], T]) -> T:
    """Run a tool's work; an AssistantError becomes a tool error with its one-line message."""
    from mcp.server.mcpserver.exceptions import ToolError

    try:
        return call()
    except AssistantError as e:
        raise ToolError(str(e).splitlines()[0]) from None


def register(server: Any, assistant: Assistant) -> None:
    """Register the tools and resources on the MCPServer ``server``."""
    answer_tools(server, assistant)
    article_tools(server, assistant)
    source_tools(server, assistant)


def answer_tools(server: Any, assistant: Assistant) -> None:
    """ask and search."""

    @server.tool(description=ASK)
    def ask(
        question: Annotated[str, Field(min_length=1, max_length=4000, description="The question.")],
        as_of: Annotated[
            str | None, Field(description="Ask as of this day (YYYY-MM-DD); later articles are not used.")
        ] = None,
        since: Annotated[
            str | None, Field(description="Only articles dated on or after this day (YYYY-MM-DD).")
        ] = None,
        until: Annotated[
            str | None, Field(description="Only articles dated on or before this day (YYYY-MM-DD).")
        ] = None,
        sources: Annotated[
            list[str] | None, Field(max_length=50, description="Only articles from these sources.")
        ] = None,
    ) -> AskResult:
        filters = Filters(tuple(sources or ()), since, until)
        return checked(lambda: ask_result(assistant.ask(question, filters=filters, as_of=as_of)))

    @server.tool(description="Search the articles' passages (hybrid keyword and vector search).")
    def search(
        query: Annotated[str, Field(min_length=1, max_length=4000)],
        k: Annotated[int, Field(ge=1, le=MAX_K, description="How many passages.")] = 5,
        since: str | None = None,
        until: str | None = None,
        sources: Annotated[list[str] | None, Field(max_length=50)] = None,
    ) -> SearchResult:
        def run() -> SearchResult:
            hits = assistant.search(query, k, Filters(tuple(sources or ()), since, until))
            return SearchResult(
                passages=[
                    Passage(
                        article_id=h.article.id,
                        title=h.article.title,
                        source=h.article.source,
                        date=h.article.date,
                        url=h.article.url,
                        score=round(h.score, 4),
                        text=h.passage.text,
                    )  # fmt: skip
                    for h in hits
                ]
            )

        return checked(run)


def article_tools(server: Any, assistant: Assistant) -> None:
    """get_article, list_articles and the article://ID resources."""
    from mcp.server.mcpserver.exceptions import ResourceNotFoundError

    @server.tool(description="One article by its id (or record id, URL or path).")
    def get_article(id: Annotated[str, Field(min_length=1, max_length=2000)]) -> Article:  # noqa: A002
        found = assistant.index.article(id)
        if found is None:
            from mcp.server.mcpserver.exceptions import ToolError

            raise ToolError(f"no article {id!r} in the index")
        return Article(
            id=found.id, title=found.title, source=found.source, date=found.date, url=found.url, text=found.text
        )

    @server.tool(description="The loaded articles, newest first, optionally those matching a query.")
    def list_articles(
        query: Annotated[str, Field(max_length=500)] = "",
        page: Annotated[int, Field(ge=1, le=100_000)] = 1,
        page_size: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 20,
    ) -> ArticleList:
        listed = checked(lambda: assistant.articles(query, (page - 1) * page_size, page_size))
        rows = [
            ArticleRow(id=r.id, title=r.title, source=r.source, date=r.date, passages=r.passages) for r in listed.rows
        ]
        return ArticleList(total=listed.total, page=page, articles=rows)

    @server.resource(
        "article://{article_id}",
        name="article",
        mime_type="text/plain",
        description="An article with its source and date.",
    )
    def article(article_id: str) -> str:
        found = assistant.index.article(article_id)
        if found is None:
            raise ResourceNotFoundError(f"no article {article_id!r} in the index")
        return f"{found.title}\n{found.source} · {found.date}\n{found.url}\n\n{found.text}"


def source_tools(server: Any, assistant: Assistant) -> None:
    """list_sources, add_source and digest."""

    @server.tool(description="The remembered feeds and pages the articles come from.")
    def list_sources() -> SourceList:
        return SourceList(sources=assistant.web.list())

    @server.tool(description="Remember a feed (RSS/Atom) or page URL as a source and fetch it now (public hosts only).")
    def add_source(url: Annotated[str, Field(min_length=8, max_length=2000, pattern=r"^https?://")]) -> AddedSource:
        def run() -> AddedSource:
            report = assistant.web.add([url]).ingest
            return AddedSource(url=url, added=len(report.added), failures=[str(f) for f in report.failures[:20]])

        return checked(run)

    @server.tool(
        description="What's new: the stories with reports since a day, each its newest report's first sentence."
    )
    def digest(
        since: Annotated[
            str | None, Field(description="YYYY-MM-DD, 'yesterday' (default), 'N days' or 'last refresh'.")
        ] = None,
        as_of: Annotated[str | None, Field(description="YYYY-MM-DD (default today).")] = None,
    ) -> DigestResult:
        found = checked(lambda: assistant.digest(since, as_of))
        return DigestResult(
            since=found.since,
            as_of=found.as_of,
            stories=[
                DigestStory(
                    title=s.title,
                    line=s.line,
                    source=s.citation.source,
                    date=s.last_day,
                    article_id=s.article_ids[0],
                    reports=s.reports,
                    new_reports=s.new_reports,
                )  # fmt: skip
                for s in found.stories
            ],
        )


def one_line(name: str, error: Exception) -> str:
    """A tool failure as one line: bad arguments by field and problem, a crash by its kind only."""
    from mcp.server.mcpserver.exceptions import UnexpectedToolError
    from pydantic import ValidationError

    cause = error.__cause__
    if isinstance(error, UnexpectedToolError):
        return f"internal error in {name} ({type(cause or error).__name__})"
    if isinstance(cause, ValidationError):
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in cause.errors()[:5]]
        return f"invalid arguments for {name}: " + "; ".join(problems)
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def build_server(assistant: Assistant) -> Any:
    """The MCP server (the official SDK's ``MCPServer``) over ``assistant``, its tool errors one line each."""
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    class NewsServer(MCPServer):  # type: ignore[misc]
        async def call_tool(self, name: str, arguments: dict[str, Any], context: Any = None) -> Any:
            try:
                return await super().call_tool(name, arguments, context)
            except ToolError as e:
                raise ToolError(one_line(name, e)) from e

    server = NewsServer(
        "news-assistant",
        title="News assistant",
        instructions="Answers questions from a pile of news articles; every sentence of an answer is checked "
        "against the passage it cites. Use ask for answers, search for passages.",
        version=__version__,
        log_level="WARNING",
    )
    register(server, assistant)
    return server
