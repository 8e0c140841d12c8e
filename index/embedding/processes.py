"""Embedding spread over worker processes on this machine, one onnxruntime thread each.

On the 2-core development machine, int8 MiniLM runs ~15k word pieces/s in one process with two
threads, and ~22k/s in two processes with one thread each (a passage runs alone, batch 1, and one
256-word-piece run does not split well over two threads): :class:`ProcessEmbedder` is the
embedder ``local`` (its name, fingerprint and tokenizer) whose big calls are cut into one part per
process and embedded by the workers, each of which loads the same model once. Calls with fewer
than ``least`` texts (a one-article upload) run in this process until a big call comes, so a small
ingest never pays for starting the workers (~1 s); once they run, they take every call.

A worker is a Python process running :func:`serve` for ``MODEL``, talking over its stdin and stdout
(length-prefixed pickles, from and to this process only); it ends when its stdin closes, so it
never outlives the process that started it. (``multiprocessing``'s spawned workers import the
parent's main script again, which runs an unguarded script's ingest once more in each worker.)

The vectors are the in-process ones: int8 runs a passage alone, so its vector does not depend on
its batch-mates or on which worker ran it (a test compares them). Used by :meth:`NewsIndex.add`
when ``index.ingest_processes`` asks for more than one process (the Ray path, :mod:`ray_ingest`,
does the same over a cluster).
"""

from __future__ import annotations

import os
import pickle
import select
import struct
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import numpy as np

from index.embedding.embed_cache import CachedEmbedder
from index.embedding.embedder import Embedder, EmbedsSpans, usable_cpus
from index.errors import ModelBackendError
from index.settings import IndexSettings

Pooled = tuple[np.ndarray, list[list[np.ndarray]]]
_LENGTH = struct.Struct("<Q")
PIECES = 4  # pieces of a big call per worker
WORKER = "import sys; from index.embedding.processes import serve; serve(sys.argv[1])"


def _send(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(head)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 (written by the process at the other end of our own pipe)


def parts(lengths: Sequence[int], n: int) -> list[tuple[int, int]]:
    """``n`` runs of consecutive items (start, end) with about equal total ``lengths``; none empty
    (fewer runs when there are fewer items)."""
    n = max(1, min(n, len(lengths)))
    total, runs, start, acc = sum(lengths), [], 0, 0
    for i, length in enumerate(lengths):
        acc += length
        needed = n - len(runs) - 1  # runs still to cut after this one
        if needed and (acc >= total * (len(runs) + 1) / n or len(lengths) - (i + 1) == needed):
            runs.append((start, i + 1))
            start = i + 1
    runs.append((start, len(lengths)))
    return runs


class ProcessEmbedder:
    """``local`` with its big calls embedded by ``processes`` worker processes (see the module
    docstring). Close it (or use it as a context manager) to stop the workers."""

    def __init__(self, local: Embedder, processes: int, least: int = 64) -> None:
        if not hasattr(local, "embed_spans"):
            raise TypeError(f"{local.name} cannot run in worker processes (only the ONNX embedders can)")
        self.local = local
        self.name, self.fingerprint, self.dimension = local.name, local.fingerprint, local.dimension
        self.processes = processes
        self.least = least
        self._workers: list[subprocess.Popen[bytes]] = []

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.local.count_tokens(texts)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embed_spans(texts, [()] * len(texts))[0]

    def embed_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> Pooled:
        if not texts or self.processes < 2 or (not self._workers and len(texts) < self.least):
            return self.local.embed_spans(texts, spans)  # type: ignore[attr-defined,no-any-return]
        if not self._workers:
            self._start()
        # once started, the workers take every call (a few texts go to one of them: the local
        # session's two threads would spin beside them on the same cores); a big call is cut into
        # pieces handed to whichever worker is free, so none waits for a slower one
        pieces = parts([len(t) for t in texts], PIECES * len(self._workers) if len(texts) >= self.least else 1)
        results: dict[int, Pooled] = {}
        waiting = list(range(len(pieces)))
        busy: dict[int, int] = {}  # worker index -> piece index

        def hand(worker: int) -> None:
            piece = waiting.pop(0)
            a, b = pieces[piece]
            _send(self._workers[worker].stdin, (list(texts[a:b]), [list(x) for x in spans[a:b]]))  # type: ignore[arg-type]
            busy[worker] = piece

        for worker in range(min(len(self._workers), len(pieces))):
            hand(worker)
        while busy:
            ready, _, _ = select.select([self._workers[w].stdout for w in busy], [], [])
            for stream in ready:
                worker = next(w for w in busy if self._workers[w].stdout is stream)
                results[busy.pop(worker)] = self._receive_from(worker)
                if waiting:
                    hand(worker)
        vectors = np.vstack([results[i][0] for i in range(len(pieces))])
        return vectors, [row for i in range(len(pieces)) for row in results[i][1]]

    def _receive_from(self, worker: int) -> Pooled:
        try:
            result = _receive(self._workers[worker].stdout)  # type: ignore[arg-type]
        except EOFError:
            self.close()
            raise ModelBackendError("an embedding worker process ended unexpectedly") from None
        if isinstance(result[0], BaseException):
            raise ModelBackendError(f"an embedding worker failed: {result[0]}")
        return result  # type: ignore[no-any-return]

    def _start(self) -> None:
        env = os.environ | {"OMP_NUM_THREADS": "1"}  # one onnxruntime thread each (module docstring)
        command = [sys.executable, "-c", WORKER, self.local.name]
        self._workers = [
            subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
            for _ in range(self.processes)
        ]

    def close(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            if worker.stdin is not None:
                worker.stdin.close()  # the worker ends on end of input
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            if worker.stdout is not None:
                worker.stdout.close()

    def __enter__(self) -> ProcessEmbedder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextmanager
def ingest_embedder(
    embedder: Embedder, passage_embedder: Embedder, settings: IndexSettings, given: Embedder | None, least: int
) -> Iterator[Embedder | None]:
    """What embeds an ingest's passages: ``given``, else ``embedder`` spread over worker processes
    (through ``passage_embedder``, the index's embedding cache, when it is one) when
    ``settings.ingest_processes`` asks for more than one and the embedder can, else None (the
    index's own)."""
    processes = settings.ingest_processes or min(4, usable_cpus())
    if os.name == "nt":  # the workers' pipes are waited on with select(), which Windows keeps for sockets
        processes = 1
    if given is not None or processes < 2 or not isinstance(embedder, EmbedsSpans):
        yield given
        return
    with ProcessEmbedder(embedder, processes, least) as spread:
        if isinstance(passage_embedder, CachedEmbedder):
            with passage_embedder.embedding_with(spread) as cached:
                yield cached
        else:
            yield spread


def serve(model: str) -> None:
    """A worker: embed each (texts, spans) read from stdin, write (vectors, pooled) to stdout."""
    from index.embedding.embedder import load_embedder

    embedder = load_embedder(model)
    source, sink = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write into the pipe
    while True:
        try:
            texts, spans = _receive(source)
        except EOFError:
            return
        try:
            result: Any = embedder.embed_spans(texts, spans)  # type: ignore[attr-defined]
        except Exception as e:  # noqa: BLE001 (handed back whole)
            result = (ModelBackendError(str(e)), [])
        _send(sink, result)
