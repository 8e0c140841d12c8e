"""The FAISS store on disk: round trip, remove, corruption, atomic writes under SIGKILL."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index import Article, IndexCorruptError, IndexNotFoundError, Manifest, PassageStore
from tests.processes import kill_when

DIM = 8


def new_store(directory: Path) -> PassageStore:
    return PassageStore(
        directory, Manifest(embed_model="test", embed_fingerprint="f", dimension=DIM, chunk={"max_tokens": 10})
    )


def unit(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=(1, DIM)).astype(np.float32)
    return v / np.linalg.norm(v)


def article(n: int) -> Article:
    return Article(text=f"Story number {n}. It has two sentences.", title=f"Story {n}", key=f"k{n}")


def test_round_trip_keeps_articles_passages_and_vectors(tmp_path: Path) -> None:
    store = new_store(tmp_path / "idx")
    for n in range(3):
        store.add(article(n), [(0, 15), (16, 37)], np.vstack([unit(n), unit(100 + n)]))
    store.save("9.9")
    loaded = PassageStore.load(tmp_path / "idx")
    assert loaded.manifest.articles == 3 and loaded.manifest.passages == 6
    assert loaded.manifest.package_version == "9.9"
    assert loaded.articles == store.articles and loaded.spans == store.spans
    [(pid, score)] = loaded.search(unit(101)[0], 1)
    assert loaded.passage(pid).text == "It has two sentences." and score == pytest.approx(1.0, abs=1e-5)
    assert loaded.passage(pid).article_id == article(1).id


def test_remove_drops_vectors_and_new_ids_never_reuse_live_ones(tmp_path: Path) -> None:
    store = new_store(tmp_path / "idx")
    store.add(article(0), [(0, 16)], unit(0))
    store.add(article(1), [(0, 16)], unit(1))
    assert store.remove(article(0).id) and not store.remove(article(0).id)
    store.save()
    loaded = PassageStore.load(tmp_path / "idx")
    assert loaded.vectors.ntotal == 1 and list(loaded.articles) == [article(1).id]
    loaded.add(article(2), [(0, 16)], unit(2))
    assert len(set(loaded.spans)) == 2
    assert {loaded.passage(p).article_id for p, _ in loaded.search(unit(1)[0], 5)} == {article(1).id, article(2).id}


def test_missing_or_damaged_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="assistant ingest --index"):
        PassageStore.load(tmp_path / "nothing")
    store = new_store(tmp_path / "idx")
    store.add(article(0), [(0, 16)], unit(0))
    store.save()
    gen = tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text()
    good = (gen / "vectors.faiss").read_bytes()
    (gen / "vectors.faiss").write_bytes(good[:40])
    with pytest.raises(IndexCorruptError, match="vectors.faiss has 40 bytes"):
        PassageStore.load(tmp_path / "idx")
    (gen / "vectors.faiss").write_bytes(good)
    assert PassageStore.load(tmp_path / "idx").vectors.ntotal == 1
    (gen / "passages.jsonl").unlink()
    with pytest.raises(IndexCorruptError, match="lacks passages.jsonl"):
        PassageStore.load(tmp_path / "idx")


WRITER = textwrap.dedent("""
    import sys, time, os
    from pathlib import Path
    import numpy as np, faiss
    sys.path.insert(0, sys.argv[3])
    from index import Article, PassageStore
    directory, flag, _, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    store = PassageStore.load(directory)

    def stall(real):
        def wrapper(*args, **kwargs):
            real(*args, **kwargs)
            flag.write_text("in the middle of a save")
            time.sleep(120)
        return wrapper

    if where == "after-vectors":
        faiss.write_index = stall(faiss.write_index)
    else:  # after the new generation is in place, before CURRENT points at it
        Path.rename = stall(Path.rename)
    for n in range(100, 150):
        store.add(Article(text=f"Extra story {n}.", key=f"x{n}"), [(0, 12)],
                  np.ones((1, 8), dtype=np.float32) / np.sqrt(8))
    store.save()
""")


@pytest.mark.parametrize("name", ["vectors.faiss", "keyword/ids.npy", "articles.jsonl"])
def test_same_size_damage_is_found_by_checksum(tmp_path: Path, name: str) -> None:
    store = new_store(tmp_path / "idx")
    for n in range(3):
        store.add(article(n), [(0, 16)], unit(n))
    store.save()
    path = tmp_path / "idx" / store.generation / name  # type: ignore[operator]
    data = bytearray(path.read_bytes())
    at = len(data) - 64 if len(data) > 128 else 0
    data[at : at + 64] = bytes(min(64, len(data)))  # 64 zero bytes, same size as before
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=f"{name} does not match its checksum"):
        PassageStore.load(tmp_path / "idx")


@pytest.mark.parametrize("where", ["after-vectors", "after-rename"])
def test_a_writer_killed_mid_save_leaves_the_previous_index_loadable(tmp_path: Path, where: str) -> None:
    directory = tmp_path / "idx"
    store = new_store(directory)
    for n in range(3):
        store.add(article(n), [(0, 16)], unit(n))
    store.save()
    flag = tmp_path / "flag"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = str(Path(__file__).resolve().parents[1])
    proc = subprocess.Popen([sys.executable, str(script), str(directory), str(flag), root, where])
    kill_when(proc, flag.exists, "the save", timeout=60)
    loaded = PassageStore.load(directory)
    assert loaded.manifest.articles == 3 and loaded.vectors.ntotal == 3
    loaded.add(article(9), [(0, 16)], unit(9))
    loaded.save()
    assert PassageStore.load(directory).manifest.articles == 4
    leftovers = [p.name for p in directory.iterdir() if p.name not in ("CURRENT", "LOCK")]
    assert len(leftovers) == 1, f"stale generations or temp folders were not cleaned: {leftovers}"
