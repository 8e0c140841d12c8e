"""An OpenAI-compatible HTTP API over an :class:`Assistant` (FastAPI; ``assistant api``).

``POST /v1/chat/completions``
    OpenAI's chat request: the last user message is the question, earlier user/assistant turns
    are the conversation, ``model`` picks an engine of ``GET /v1/models``. The reply's message is
    the checked answer with its ``[n]`` markers and a numbered source list (so any chat front end
    shows them). The extra field ``news_assistant`` holds the whole :class:`Answer`: citations
    (passage, offsets, title, source, date, url), each sentence with its support and whether it is
    verified, the related passages of a refusal, the searched query and timings. With
    ``"stream": true`` the reply comes as server-sent ``chat.completion.chunk`` events: the
    engine's words as it writes them, then, if checking changed them, the checked answer after a
    line "Checked against the articles:", then a last chunk with ``finish_reason`` and
    ``news_assistant``, then ``data: [DONE]``. An optional ``filters`` field (sources, since,
    until, article_ids) limits the articles searched.
``GET /v1/models``: the engines this assistant answers with.
``/v1/conversations``: saved conversations (:mod:`api.conversations`).
``POST /v1/search``: passages for ``{"query", "k", "filters"}``, best first.
``GET /v1/articles?q=&offset=&limit=``, ``POST /v1/articles`` (``{"articles": [records]}``, the
    JSON fields ``assistant ingest`` reads), ``DELETE /v1/articles/{id}``: the collection. A write
    waits up to 30 s while another process writes to the index, then answers 409.

A bearer key (``Authorization: Bearer …``) from the environment variable named by
``api.api_key_env`` is required when it is set, and the API refuses to bind beyond loopback
without one. Unknown ``Host`` headers are refused as in the web UI (:mod:`api.http`).
"""

from api.app import create_api, serve_api

__all__ = ["create_api", "serve_api"]
