"""What the shipped ONNX cross-encoders share (the claim-support model of the judges, the answer
model of the engines): a folder with ``model.json`` recording the sha256 of the model and its
tokenizer, checked on every load, an onnxruntime session, and zero-padded batches."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.disk.files import verify_files
from index.errors import ConfigurationError

if TYPE_CHECKING:
    from tokenizers import Encoding, Tokenizer


@dataclass
class ShippedModel:
    manifest: dict[str, Any]
    session: Any
    inputs: set[str]
    tokenizer: Tokenizer

    def parts(self) -> tuple[dict[str, Any], Any, set[str], Tokenizer]:
        return self.manifest, self.session, self.inputs, self.tokenizer


def load_shipped(directory: Path, what: str, fix: str, threads: int | None = None, missing: str = "") -> ShippedModel:
    """The model in ``directory``: its manifest, files checked (``what`` and ``fix`` name it and say
    how to repair it), session and tokenizer. A missing manifest is a ConfigurationError that adds
    ``missing``."""
    manifest_path = directory / "model.json"
    if not manifest_path.is_file():
        raise ConfigurationError(f"{what} not found: {manifest_path} is missing{missing}")
    manifest = json.loads(manifest_path.read_text())
    verify_files(
        directory,
        {manifest[k]["file"]: manifest[k]["sha256"] for k in ("model", "tokenizer")},
        what,
        f"the sha256 is recorded in {manifest_path}; {fix}",
        ConfigurationError,
    )
    import onnxruntime

    from index.embedding.minilm import wordpiece_tokenizer

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or 0
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(
        str(directory / manifest["model"]["file"]), options, providers=["CPUExecutionProvider"]
    )
    tokenizer = wordpiece_tokenizer(directory / manifest["tokenizer"]["file"], manifest["max_tokens"])
    return ShippedModel(manifest, session, {i.name for i in session.get_inputs()}, tokenizer)


def padded(encodings: Sequence[Encoding]) -> dict[str, np.ndarray]:
    """A batch of encodings as zero-padded int64 arrays, the model's inputs."""
    width = max(len(e.ids) for e in encodings)
    ids = np.zeros((len(encodings), width), dtype=np.int64)
    mask, types = np.zeros_like(ids), np.zeros_like(ids)
    for row, e in enumerate(encodings):
        n = len(e.ids)
        ids[row, :n], mask[row, :n], types[row, :n] = e.ids, e.attention_mask, e.type_ids
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
