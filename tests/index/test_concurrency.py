"""Many writers and readers on one index, across real processes: nothing is lost or overwritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index import Article, IndexBusyError, IndexChangedError, IndexSettings, Manifest, NewsIndex, PassageStore
from index.disk.writelock import WriteLock, holder
from tests.conftest import ROOT
from tests.helpers.processes import kill_when

BIN = Path(sys.executable).parent


def stories(prefix: str, n: int) -> list[dict[str, str]]:
    """Short made-up articles with distinct topics, one JSON record each."""
    return [
        {
            "id": f"{prefix}-{i}",
            "title": f"{prefix.title()} report {i}",
            "text": f"The {prefix} council approved plan number {i} on Monday. "
            f"Residents of {prefix} district {i} said the plan would change bus routes.",
        }
        for i in range(n)
    ]


def write_jsonl(path: Path, records: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def unit(seed: int, dimension: int = 8) -> np.ndarray:
    v = np.random.default_rng(seed).standard_normal((1, dimension)).astype(np.float32)
    return v / np.linalg.norm(v)


def tiny_store(directory: Path) -> PassageStore:
    store = PassageStore(directory, Manifest("test", "fp", 8, {}))
    store.add(Article(text="A first short story.", key="a"), [(0, 20)], unit(0))
    store.save()
    return store


def test_a_save_onto_a_newer_generation_is_refused(tmp_path: Path) -> None:
    tiny_store(tmp_path / "idx")
    first, second = PassageStore.load(tmp_path / "idx"), PassageStore.load(tmp_path / "idx")
    first.add(Article(text="Another story here.", key="b"), [(0, 18)], unit(1))
    first.save()
    second.add(Article(text="A third story here.", key="c"), [(0, 19)], unit(2))
    with pytest.raises(IndexChangedError, match="nothing was overwritten"):
        second.save()
    assert set(PassageStore.load(tmp_path / "idx").docs.keys()) == {"a", "b"}


HOLD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    sys.path.insert(0, sys.argv[1])
    from index.disk.writelock import WriteLock
    with WriteLock(Path(sys.argv[2])):
        Path(sys.argv[3]).write_text("holding")
        time.sleep(120)
""")


def test_the_write_lock_names_its_holder_and_dies_with_it(tmp_path: Path) -> None:
    directory, flag, script = tmp_path / "idx", tmp_path / "flag", tmp_path / "hold.py"
    script.write_text(HOLD)
    proc = subprocess.Popen([sys.executable, str(script), str(ROOT), str(directory), str(flag)])
    try:
        deadline = time.monotonic() + 30
        while not flag.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the holder never took the lock"
            time.sleep(0.05)
        assert holder(directory)["pid"] == proc.pid
        with pytest.raises(IndexBusyError, match=f"process {proc.pid} .*hold.py"):
            WriteLock(directory, wait=False).acquire()
        heard: list[str] = []
        with pytest.raises(IndexBusyError):
            WriteLock(directory, wait=0.3, on_wait=heard.append).acquire()
        assert len(heard) == 1 and str(proc.pid) in heard[0]
    finally:
        kill_when(proc, lambda: True, "the kill")  # kill -9 while it holds the lock
    with WriteLock(directory, wait=5):  # the kernel released it with the process
        assert holder(directory)["pid"] == os.getpid()


def test_gc_keeps_temporary_folders_of_live_processes(tmp_path: Path) -> None:
    store = tiny_store(tmp_path / "idx")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = tmp_path / "idx" / f".tmp-{sleeper.pid}-abc"
        dead = tmp_path / "idx" / ".tmp-999999999-abc"
        live.mkdir(), dead.mkdir()
        store.add(Article(text="Another story here.", key="b"), [(0, 18)], unit(1))
        store.save()
        assert live.is_dir() and not dead.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


@pytest.mark.slow
def test_concurrent_ingests_and_a_killed_writer_lose_nothing(tmp_path: Path) -> None:
    """Three `assistant ingest` processes into one index at once, and a fourth killed -9 while it
    holds the lock: every article of the three is there afterwards."""
    directory = tmp_path / "idx"
    env = {**os.environ, "ASSISTANT_INDEX": str(directory)}
    files = [write_jsonl(tmp_path / f"{name}.jsonl", stories(name, 12)) for name in ("harbour", "valley", "market")]
    victim = subprocess.Popen(
        [str(BIN / "assistant"), "ingest", str(write_jsonl(tmp_path / "lost.jsonl", stories("lost", 400)))],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    kill_when(victim, lambda: holder(directory).get("pid") == victim.pid, "taking the write lock", timeout=120)
    run = [str(BIN / "assistant"), "ingest"]
    pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True, "env": env}
    procs = [subprocess.Popen([*run, str(f)], **pipes) for f in files]  # type: ignore[call-overload]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], outputs  # (the waiting message: the lock test)
    store = PassageStore.load(directory)
    expected = {f"{name}-{i}" for name in ("harbour", "valley", "market") for i in range(12)}
    assert expected <= set(store.docs.keys()), f"lost: {sorted(expected - set(store.docs.keys()))}"
    assert [p.name for p in directory.iterdir() if p.name.startswith(".tmp-")] == []


@pytest.mark.slow
def test_a_serving_process_sees_new_articles_and_never_saves_over_them(tmp_path: Path, embedder: Any) -> None:
    """A server (this process) has the index open; another process ingests into it. The server
    answers from the new articles at its next question, and its own upload keeps them."""
    from assistant import Assistant, Settings

    directory = tmp_path / "idx"
    server = Assistant.build([write_jsonl(tmp_path / "first.jsonl", stories("harbour", 5))], directory, Settings())
    assert server.index.manifest.articles == 5
    other = subprocess.run(
        [str(BIN / "assistant"), "ingest", str(write_jsonl(tmp_path / "more.jsonl", stories("orchard", 5)))],
        env={**os.environ, "ASSISTANT_INDEX": str(directory)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert other.returncode == 0, other.stderr
    answer = server.ask("What did the orchard council approve?")
    assert answer.citations and "orchard" in answer.citations[0].title.lower()
    upload = write_jsonl(tmp_path / "upload.jsonl", stories("canyon", 1))
    server.add_upload(upload, "upload.jsonl")
    assert PassageStore.load(directory).manifest.articles == 11


def test_a_question_reads_one_generation_while_another_writer_publishes(tmp_path: Path, embedder: Any) -> None:
    directory = tmp_path / "idx"
    reader = NewsIndex.open(directory, embedder, IndexSettings(), create=True)
    reader.add([Article(text="The harbour council approved a new ferry.", title="Ferry", key="f")])
    pinned = reader.snapshot()
    writer = NewsIndex.open(directory, embedder)
    writer.remove(["f"])
    writer.add([Article(text="The valley council closed the old mill.", title="Mill", key="m")])
    assert [h.article.key for h in pinned.search("ferry")] == ["f"], "a pinned question keeps its generation"
    assert reader.refresh() and [h.article.key for h in reader.search("mill")] == ["m"]
    assert not reader.refresh(), "nothing new: no reload"
