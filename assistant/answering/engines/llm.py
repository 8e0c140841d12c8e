"""Written answers from an LLM: the ``openai`` and ``local`` engines.

Both talk to an OpenAI-compatible chat endpoint through llama-index's ``OpenAILike`` (given
explicitly, never llama-index's global ``Settings``). ``openai`` uses the endpoint in
``llm.base_url``; ``local`` starts llama.cpp's own OpenAI-compatible server (the prebuilt
``xllamacpp`` wheel) on 127.0.0.1 inside this process and uses that. One code path then covers
prompting, streaming, timeouts and errors for both, and llama.cpp's server keeps the prompt cache
for the fixed instructions between questions.

The prompt holds the fixed instructions first, then the evidence, then the question. The evidence
is, by default (``llm.evidence = sentences``), the best ``llm.evidence_sentences`` sentences (the
selector's, ordered by the answer model: :mod:`.reading`) under their article's number, title and
date (~250 tokens: a fast first token on a CPU, and a small model reads only what likely answers);
with ``passages``, the passages cut to their sentences closest to the question within
``llm.evidence_tokens``. Citations are attached and checked
afterwards (:mod:`.citations`). Small models refuse too readily and write what the passages don't
support: when nothing the model wrote holds, the pipeline drafts again with its fallback engine (the
extractive one, composed by the facade when ``llm.fallback`` is on).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from assistant.answering.answer import heading
from assistant.answering.citations import NOT_IN_ARTICLES
from assistant.answering.engines.base import Draft, DraftRequest
from assistant.answering.engines.candidates import Candidate
from assistant.answering.engines.extractive import ExtractiveEngine
from assistant.settings import Engine, Evidence, LLMSettings, Settings
from index import ConfigurationError, Hit, ModelBackendError, sentence_spans
from index.language.words import keywords
from prompts import Prompt, load_prompt

log = logging.getLogger(__name__)

ANSWER_PROMPT = "grounded_answer"
SHORT_PROMPT = "short_answer"
REWRITE_PROMPT = "rewrite_question"
CHARS_PER_TOKEN = 3.5  # a cautious average for English news text in Qwen/Llama tokenizers


def estimate_tokens(text: str) -> int:
    return int(len(text) / CHARS_PER_TOKEN) + 1


def select_evidence(question: str, hits: Sequence[Hit], budget_tokens: int) -> dict[int, str]:
    """Per hit index, the passage cut to its sentences most related to the question (in reading
    order, gaps shown as "…"), within ``budget_tokens`` in all. A sentence that shares words with
    the question goes first; the one after it comes next (facts often follow the topic sentence)."""
    wanted = keywords(question)
    rows = []  # (score, hit, start, end)
    for h, hit in enumerate(hits):
        spans = sentence_spans(hit.passage.text)
        for i, (s, e) in enumerate(spans):
            overlap = len(wanted & keywords(hit.passage.text[s:e]))
            before = len(wanted & keywords(hit.passage.text[spans[i - 1][0] : spans[i - 1][1]])) if i else 0
            rows.append((overlap + 0.5 * bool(before) - 0.05 * h, h, s, e))
    rows.sort(key=lambda r: -r[0])
    chosen: dict[int, list[tuple[int, int]]] = {}
    used = 0
    for _, h, s, e in rows:
        cost = estimate_tokens(hits[h].passage.text[s:e])
        if used + cost > budget_tokens:
            continue
        chosen.setdefault(h, []).append((s, e))
        used += cost
    out = {}
    for h in sorted(chosen):
        text, spans = hits[h].passage.text, sorted(chosen[h])
        parts, last = [], None
        for s, e in spans:
            if last is not None and text[last:s].strip():
                parts.append("…")
            parts.append(" ".join(text[s:e].split()))
            last = e
        out[h] = " ".join(parts)
    return out


def passages_block(hits: Sequence[Hit], evidence: dict[int, str]) -> str:
    rows = []
    for h, text in evidence.items():
        a = hits[h].article
        head = heading(a.title, a.source, a.date)
        rows.append(f"[{h + 1}] {head}\n{text}")
    return "\n\n".join(rows)


def sentences_block(hits: Sequence[Hit], chosen: Sequence[Candidate]) -> str:
    """The chosen sentences under their passage's number, title, source and date, in reading order
    (a gap between two sentences shown as "…"); passages in the order they were retrieved."""
    by_hit: dict[int, list[Candidate]] = {}
    for c in chosen:
        by_hit.setdefault(c.hit_index, []).append(c)
    rows = []
    for h in sorted(by_hit):
        a = hits[h].article
        head = heading(a.title, a.source, a.date)
        parts: list[str] = []
        last = None
        for c in sorted(by_hit[h], key=lambda c: c.start):
            if last is not None and a.text[last : c.start].strip():
                parts.append("…")
            parts.append(" ".join(c.text.split()))
            last = c.end
        rows.append(f"[{h + 1}] {head}\n{' '.join(parts)}")
    return "\n\n".join(rows)


def build_messages(prompt: Prompt, question: str, hits: Sequence[Hit], settings: LLMSettings) -> list[tuple[str, str]]:
    """The chat messages for ``question``: passages trimmed so the prompt and the answer fit the
    context window (the instructions are never trimmed)."""
    fixed = sum(
        estimate_tokens(t) for _, t in prompt.messages(not_in_articles=NOT_IN_ARTICLES, passages="", question=question)
    )
    room = settings.context_size - settings.max_tokens - fixed - 64
    if room < 64:
        raise ConfigurationError(
            f"llm.context_size {settings.context_size} leaves no room for passages after the instructions and "
            f"llm.max_tokens {settings.max_tokens}; raise llm.context_size or lower llm.max_tokens"
        )
    evidence = select_evidence(question, hits, min(settings.evidence_tokens, room))
    return prompt.messages(not_in_articles=NOT_IN_ARTICLES, passages=passages_block(hits, evidence), question=question)


class ChatClient:
    """Streams chat completions from an OpenAI-compatible endpoint, with clear errors."""

    def __init__(self, base_url: str, model: str, api_key: str, settings: LLMSettings, setting: str) -> None:
        try:
            import httpx
            from llama_index.llms.openai_like import OpenAILike
        except ImportError as e:  # pragma: no cover
            raise ImportError("the openai engine needs pip install 'llama-index-llms-openai-like'") from e
        self.settings = settings
        self.setting = setting  # the setting to name in errors: llm.base_url or llm.model_path
        self.base_url = base_url
        self.model = model
        timeout = httpx.Timeout(settings.timeout_s, connect=settings.connect_timeout_s)
        self.llm = OpenAILike(
            model=model,
            api_base=base_url,
            api_key=api_key or "none",
            is_chat_model=True,
            context_window=settings.context_size,
            max_tokens=settings.max_tokens,
            temperature=settings.temperature,
            max_retries=0,
            timeout=settings.timeout_s,
            http_client=httpx.Client(timeout=timeout),
        )

    def stream(self, messages: list[tuple[str, str]]) -> Iterator[str]:
        """Yield the answer's text pieces; raise ModelBackendError on any failure or timeout."""
        from llama_index.core.llms import ChatMessage

        chat = [ChatMessage(role=role, content=text) for role, text in messages]
        deadline = time.monotonic() + self.settings.timeout_s
        try:
            for response in self.llm.stream_chat(chat):
                if response.delta:
                    yield response.delta
                if time.monotonic() > deadline:
                    raise ModelBackendError(
                        f"the model took longer than llm.timeout_s = {self.settings.timeout_s} s; "
                        "raise it or use a smaller model"
                    )
        except ModelBackendError:
            raise
        except Exception as e:
            raise ModelBackendError(self._explain(e)) from e

    def complete(self, messages: list[tuple[str, str]]) -> str:
        return "".join(self.stream(messages)).strip()

    def _explain(self, e: Exception) -> str:
        name = type(e).__name__
        if "Connection" in name or "Connect" in str(e):
            return f"cannot reach the model endpoint {self.base_url} (setting {self.setting}): {e}"
        if "Timeout" in name:
            return f"the model endpoint {self.base_url} did not answer within llm.timeout_s / llm.connect_timeout_s"
        if "NotFound" in name:
            return f"the endpoint {self.base_url} has no model {self.model!r} (setting llm.model): {e}"
        if "Authentication" in name or "PermissionDenied" in name:
            return f"the endpoint {self.base_url} refused the API key (setting llm.api_key_env): {e}"
        return f"the model endpoint {self.base_url} failed ({self.setting}): {name}: {e}"


