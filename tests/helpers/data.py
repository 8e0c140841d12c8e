"""Third-party articles the tests read from ../shared (never copied into the project)."""

from __future__ import annotations

import gzip
import json

from index import Article
from tests.conftest import SHARED
from tests.helpers.shared import needs_shared

BBC = SHARED / "datasets" / "bbc-news" / "bbc_news.jsonl.gz"


def bbc_articles() -> list[Article]:
    needs_shared(BBC, "the BBC articles")
    rows = [json.loads(line) for line in gzip.open(BBC, "rt", encoding="utf-8")][::45][:50]
    return [
        Article(
            text=r["body"],
            title=r["title"],
            key=r["id"],
            source=f"BBC {r['category']}",
            date=f"2005-01-{1 + i % 28:02d}",
        )
        for i, r in enumerate(rows)
    ]
