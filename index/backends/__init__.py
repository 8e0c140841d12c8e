"""Search backends: the protocol, FAISS with BM25 files, Milvus, the keyword index, the old format reader."""