class LLMEngine:
    """Drafts a written answer with an LLM behind an OpenAI-compatible chat endpoint; reads the
    sentences the extractive engine's selector ranks best (or the passages)."""

    def __init__(
        self,
        name: str,
        client: ChatClient,
        settings: LLMSettings,
        extractive: ExtractiveEngine,
        closer: Callable[[], None] | None = None,
    ):
        self.name = name
        self.client = client
        self.settings = settings
        self.model = client.model
        self.extractive = extractive
        short = settings.evidence == Evidence.SENTENCES
        self.answer_prompt = load_prompt(SHORT_PROMPT if short else ANSWER_PROMPT)
        self.rewrite_prompt = load_prompt(REWRITE_PROMPT)
        self.prompt = self.answer_prompt.id
        self._closer = closer

    def messages(self, request: DraftRequest, hits: list[Hit]) -> list[tuple[str, str]]:
        """The chat messages: the best sentences (the selector's, ordered by the answer model when it
        is on), or the trimmed passages."""
        if self.settings.evidence == Evidence.PASSAGES:
            return build_messages(self.answer_prompt, request.question, hits, self.settings)
        ranked, _ = self.extractive.rank(request.question, hits, request.vector, request.sentence_vectors)
        if self.extractive.settings.answer_model:  # the answer model's order of the selector's best
            ranked = self.extractive.reader.read(request.question, ranked, hits)

        def likely(c: Candidate) -> bool:
            if c.reading is not None:
                return c.reading.probability >= self.extractive.reader.floor()
            return c.score >= self.extractive.floor

        # the best three always (the model may see what the selector missed), more only when likely to answer
        chosen = [c for i, c in enumerate(ranked[: self.settings.evidence_sentences]) if i < 3 or likely(c)]
        return self.answer_prompt.messages(
            not_in_articles=NOT_IN_ARTICLES, passages=sentences_block(hits, chosen), question=request.question
        )

    def preload(self) -> None:
        """The evidence sentences are the extractive engine's: load its models ahead."""
        self.extractive.preload()

    def draft(self, request: DraftRequest) -> Iterator[str | Draft]:
        hits = list(request.hits)
        if not hits:
            yield NOT_IN_ARTICLES
            yield Draft(NOT_IN_ARTICLES, hits)
            return
        pieces = []
        for piece in self.client.stream(self.messages(request, hits)):
            pieces.append(piece)
            yield piece
        yield Draft("".join(pieces).strip(), hits)

    def rewrite(self, question: str, history: Sequence[tuple[str, str]]) -> str:
        """A standalone form of the follow-up ``question``, written by the model."""
        turns = "\n".join(f"User: {q}\nAssistant: {a}" for q, a in history[-3:])
        text = self.client.complete(self.rewrite_prompt.messages(history=turns, question=question))
        text = text.strip().strip('"').splitlines()[0].strip() if text.strip() else ""
        return text if 3 <= len(text) <= 4 * len(question) + 200 else question

    def close(self) -> None:
        if self._closer:
            self._closer()


