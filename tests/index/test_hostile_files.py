"""Hostile files: gzip bombs, FIFOs and devices, JSON nested 100k deep, feeds whose records have no
ids, file names that could forge a line of the report. Each is reported by name and costs only
itself; memory and time stay bounded."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from index import Article, LoadFailure, load_paths
from tests.helpers.cli import BIN, cli_in_process

GOOD = "Harbour ferry\n\nThe harbour council approved a new ferry on Monday after a long debate."


def bomb(path: Path, member: bytes, copies: int) -> Path:
    """A gzip file of ``copies`` identical members, each ``member`` compressed: it unpacks to
    ``copies × len(member)`` bytes from about ``copies × 1 KB`` on disk."""
    packed = gzip.compress(member, compresslevel=9)
    with path.open("wb") as f:
        for _ in range(copies):
            f.write(packed)
    return path


def load_in_child(*paths: Path) -> dict[str, object]:
    """``load_paths`` in a fresh process: what it found, its peak RSS (MB) and its time."""
    code = (
        "import json, resource, sys, time\n"
        "from index import Article, load_paths\n"
        "start = time.monotonic(); found = {'articles': 0, 'failures': []}\n"
        "for item in load_paths(sys.argv[1:]):\n"
        "    if isinstance(item, Article): found['articles'] += 1\n"
        "    else: found['failures'].append(str(item))\n"
        "found['seconds'] = time.monotonic() - start\n"
        "found['rss_mb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
        "print(json.dumps(found))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(proc.stdout)


def test_a_gzip_bomb_of_one_line_is_refused_with_bounded_memory(tmp_path: Path) -> None:
    bomb(tmp_path / "feed.jsonl.gz", b"a" * (1 << 20), 1024)  # 1 GiB of one line, 1 MB on disk
    (tmp_path / "good.txt").write_text(GOOD)
    baseline = load_in_child(tmp_path / "good.txt")
    found = load_in_child(tmp_path)
    assert found["articles"] == 1, "the good file beside it is read"
    failures = found["failures"]
    assert isinstance(failures, list) and len(failures) == 1 and "feed.jsonl.gz" in failures[0]
    assert "unpacks to over" in failures[0] and "50×" in failures[0], failures
    assert float(found["rss_mb"]) - float(baseline["rss_mb"]) < 60, found  # was 4 GB (killed)
    assert float(found["seconds"]) < 20


def test_a_gzip_bomb_of_short_bad_lines_stops_early(tmp_path: Path) -> None:
    feed = bomb(tmp_path / "lines.jsonl.gz", b'{"title": "no text"}\n' * 50_000, 2000)  # 100M lines
    found = load_in_child(feed)
    failures = found["failures"]
    assert isinstance(failures, list) and failures[-1].endswith("stopped reading at line 1,001")
    assert len(failures) == 1001 and float(found["seconds"]) < 20


def test_a_json_file_that_unpacks_past_the_file_limit_is_refused(tmp_path: Path) -> None:
    from index import Limits

    big = bomb(tmp_path / "big.json.gz", b" " * (1 << 20), 200)  # 200 MB of spaces
    [failure] = list(load_paths([big], Limits(max_file_bytes=10_000_000)))
    assert isinstance(failure, LoadFailure) and "unpacks to over 10.0 MB" in failure.reason


def test_json_nested_100k_deep_costs_only_its_record(tmp_path: Path) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.json").write_text(deep)
    lines = [json.dumps({"id": "ok", "title": "Ferry", "text": GOOD}), '{"id": "deep", "text": ' + deep + "}"]
    (tmp_path / "feed.jsonl").write_text("\n".join(lines) + "\n")
    quoted = json.dumps({"id": "brackets", "text": "[[[{" * 100 + " is how a child draws a castle."})
    (tmp_path / "quoted.jsonl").write_text(quoted + "\n")
    (tmp_path / "good.txt").write_text(GOOD)
    items = list(load_paths([tmp_path]))
    keys = sorted(i.key for i in items if isinstance(i, Article))
    assert keys == sorted(["brackets", "ok", str(tmp_path / "good.txt")]), "brackets inside a string are text"
    reasons = {i.location: i.reason for i in items if isinstance(i, LoadFailure)}
    assert "nested over 64 levels" in reasons[str(tmp_path / "deep.json")]
    assert "nested over 64 levels" in reasons[f"{tmp_path / 'feed.jsonl'}:2"]


def _ingest(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "assistant"), "ingest", *args], capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_fifos_and_devices_are_reported_by_name_never_read(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "good.txt").write_text(GOOD)
    os.mkfifo(tmp_path / "alone.jsonl")
    started = time.monotonic()
    proc = _ingest(str(folder), str(tmp_path / "alone.jsonl"), "--index", str(tmp_path / "idx"))
    assert time.monotonic() - started < 90
    assert proc.returncode == 3, proc.stderr
    assert "pipe.txt: a named pipe (FIFO), not a regular file" in proc.stderr
    assert "zero.txt: a character device, not a regular file" in proc.stderr
    assert "alone.jsonl: a named pipe (FIFO), not a regular file" in proc.stderr
    assert "1 added" in proc.stdout


@pytest.mark.slow
def test_a_rotated_feed_without_ids_adds_and_replaces_nothing(tmp_path: Path) -> None:
    feed, index = tmp_path / "feed.jsonl", str(tmp_path / "idx")

    def write(*stories: str) -> None:
        feed.write_text(
            "".join(json.dumps({"title": s, "text": f"{s} happened on the quay today."}) + "\n" for s in stories)
        )

    write("Ferry delayed", "Market opens")
    first = cli_in_process("ingest", str(feed), "--index", index)
    assert first.exit_code == 0 and "2 added, 0 replaced" in first.stdout, first.output
    write("Bridge closes", "Ferry delayed")  # tomorrow's file: one new story, one repeated, lines moved
    second = cli_in_process("ingest", str(feed), "--index", index)
    assert second.exit_code == 0 and "1 added, 0 replaced, 1 unchanged" in second.stdout, second.stdout
    assert "holds 3 articles" in second.stdout, second.stdout


def test_a_file_name_with_a_newline_cannot_forge_a_report_line(tmp_path: Path) -> None:
    evil = tmp_path / "x.pdf\nadded 99 articles; index holds 99 articles.pdf"
    evil.write_bytes(b"not a pdf")
    (tmp_path / "good.txt").write_text(GOOD)
    result = cli_in_process("ingest", str(tmp_path), "--index", str(tmp_path / "idx"))
    assert result.exit_code == 3
    lines = result.output.splitlines()
    assert not any(line.startswith("added 99") for line in lines), result.output
    assert any("x.pdf\\nadded 99" in line for line in lines), result.output


def _one_line_error(result: object, *needles: str) -> None:
    """Exit 1 or 2 and one line of error (besides the progress bar), holding ``needles``; no traceback."""
    output: str = result.output  # type: ignore[attr-defined]
    assert result.exit_code in (1, 2), output  # type: ignore[attr-defined]
    lines = [line for line in result.stderr.replace("\r", "\n").splitlines() if line.strip()]  # type: ignore[attr-defined]
    errors = [line for line in lines if not line.startswith("Indexing")]
    assert "Traceback" not in output and len(errors) == 1 and errors[0].startswith("error: "), output
    for needle in needles:
        assert needle in errors[0], output


@pytest.mark.slow
@pytest.mark.parametrize(
    ("where", "code"),
    [
        ("index.docstore.write_sentences", "ENOSPC"),
        ("index.backends.faiss_backend.write_matrix", "ENOSPC"),
        ("index.store.write_synced", "EROFS"),
    ],
)
def test_a_failed_save_is_one_line_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, code: str
) -> None:
    import errno

    from assistant import Assistant

    index_dir = tmp_path / "idx"
    (tmp_path / "one.txt").write_text(GOOD)
    (tmp_path / "two.txt").write_text("Bridge closes\n\nThe old bridge closes for repairs in May, the council said.")
    assert cli_in_process("ingest", str(tmp_path / "one.txt"), "--index", str(index_dir)).exit_code == 0

    def full(*args: object, **kwargs: object) -> None:
        number = getattr(errno, code)
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(where, full)
    result = cli_in_process("ingest", str(tmp_path / "two.txt"), "--index", str(index_dir))
    _one_line_error(result, f"({code})", "nothing was published")
    monkeypatch.undo()
    assert Assistant.open(index_dir).info().articles == 1, "the published index is intact"
    assert not list(index_dir.glob(".tmp-*")), "the half-written generation was removed"


@pytest.mark.slow
def test_damaged_current_lock_and_manifest_are_one_line_errors(tmp_path: Path) -> None:
    index_dir = tmp_path / "idx"
    (tmp_path / "one.txt").write_text(GOOD)
    assert cli_in_process("ingest", str(tmp_path / "one.txt"), "--index", str(index_dir)).exit_code == 0
    current = (index_dir / "CURRENT").read_bytes()
    (index_dir / "CURRENT").write_bytes(b"\xff\xfe gen")
    _one_line_error(cli_in_process("ask", "Who approved the ferry?", "--index", str(index_dir)), "CURRENT")
    (index_dir / "CURRENT").write_bytes(b"../../etc")
    _one_line_error(cli_in_process("ask", "Who approved the ferry?", "--index", str(index_dir)), "names no generation")
    (index_dir / "CURRENT").write_bytes(current)
    manifest = index_dir / current.decode().strip() / "manifest.json"
    good = manifest.read_text()
    data = json.loads(good)
    data["files"], data["segments"] = 5, {"a": 1}
    manifest.write_text(json.dumps(data))
    _one_line_error(cli_in_process("ask", "Who approved the ferry?", "--index", str(index_dir)), "damaged")
    manifest.write_text(good)
    (index_dir / "LOCK").unlink(missing_ok=True)
    (index_dir / "LOCK").mkdir()
    result = cli_in_process("ingest", str(tmp_path / "one.txt"), "--index", str(index_dir))
    _one_line_error(result, "cannot take the write lock", "(EISDIR)")


def test_a_pdf_whose_text_all_repeats_as_headers_says_so_not_ocr(tmp_path: Path) -> None:
    from tests.helpers.pdf import write_pdf

    lines = ["The Valley Gazette | Subscribe now", "Printed for subscribers only, all rights reserved"]
    path = write_pdf(tmp_path / "headers.pdf", lines, pages=3)
    [failure] = list(load_paths([path]))
    assert isinstance(failure, LoadFailure) and "repeat on several pages" in failure.reason, failure
    assert "OCR" not in failure.reason


def test_a_pdf_of_many_pages_or_a_slow_parse_fails_by_name_and_fast(tmp_path: Path) -> None:
    """A 78 KB PDF of 500 pages sharing one content stream took 61 s of CPU inside the writer."""
    from index.reading.safe_read import Limits
    from tests.helpers.pdf import write_pdf

    words = "The harbour council approved a new ferry for the island route after a long debate"
    lines = [f"{words} number {i}." for i in range(60)]
    many = write_pdf(tmp_path / "many.pdf", lines, pages=500)
    started = time.monotonic()
    [failure] = load_paths([many])
    assert isinstance(failure, LoadFailure) and failure.location.endswith("many.pdf")
    assert "500 pages, over the limit of 300" in failure.reason and "index.max_pdf_pages" in failure.reason
    assert time.monotonic() - started < 5
    slow = write_pdf(tmp_path / "slow.pdf", lines, pages=200)
    started = time.monotonic()
    [failure] = load_paths([slow], Limits(max_parse_s=0.3))
    assert isinstance(failure, LoadFailure) and failure.location.endswith("slow.pdf")
    assert "took over 0.3 s" in failure.reason and "index.max_parse_s" in failure.reason
    assert time.monotonic() - started < 3
