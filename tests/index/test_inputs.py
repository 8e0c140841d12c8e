"""Hostile input: huge files, bad bytes, link loops, contradicting settings, Ctrl-C mid-file."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from index import Article, IndexSettings, Limits, LoadFailure, NewsIndex, PassageStore, load_paths, sentence_spans
from tests.helpers.cli import cli_in_process

RECORD = {"title": "Harbour ferry", "text": "The harbour council approved a new ferry on Monday."}


def articles_and_failures(items: list[Article | LoadFailure]) -> tuple[list[Article], list[LoadFailure]]:
    return [i for i in items if isinstance(i, Article)], [i for i in items if isinstance(i, LoadFailure)]


def test_one_bad_byte_costs_only_its_line(tmp_path: Path) -> None:
    lines = [json.dumps({**RECORD, "id": str(i)}).encode() for i in range(5)]
    lines[2] = lines[2].replace(b"ferry", b"ferr\xff")
    path = tmp_path / "feed.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    articles, failures = articles_and_failures(list(load_paths([path])))
    assert [a.key for a in articles] == ["0", "1", "3", "4"]
    assert len(failures) == 1 and failures[0].location == f"{path}:3" and "UTF-8" in failures[0].reason


def test_size_limits_name_the_file_and_the_setting(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("Big story. " * 2000)
    (tmp_path / "long.jsonl").write_text(
        json.dumps({"id": "ok", **RECORD}) + "\n" + json.dumps({"id": "long", "text": "Word. " * 2000}) + "\n"
    )
    articles, failures = articles_and_failures(list(load_paths([tmp_path], Limits(10_000, 5_000))))
    assert [a.key for a in articles] == ["ok"]
    reasons = {f.location: f.reason for f in failures}
    assert "index.max_file_mb" in reasons[str(tmp_path / "big.txt")]
    assert "index.max_article_chars" in reasons[f"{tmp_path / 'long.jsonl'}:2"]


def test_link_loops_and_unlistable_folders_are_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "news"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("A story about the harbour.")
    (folder / "sub" / "back").symlink_to(folder)  # a folder loop
    (folder / "self.txt").symlink_to(folder / "self.txt")  # a link to itself
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (folder / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:  # tests run as root, where chmod 000 does not stop listing
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    articles, failures = articles_and_failures(list(load_paths([tmp_path / "loop", folder])))
    assert [a.title for a in articles] == ["A story about the harbour."]
    reasons = {Path(f.location).name: f.reason for f in failures}
    assert "loop" in reasons["loop"] and "loop" in reasons["back"] and "loop" in reasons["self.txt"]
    assert "cannot list" in reasons["locked"] and "Permission denied" in reasons["locked"]


def test_splitting_takes_linear_time() -> None:
    """The rest of the text used to be copied at every sentence end (8 MB: 14 s). Sixteen times the
    text must take far less than the 256 times a quadratic splitter needs (ratio in one process)."""
    unit = "The council met on Monday. It approved the plan! Will it last? "
    small, large = unit * 8_000, unit * 128_000  # 0.5 MB and 8 MB
    sentence_spans(small)  # warm up
    t0 = time.perf_counter()
    assert len(sentence_spans(small)) == 24_000
    t1 = time.perf_counter()
    assert len(sentence_spans(large)) == 384_000
    t2 = time.perf_counter()
    assert (t2 - t1) / (t1 - t0) < 48, f"0.5 MB: {t1 - t0:.2f} s, 8 MB: {t2 - t1:.2f} s"


def test_contradicting_settings_stop_before_work_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="overlap_tokens .120. must be smaller than max_tokens .100."):
        IndexSettings(max_tokens=100, overlap_tokens=120)
    monkeypatch.setenv("ASSISTANT_INDEX__MAX_TOKENS", "100")
    monkeypatch.setenv("ASSISTANT_INDEX__OVERLAP_TOKENS", "120")
    (tmp_path / "a.txt").write_text("A story.")
    result = cli_in_process("ingest", str(tmp_path / "a.txt"), "--index", str(tmp_path / "idx"))
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "overlap_tokens (120) must be smaller than max_tokens (100)" in result.stderr
    assert not (tmp_path / "idx").exists(), "no work was started"


def test_ctrl_c_while_a_later_file_splits_keeps_the_earlier_ones(tmp_path: Path, embedder: Any) -> None:
    index = NewsIndex.open(tmp_path / "idx", embedder, create=True)
    good = Article(text="The harbour council approved a new ferry.", title="Ferry", key="good")
    huge = Article(text="Endless text. " * 100, title="Huge", key="huge")
    split = index.split

    def slow_split(article: Article) -> list[tuple[int, int]]:
        if article.key == "huge":
            raise KeyboardInterrupt  # Ctrl-C while this file is still being split
        return split(article)

    index.split = slow_split  # type: ignore[method-assign]
    with pytest.raises(KeyboardInterrupt):
        index.add([good, huge])
    assert set(PassageStore.load(tmp_path / "idx").docs.keys()) == {"good"}
