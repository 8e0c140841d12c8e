"""Test sets for evaluation: JSONL or CSV files of questions with optional references.

One case per JSONL line (or CSV row)::

    {"id": "q1", "question": "...", "reference_answer": "..." | ["...", "..."],
     "reference_article_ids": ["..."], "reference_passages": ["..."], "answerable": true,
     "metadata": {...}}

Only ``question`` is required (``id`` defaults to the line number). Reference articles are named
by the article's own id from its source (the ``id``/``doc_id`` of a JSONL record, else its URL,
else its file path) or by the index's content id. In CSV, list fields hold a JSON list or a single
value, ``answerable`` is true/false, ``metadata`` a JSON object.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from index import AssistantError


class TestSetError(AssistantError):
    """A test set file that cannot be used; the message names every bad line."""

    __test__ = False  # not a pytest class


class TestCase(BaseModel):
    """One question of a test set, with what a good answer should find or say."""

    model_config = ConfigDict(extra="forbid")
    __test__ = False  # not a pytest class

    id: str
    question: str = Field(min_length=1)
    reference_answer: list[str] = Field(default_factory=list, description="Acceptable answers (any one counts).")
    reference_article_ids: list[str] = Field(default_factory=list)
    reference_passages: list[str] = Field(default_factory=list)
    answerable: bool = True
    metadata: dict[str, Any] = Field(default_factory=dict)

    @field_validator("reference_answer", "reference_article_ids", "reference_passages", mode="before")
    @classmethod
    def _as_list(cls, value: Any) -> Any:
        if value is None:
            return []
        return [value] if isinstance(value, str) else value

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("question is blank")
        return value.strip()


def _csv_value(name: str, value: str) -> Any:
    value = value.strip()
    if name in ("reference_answer", "reference_article_ids", "reference_passages"):
        if value.startswith("["):
            return json.loads(value)
        return [value] if value else []
    if name == "answerable":
        if value.lower() in ("", "true", "1", "yes"):
            return True
        if value.lower() in ("false", "0", "no"):
            return False
        raise ValueError(f"answerable must be true or false, not {value!r}")
    if name == "metadata":
        return json.loads(value) if value else {}
    return value


def _rows(path: Path) -> list[tuple[int, Any]]:
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        rows: list[tuple[int, Any]] = []
        reader = csv.DictReader(text.splitlines())
        for row in reader:
            rows.append((reader.line_num, row))
        return rows
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def load_testset(path: str | Path) -> list[TestCase]:
    """All cases of a ``.jsonl`` or ``.csv`` test set. Every line is checked; if any is bad,
    :class:`TestSetError` lists each bad line with its number and what is wrong."""
    path = Path(path)
    if path.suffix.lower() not in (".jsonl", ".csv"):
        raise TestSetError(f"{path}: a test set is a .jsonl or .csv file")
    try:
        rows = _rows(path)
    except (OSError, UnicodeDecodeError) as e:
        raise TestSetError(f"{path}: cannot read the test set: {e}") from e
    cases: list[TestCase] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for line, raw in rows:
        try:
            if isinstance(raw, str):
                data = json.loads(raw)
                if not isinstance(data, dict):
                    raise ValueError("expected a JSON object")
            else:
                data = {k: _csv_value(k, v or "") for k, v in raw.items() if k is not None}
            data.setdefault("id", str(line))
            data["id"] = str(data["id"])
            case = TestCase.model_validate(data)
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or 'line'}: {err['msg']}" for err in e.errors())
            errors.append(f"line {line}: {problems}")
            continue
        except ValueError as e:  # bad JSON, or a bad CSV value
            errors.append(f"line {line}: {e}")
            continue
        if case.id in seen:
            errors.append(f"line {line}: id {case.id!r} repeats line {seen[case.id]}")
            continue
        seen[case.id] = line
        cases.append(case)
    if errors:
        raise TestSetError(f"{path}: {len(errors)} bad line(s):\n  " + "\n  ".join(errors))
    if not cases:
        raise TestSetError(f"{path}: the test set has no questions")
    return cases


def write_testset(cases: Sequence[TestCase], path: str | Path) -> None:
    """Write cases as JSONL (the format :func:`load_testset` reads)."""
    with Path(path).open("w", encoding="utf-8") as f:
        for case in cases:
            f.write(case.model_dump_json(exclude_defaults=False) + "\n")
