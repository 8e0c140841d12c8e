"""How the facade composes its parts: the judge that verifies answers, the fallback engine, the
day a question is asked, the paths an ingest names, the day a digest starts from, and the models a
first question needs, loaded ahead."""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from assistant.answering.engines.base import AnswerEngine, HasModel, Preloads, create_engine
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.settings import Engine, JudgeMethod, Settings
from index import ArticlesNotFoundError, Filters, InvalidRequestError, NewsIndex, missing_paths
from index.language.dates import parse_day

log = logging.getLogger(__name__)


def check_paths(paths: list[str | Path]) -> None:
    """Raise :class:`ArticlesNotFoundError` naming every path that does not exist."""
    missing = missing_paths(paths)
    if missing:
        raise ArticlesNotFoundError(f"no such file or folder: {', '.join(missing)}; nothing was added")


def dated(filters: Filters | None, as_of: str | date | None = None) -> Filters:
    """``filters`` with the day the question is asked: ``as_of``, else the one ``filters`` has,
    else today. A day that is not YYYY-MM-DD is an InvalidRequestError naming it."""
    day = as_of or (filters.as_of if filters else None) or date.today()
    if isinstance(day, str):
        try:
            day = parse_day(day)
        except ValueError as e:
            raise InvalidRequestError(f"as of: {e}") from e
    return dataclasses.replace(filters or Filters(), as_of=day.isoformat())


def judge_for(settings: Settings, engine: AnswerEngine) -> FaithfulnessJudge:
    """The judge ``answer.judge`` names; ``llm`` judges with the assistant's own chat model."""
    method = settings.answer.judge
    client = engine.client if method == JudgeMethod.LLM and isinstance(engine, HasModel) else None
    return FaithfulnessJudge(method, client=client)


def fallback_for(settings: Settings, engine: AnswerEngine, index: NewsIndex) -> AnswerEngine | None:
    """The engine drafted when nothing a writing engine wrote holds: the extractive one, with
    ``llm.fallback`` on (the engine itself when it is the extractive one)."""
    if not settings.llm.fallback:
        return None
    if engine.name == Engine.EXTRACTIVE.value:
        return engine
    extractive = settings.model_copy(
        update={"answer": settings.answer.model_copy(update={"engine": Engine.EXTRACTIVE})}
    )
    return create_engine(extractive, index.embedder.embed)


def digest_since(value: str | date | None, as_of: date, last_refresh: str = "") -> date:
    """The day a digest starts from: a day (YYYY-MM-DD), "today", "yesterday", "N days", "last
    refresh" (the day sources were last fetched), or by default the day before ``as_of``."""
    if isinstance(value, date):
        return value
    text = (value or "yesterday").strip().lower()
    if text == "today":
        return as_of
    if text == "yesterday":
        return as_of - timedelta(days=1)
    if text in {"last refresh", "last-refresh"}:
        if not last_refresh:
            raise InvalidRequestError("since last refresh: no source has been fetched yet (see `assistant sources`)")
        return date.fromisoformat(last_refresh[:10])
    if text.endswith(("days", "day")) and text.split()[0].isdigit():
        return as_of - timedelta(days=int(text.split()[0]))
    try:
        return parse_day(text)
    except ValueError as e:
        raise InvalidRequestError(f"since: {e}, 'yesterday', 'N days' or 'last refresh'") from e


def preload(embed: Callable[[list[str]], object], engine: AnswerEngine) -> threading.Thread:
    """Load in a background thread what a first question would otherwise load in turn: the embedding
    model's session (``embed`` once) and the engine's models (onnxruntime builds sessions without
    holding the GIL, so this runs beside spaCy's load). A question asked meanwhile waits only for
    what it needs next."""

    def load() -> None:
        try:
            embed(["preload"])
            if isinstance(engine, Preloads):
                engine.preload()
        except Exception as e:  # noqa: BLE001 (the question loads it again, and says what fails)
            log.debug("preload: %s", e)

    thread = threading.Thread(target=load, name="preload", daemon=True)
    thread.start()
    return thread
