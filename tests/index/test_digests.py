"""Issue 38: a file's checksum is read once; an unchanged file (size, modification time, inode) is
not read again at the next start, and `assistant check` reads everything again."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import index.disk.files as files
from assistant.checks import check_index
from index import Article, IndexCorruptError, PassageStore, full_checksums
from index.disk.files import known_digest


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Digests recorded in a file of this test; the paths actually read."""
    monkeypatch.setenv("ASSISTANT_DIGESTS", str(tmp_path / "digests.json"))
    monkeypatch.setattr(files, "_digests", None)
    reads: list[Path] = []
    real = files.file_digest
    monkeypatch.setattr(files, "file_digest", lambda path: reads.append(path) or real(path))
    return reads


def test_an_unchanged_file_is_read_once_and_a_changed_one_again(tmp_path: Path, recorded: list[Path]) -> None:
    path = tmp_path / "weights.bin"
    path.write_bytes(b"a" * 1000)
    first = known_digest(path)
    assert known_digest(path) == first and recorded == [path]
    files._digests = None  # a new process reads the record from disk
    assert known_digest(path) == first and recorded == [path]
    path.write_bytes(b"b" * 1000)  # same size, new content and modification time
    assert known_digest(path) != first and recorded == [path, path]
    with full_checksums():
        known_digest(path)
    assert len(recorded) == 3


def test_check_reads_every_file_again_and_finds_what_an_open_trusts(tmp_path: Path, recorded: list[Path]) -> None:
    store = PassageStore(tmp_path / "idx", files_manifest())
    store.add(Article("One sentence here. And another one there.", "T", key="k"), [(0, 18)], unit())
    store.save()
    PassageStore.load(tmp_path / "idx")
    recorded.clear()
    PassageStore.load(tmp_path / "idx")
    assert recorded == [], "an unchanged index is not read again to be checked"
    gen = next(p for p in (tmp_path / "idx").iterdir() if p.name.startswith("gen-"))
    victim = next(gen.glob("*.passages.jsonl"))
    stat = victim.stat()
    data = bytearray(victim.read_bytes())
    data[3] = ord("9") if data[3] != ord("9") else ord("8")  # damage with the same size and times
    victim.write_bytes(bytes(data))
    os.utime(victim, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    with pytest.raises(IndexCorruptError, match="checksum"):
        check_index(tmp_path / "idx")


def files_manifest():  # type: ignore[no-untyped-def]
    from index import Manifest

    return Manifest(embed_model="m", embed_fingerprint="f", dimension=4, chunk={})


def unit() -> np.ndarray:
    v = np.ones((1, 4), dtype=np.float32)
    return v / np.linalg.norm(v)
