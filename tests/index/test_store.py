"""The FAISS store on disk: round trip, remove, corruption, atomic writes under SIGKILL."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from index import Article, IndexCorruptError, IndexNotFoundError, Manifest, PassageStore
from index.docstore import Docstore
from index.store import MAX_SEGMENTS
from tests.helpers.processes import kill_when

DIM = 8


def same_docstore(one: Docstore, other: Docstore) -> bool:
    """The same articles and passage spans."""
    articles = [{a.id: a for a in docs.iter_articles()} for docs in (one, other)]
    spans = [{p: docs.span(p) for p in docs.passage_ids()} for docs in (one, other)]
    return articles[0] == articles[1] and spans[0] == spans[1]


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
    assert same_docstore(loaded.docs, store.docs)
    [(pid, score)] = loaded.dense_search(unit(101)[0], 1, None)
    assert loaded.passage(pid).text == "It has two sentences." and score == pytest.approx(1.0, abs=1e-3)  # float16
    assert loaded.passage(pid).article_id == article(1).id


def test_remove_drops_vectors_and_new_ids_never_reuse_live_ones(tmp_path: Path) -> None:
    store = new_store(tmp_path / "idx")
    store.add(article(0), [(0, 16)], unit(0))
    store.add(article(1), [(0, 16)], unit(1))
    assert store.remove(article(0).id) and not store.remove(article(0).id)
    store.save()
    loaded = PassageStore.load(tmp_path / "idx")
    assert loaded.backend.vectors.ntotal == 1 and list(loaded.docs.article_ids()) == [article(1).id]
    loaded.add(article(2), [(0, 16)], unit(2))
    assert len(set(loaded.docs.passage_ids())) == 2
    assert {loaded.passage(p).article_id for p, _ in loaded.dense_search(unit(1)[0], 5, None)} == {
        article(1).id,
        article(2).id,
    }


def test_missing_or_damaged_index_is_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="assistant ingest --index"):
        PassageStore.load(tmp_path / "nothing")
    store = new_store(tmp_path / "idx")
    store.add(article(0), [(0, 16)], unit(0))
    store.save()
    gen = tmp_path / "idx" / (tmp_path / "idx" / "CURRENT").read_text()
    good = (gen / "s000001.vectors.npy").read_bytes()
    (gen / "s000001.vectors.npy").write_bytes(good[:40])
    with pytest.raises(IndexCorruptError, match="s000001.vectors.npy has 40 bytes"):
        PassageStore.load(tmp_path / "idx")
    (gen / "s000001.vectors.npy").write_bytes(good)
    assert PassageStore.load(tmp_path / "idx").backend.vectors.ntotal == 1
    (gen / "s000001.passages.jsonl").unlink()
    with pytest.raises(IndexCorruptError, match="s000001.passages.jsonl is missing"):
        PassageStore.load(tmp_path / "idx")


WRITER = textwrap.dedent("""
    import sys, time, os
    from pathlib import Path
    import numpy as np
    sys.path.insert(0, sys.argv[3])
    import index.docstore
    from index import Article, PassageStore
    directory, flag, _, where = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3], sys.argv[4]
    store = PassageStore.load(directory)

    def stall(real):
        def wrapper(*args, **kwargs):
            real(*args, **kwargs)
            flag.write_text("in the middle of a save")
            time.sleep(120)
        return wrapper

    if where == "after-segment":  # the new segment written, its generation not yet renamed
        index.docstore.Docstore.write_segment = stall(index.docstore.Docstore.write_segment)
    else:  # after the new generation is in place, before CURRENT points at it
        Path.rename = stall(Path.rename)
    for n in range(100, 150):
        store.add(Article(text=f"Extra story {n}.", key=f"x{n}"), [(0, 12)],
                  np.ones((1, 8), dtype=np.float32) / np.sqrt(8))
    store.save()
