"""Answer engines for UI tests: the real extractive answer, written slowly."""

from __future__ import annotations

import time
from collections.abc import Iterator

from assistant.answering.engines.base import Draft, DraftRequest
from assistant.answering.engines.extractive import ExtractiveEngine


class SlowEngine:
    """The extractive answer, streamed a few characters every 0.4 s."""

    name, model, prompt = "slow", "slow", "none"

    def __init__(self, extractive: ExtractiveEngine) -> None:
        self.extractive = extractive

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        final = None
        for item in self.extractive.draft(request):
            final = item if isinstance(item, Draft) else final
        assert final is not None
        for i in range(0, len(final.text), 12):
            time.sleep(0.4)
            yield final.text[i : i + 12]
        yield final
