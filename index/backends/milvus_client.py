"""Milvus connections and the collection's settings: one client per URI in a process, the manifest
entry of a new collection, and the terms Milvus' BM25 reads (see :mod:`index.milvus_backend`)."""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from index.errors import ConfigurationError, IndexBusyError
from index.language.words import terms

JOINED_TERMS = "joined-v2"  # the store entry's "terms" when compound words are joined by "_"
_COMPOUND = str.maketrans({"-": "_", "'": "_", "\u2019": "_"})


def milvus_terms(text: str, joined: bool = True) -> str:
    """``text``'s keyword terms as Milvus' analyzer should read them: the FAISS store's terms, with
    compound words ("covid-19", "o'brien") joined by "_", which Milvus' standard tokenizer keeps
    whole (it splits words at "-" and "'"). Collections made before that (no ``terms`` entry in the
    manifest's store) are queried without joining, as they were written."""
    words = terms(text)
    return " ".join(w.translate(_COMPOUND) for w in words) if joined else " ".join(words)


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def milvus_settings(directory: Path, uri: str) -> dict[str, object]:
    """The manifest's ``store`` entry for a new index at ``directory`` kept in Milvus at ``uri``:
    a Milvus Lite file (``….db``) or ``milvus://host:port``, either with ``?index=…`` naming the
    vector index and its parameters (FLAT: exact; HNSW with ``M``, ``efConstruction``, ``ef``;
    IVF_FLAT with ``nlist``, searched with ``nprobe``). Without it the index follows the size: FLAT,
    then HNSW past ``approximate_above`` passages (:meth:`MilvusBackend.use_vector_index`)."""
    parts = urlsplit(uri)
    options = dict(parse_qsl(parts.query))
    if parts.scheme == "milvus":
        address = f"http://{parts.netloc}"
    elif parts.path.endswith(".db") and not parts.scheme:
        address = str(Path(parts.path).expanduser().resolve())
    else:
        raise ConfigurationError(f"store {uri!r}: use a Milvus Lite file (….db) or milvus://host:port")
    name = f"news_{hashlib.sha256(str(directory.resolve()).encode()).hexdigest()[:16]}"
    chosen = options.pop("index", "").upper()
    if chosen not in ("", "FLAT", "HNSW", "IVF_FLAT"):
        raise ConfigurationError(f"store {uri!r}: index must be FLAT, HNSW or IVF_FLAT")
    return {
        "kind": "milvus",
        "uri": address,
        "collection": name,
        "index_type": chosen or "FLAT",
        "params": options,
        "terms": JOINED_TERMS,
        "auto": not chosen,  # the vector index follows the size (see use_vector_index)
    }


def milvus_client(uri: str) -> Any:
    """One client per URI in a process (Milvus Lite opens its file once)."""
    with _clients_lock:
        if uri not in _clients:
            from pymilvus import MilvusClient
            from pymilvus.exceptions import MilvusException

            try:
                _clients[uri] = MilvusClient(uri, token=os.environ.get("MILVUS_TOKEN", ""))
            except MilvusException as error:
                if uri.startswith(("http://", "https://")):
                    raise ConfigurationError(f"cannot reach the Milvus server at {uri}: {error}") from None
                if _lite_file_locked(Path(uri)):
                    raise IndexBusyError(
                        f"cannot open the Milvus Lite file {uri}: another process has it open (Milvus Lite "
                        "serves one process per file; run a Milvus server, milvus://host:port, to read and "
                        "write from several processes)"
                    ) from None
                raise ConfigurationError(f"cannot open the Milvus Lite file {uri}: {error}") from None
        return _clients[uri]


def _lite_file_locked(path: Path) -> bool:
    """Whether another process holds Milvus Lite's lock on ``path`` (an advisory flock on its LOCK file)."""
    try:
        with (path / "LOCK").open("rb") as f:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(f, fcntl.LOCK_UN)
    except BlockingIOError:
        return True
    except OSError:  # no LOCK file: not opened yet
        return False
    return False


@contextmanager
def quiet_server_log() -> Iterator[None]:
    """Milvus Lite's embedded server lacks AllocTimestamp, which pymilvus calls while it waits for
    an index to be built; the call fails harmlessly but the server logs a traceback: keep it quiet."""
    server_log = logging.getLogger("grpc._server")
    level = server_log.level
    server_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        server_log.setLevel(level)