""")


@pytest.mark.parametrize("name", ["s000001.vectors.npy", "s000001.keyword.npz", "s000001.articles.jsonl"])
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


@pytest.mark.parametrize("where", ["after-segment", "after-rename"])
def test_a_writer_killed_mid_save_leaves_the_previous_index_loadable(tmp_path: Path, where: str) -> None:
    directory = tmp_path / "idx"
    store = new_store(directory)
    for n in range(3):
        store.add(article(n), [(0, 16)], unit(n))
    store.save()
    flag = tmp_path / "flag"
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, str(script), str(directory), str(flag), root, where])
    kill_when(proc, flag.exists, "the save", timeout=60)
    loaded = PassageStore.load(directory)
    assert loaded.manifest.articles == 3 and loaded.backend.vectors.ntotal == 3
    loaded.add(article(9), [(0, 16)], unit(9))
    loaded.save()
    assert PassageStore.load(directory).manifest.articles == 4
    leftovers = [p.name for p in directory.iterdir() if p.name not in ("CURRENT", "LOCK")]
    assert len(leftovers) == 1, f"stale generations or temp folders were not cleaned: {leftovers}"


def files_of(directory: Path) -> dict[str, tuple[int, int]]:
    """Each file of the live generation: (inode, size)."""
    gen = directory / (directory / "CURRENT").read_text()
    return {p.name: (p.stat().st_ino, p.stat().st_size) for p in gen.iterdir()}


def test_a_save_appends_one_segment_and_links_the_published_ones(tmp_path: Path) -> None:
    directory = tmp_path / "idx"
    store = new_store(directory)
    for n in range(20):
        store.add(article(n), [(0, 15), (16, 37)], np.vstack([unit(n), unit(100 + n)]), [unit(n)] * 2)
    store.save()
    before = files_of(directory)
    store.add(article(50), [(0, 16)], unit(50), [unit(50)])
    store.save()
    after = files_of(directory)
    assert {name: after[name] for name in before if name != "manifest.json"} == {
        name: entry for name, entry in before.items() if name != "manifest.json"
    }, "the first segment's files are the same files (hard links), not rewritten"
    assert sorted(set(after) - set(before)) == [
        f"s000002.{kind}"
        for kind in (
            "articles.jsonl",
            "keyword.npz",
            "passages.jsonl",
            "sentences.f16",
            "sentences.rows.npy",
            "vectors.npy",
        )
    ]
    gen = directory / (directory / "CURRENT").read_text()
    assert np.load(gen / "s000002.vectors.npy").shape == (1, DIM), "only the new passage's vector"
    loaded = PassageStore.load(directory)
    assert loaded.manifest.segments == [1, 2] and loaded.manifest.passages == 41
    assert same_docstore(loaded.docs, store.docs)
    assert set(loaded.docs.sentence_ids()) == set(loaded.docs.passage_ids())
    assert loaded.dense_search(unit(50)[0], 1, None)[0][0] == store.docs.passage_ids_of(article(50).id)[0]
    assert [loaded.passage(p).article_id for p, _ in loaded.backend.keyword_index().search("number 50", 1)] == [
        article(50).id
    ]
    assert loaded.backend.keyword_index().live_ids() == set(loaded.docs.passage_ids())


def test_an_article_removed_then_added_again_lives_in_the_later_segment(tmp_path: Path) -> None:
    directory = tmp_path / "idx"
    store = new_store(directory)
    for n in range(6):
        store.add(article(n), [(0, 16)], unit(n))
    store.save()
    assert store.remove(article(0).id)
    store.save()  # only a tombstone: no new segment
    assert PassageStore.load(directory).manifest.segments == [1]
    assert not PassageStore.load(directory).docs.has_article(article(0).id)
    store.add(article(0), [(0, 16)], unit(0))
    store.save()
    loaded = PassageStore.load(directory)
    assert loaded.manifest.segments == [1, 2] and loaded.manifest.tombstones == [[article(0).id, 1]]
    assert set(loaded.docs.article_ids()) == {article(n).id for n in range(6)} and loaded.backend.vectors.ntotal == 6
    [pid] = loaded.docs.passage_ids_of(article(0).id)
    assert loaded.dense_search(unit(0)[0], 1, None)[0][0] == pid and pid == 6, (
        "a new passage id; the removed one stays unused"
    )
    assert [p for p, _ in loaded.backend.keyword_index().search("number 0", 6)][0] == pid
    assert loaded.backend.keyword_index().live_ids() == set(loaded.docs.passage_ids())


def test_many_segments_or_many_removals_are_compacted_into_one(tmp_path: Path) -> None:
    directory = tmp_path / "idx"
    store = new_store(directory)
    for n in range(MAX_SEGMENTS):
        store.add(article(n), [(0, 16)], unit(n))
        store.save()
    store.add(article(MAX_SEGMENTS), [(0, 16)], unit(MAX_SEGMENTS))
    spread = store.backend.keyword_index().search("story number 3", 5)  # eight segments and the unsaved article
    store.save()
    loaded = PassageStore.load(directory)
    assert loaded.manifest.segments == [MAX_SEGMENTS + 1], "the ninth save compacted all into one segment"
    assert set(loaded.docs.article_ids()) == {article(n).id for n in range(MAX_SEGMENTS + 1)}
    merged = loaded.backend.keyword_index().search("story number 3", 5)
    assert [p for p, _ in merged] == [p for p, _ in spread] and spread[0][0] == 3
    assert np.allclose([s for _, s in merged], [s for _, s in spread]), "same BM25 scores in one segment or nine"
    for n in range(4):
        loaded.remove(article(n).id)
    loaded.save()
    again = PassageStore.load(directory)
    assert len(again.manifest.segments) == 1 and not again.manifest.tombstones, "4 of 9 dead: compacted"
    assert (
        again.backend.vectors.ntotal == 5 and set(again.docs.passage_ids()) == again.backend.keyword_index().live_ids()
    )
    assert len(files_of(directory)) == 5, "one segment (articles, passages, vectors, keyword) and the manifest"


def test_an_index_of_the_previous_format_is_read_and_converted_by_the_next_save(tmp_path: Path) -> None:
    import faiss

    directory, gen = tmp_path / "idx", tmp_path / "idx" / "gen-000001"
    gen.mkdir(parents=True)
    vectors = faiss.IndexIDMap2(faiss.IndexFlatIP(DIM))
    vectors.add_with_ids(np.vstack([unit(0), unit(1)]), np.array([0, 1], dtype=np.int64))
    faiss.write_index(vectors, str(gen / "vectors.faiss"))
    (gen / "articles.jsonl").write_text("\n".join(json.dumps(article(n).to_dict()) for n in range(2)) + "\n")
    (gen / "passages.jsonl").write_text(f'[0, "{article(0).id}", 0, 16]\n[1, "{article(1).id}", 0, 16]\n')
    manifest = {"embed_model": "test", "embed_fingerprint": "f", "dimension": DIM, "chunk": {}, "format_version": 2}
    (gen / "manifest.json").write_text(json.dumps(manifest))
    (directory / "CURRENT").write_text("gen-000001")
    old = PassageStore.load(directory)
    assert old.dense_search(unit(1)[0], 1, None)[0][0] == 1
    assert [p for p, _ in old.backend.keyword_index().search("number 1", 1)] == [1], "keyword index made from the text"
    old.add(article(2), [(0, 16)], unit(2))
    old.save()
    new = PassageStore.load(directory)
    assert new.manifest.format_version == 3 and new.manifest.segments == [1]
    assert new.backend.vectors.ntotal == 3 and new.backend.keyword_index().live_ids() == {0, 1, 2}


def mapped(block: np.ndarray) -> bool:
    """Whether ``block`` reads a memory-mapped file (rather than memory of its own)."""
    import mmap

    base = block
    while base is not None:
        if isinstance(base, mmap.mmap | np.memmap):
            return True
        base = getattr(base, "base", None)
    return False


def test_a_save_swaps_the_sentence_vectors_it_wrote_for_the_file(tmp_path: Path) -> None:
    """A long ingest keeps only the unsaved articles' sentence vectors in memory."""
    store = new_store(tmp_path / "idx")
    sentences = np.random.default_rng(0).normal(size=(2, DIM)).astype(np.float16)
    store.add(article(0), [(0, 37)], unit(0), [sentences])
    [pid] = store.docs.passage_ids_of(article(0).id)
    assert not mapped(store.sentence_vectors(pid))  # type: ignore[arg-type]
    store.save()
    assert mapped(store.sentence_vectors(pid)) and np.array_equal(store.sentence_vectors(pid), sentences)  # type: ignore[arg-type]
    store.add(article(1), [(0, 37)], unit(1), [sentences[:1]])
    store.save()
    assert all(mapped(store.sentence_vectors(p)) for p in store.docs.passage_ids())  # type: ignore[arg-type]
    assert np.array_equal(PassageStore.load(tmp_path / "idx").sentence_vectors(pid), sentences)  # type: ignore[arg-type]


