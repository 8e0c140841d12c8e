"""Embedding passages: the embedder registry, the ONNX MiniLM, its tokenizer, the on-disk cache, Ray ingest."""