# ---- the local engine: llama.cpp's server inside this process ------------------------------------
def check_gguf(path: Path | None) -> Path:
    """The model path, or a ConfigurationError naming llm.model_path."""
    if path is None:
        raise ConfigurationError("answer.engine=local needs llm.model_path: the path of a GGUF model file")
    path = Path(path).expanduser()
    if not path.is_file():
        raise ConfigurationError(f"llm.model_path {path} does not exist (a GGUF model file is needed)")
    with path.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ConfigurationError(f"llm.model_path {path} is not a GGUF model file (no GGUF header)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """llama.cpp's OpenAI-compatible server (xllamacpp) on 127.0.0.1 and a free port, in-process."""

    def __init__(self, path: Path, settings: LLMSettings) -> None:
        # OpenMP spin-waiting made llama.cpp ~7x slower on 2 cores; must be set before it loads
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            import xllamacpp
        except ImportError as e:
            raise ImportError("the local engine needs llama.cpp: pip install 'news-assistant[local]'") from e
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_parallel = settings.parallel
        params.n_ctx = settings.context_size * settings.parallel  # each slot gets context_size
        params.cpuparams.n_threads = settings.threads
        params.cpuparams_batch.n_threads = settings.threads
        params.port = _free_port()
        params.cache_prompt = True
        params.verbosity = -1
        started = time.perf_counter()
        try:
            self._server = xllamacpp.Server(params)
        except Exception as e:
            raise ModelBackendError(f"llama.cpp could not load llm.model_path {path}: {e}") from e
        self.base_url = f"{self._server.listening_address}/v1"
        log.info(
            "llama.cpp serves %s at %s (loaded in %.1f s)", path.name, self.base_url, time.perf_counter() - started
        )

    def close(self) -> None:
        self.__dict__.pop("_server", None)


def create_openai(settings: Settings, embed: Callable[[list[str]], Any]) -> LLMEngine:
    llm = settings.llm
    if not llm.base_url:
        raise ConfigurationError("answer.engine=openai needs llm.base_url, e.g. http://127.0.0.1:8080/v1")
    if not llm.model:
        raise ConfigurationError("answer.engine=openai needs llm.model: the model name the endpoint serves")
    client = ChatClient(llm.base_url, llm.model, os.environ.get(llm.api_key_env, ""), llm, "llm.base_url")
    return LLMEngine(Engine.OPENAI.value, client, llm, ExtractiveEngine(settings.answer, embed))


def create_local(settings: Settings, embed: Callable[[list[str]], Any]) -> LLMEngine:
    llm = settings.llm
    path = check_gguf(llm.model_path)
    server = LocalServer(path, llm)
    client = ChatClient(server.base_url, path.name, "", llm, "llm.model_path")
    return LLMEngine(Engine.LOCAL.value, client, llm, ExtractiveEngine(settings.answer, embed), server.close)