def test_the_filter_postings_allow_exactly_what_a_scan_of_every_article_allows(tmp_path: Path) -> None:
    from index import Filters

    store = new_store(tmp_path / "idx")
    days = ["2026-03-01", "2026-03-05", "2026-03-05T10:00:00", "", "2026-04-02", "not a date"]
    for n, day in enumerate(days * 3):
        source = ["Coast Gazette", "coast gazette", "City Herald"][n % 3]
        a = Article(text=f"Story number {n}.", title=f"S{n}", key=f"k{n}", source=source, date=day)
        store.add(a, [(0, 8)], unit(n))
    some = sorted(store.docs.article_ids())[:2]
    cases = [
        Filters(sources=("COAST GAZETTE",)),
        Filters(since="2026-03-05"),
        Filters(until="2026-03-05"),
        Filters(since="2026-03-02", until="2026-04-01"),
        Filters(as_of="2026-03-04"),
        Filters(as_of="2026-03-05", since="2026-03-01"),
        Filters(article_ids=(some[0], "k7")),
        Filters(sources=("City Herald",), as_of="2026-03-05"),
    ]
    for filters in cases:
        scan = {pid for a in store.docs.iter_articles() if filters.allows(a) for pid in store.docs.passage_ids_of(a.id)}
        where = store.where(filters)
        assert where is not None and set(where.ids) == scan, filters


def test_a_loaded_store_reads_article_texts_from_disk_and_keeps_them_readable(tmp_path: Path) -> None:
    """Issue 38: a serving process holds no article text; each is read from its segment file when
    asked for, through a file kept open, so a writer removing the generation meanwhile loses nothing."""
    import shutil

    store = new_store(tmp_path / "idx")
    for n in range(3):
        store.add(article(n), [(0, 15), (16, 37)], np.vstack([unit(n), unit(100 + n)]))
    store.save()
    loaded = PassageStore.load(tmp_path / "idx")
    headers = list(loaded.docs.headers())
    assert [a.title for a in headers] == [article(n).title for n in range(3)]
    assert all(a.text == "" for a in headers), "no text held in memory"
    shutil.rmtree(tmp_path / "idx")  # a writer's clean-up of an old generation, under a reader
    assert [a.text for a in loaded.docs.iter_articles()] == [article(n).text for n in range(3)]
    assert loaded.docs.get(article(2).id) == article(2)
    assert loaded.passage(loaded.docs.passage_ids_of(article(1).id)[1]).text == "It has two sentences."
