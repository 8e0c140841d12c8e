"""The hostile-input table of issue 9, rerun: each row's result on this machine.

    python benchmarks/hostile_inputs.py [--out runs/hostile]

Writes its own made-up articles (and, for the corruption row, uses a tiny index of them); nothing
from ../shared is needed. Prints a Markdown table: what was tried, what happened.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


def stories(prefix: str, n: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"{prefix}-{i}",
            "title": f"{prefix.title()} report {i}",
            "text": f"The {prefix} council approved plan number {i} on Monday. Residents of {prefix} district {i} "
            "said the plan would change the bus routes and the opening hours of the library.",
        }
        for i in range(n)
    ]


def jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "assistant"), *args], env=env, capture_output=True, text=True, timeout=900)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "hostile")
    out: Path = parser.parse_args().out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rows: list[tuple[str, str]] = []
    index = out / "index"
    env = {**os.environ, "ASSISTANT_INDEX": str(index), "OMP_WAIT_POLICY": "PASSIVE"}

    # 1. two writers started together, then a third one killed -9 while it holds the lock
    a, b = jsonl(out / "a.jsonl", stories("harbour", 50)), jsonl(out / "b.jsonl", stories("valley", 50))
    procs = [
        subprocess.Popen(
            [str(BIN / "assistant"), "ingest", str(f)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in (a, b)
    ]
    errs = [p.communicate()[1] for p in procs]
    from index import PassageStore

    found = PassageStore.read_manifest(index).articles
    waited = sum("waiting" in e for e in errs)
    rows.append(
        (
            "two `assistant ingest` runs started together (50 + 50 articles)",
            f"exit codes {[p.returncode for p in procs]}; {found} of 100 articles in the index; "
            f"{waited} writer said it was waiting",
        )
    )

    # 2. a serving process, a CLI ingest meanwhile, then the server's own upload
    from assistant import Assistant

    server = Assistant.open(index)
    before = server.info()["articles"]
    more = run("ingest", str(jsonl(out / "c.jsonl", stories("orchard", 5))), env=env)
    server.add_upload(jsonl(out / "upload.jsonl", stories("canyon", 1)), "upload.jsonl")
    after = PassageStore.read_manifest(index).articles
    rows.append(
        (
            "server has the index open; CLI adds 5; server uploads 1",
            f"{before} → {after} articles (expected {before + 6}); CLI exit {more.returncode}",
        )
    )

    # 3. a 300 KB upload and another user's question at the same time
    big = jsonl(
        out / "big.jsonl",
        [
            {"id": f"long-{i}", "title": f"Long {i}", "text": " ".join(s["text"] for s in stories(f"town{i}", 60))}
            for i in range(20)
        ],
    )
    t0 = time.perf_counter()
    server.ask("What did the harbour council approve in district 7?")  # other stories: no cached sentences
    alone = time.perf_counter() - t0
    upload = threading.Thread(target=server.add_upload, args=(big, "big.jsonl"))
    upload.start()
    time.sleep(1.0)
    t0 = time.perf_counter()
    server.ask("What did the valley council approve in district 3?")
    during = time.perf_counter() - t0
    still = upload.is_alive()
    upload.join()
    rows.append(
        (
            f"a question while a {big.stat().st_size // 1000} KB upload is indexed",
            f"answered in {during:.2f} s (alone: {alone:.2f} s), upload still running then: {still}; "
            "questions take no lock an upload holds",
        )
    )

    # 4. splitting 1/8/50 MB
    from index import sentence_spans, split_passages
    from index.embedder import load_embedder

    counter = load_embedder("all-MiniLM-L6-v2").count_tokens
    unit = "The council met on Monday. It approved the plan! Will it last? Officials said so. "
    times = []
    for mb in (1, 8, 50):
        text = unit * (mb * 1_000_000 // len(unit))
        t0 = time.perf_counter()
        sentence_spans(text)
        times.append(f"{mb} MB {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    passages = split_passages(unit * (8_000_000 // len(unit)), counter)
    rows.append(
        (
            "sentence splitting 1 / 8 / 50 MB (was 0.5 s / 13.7 s / never)",
            f"{', '.join(times)}; whole passage split of 8 MB with token counts: "
            f"{time.perf_counter() - t0:.1f} s, {len(passages)} passages",
        )
    )

    # 5. a 50 MB text file and a good file in one command
    huge = out / "huge.txt"
    huge.write_text(unit * (50_000_000 // len(unit)))
    good = out / "good.txt"
    good.write_text("Ferry returns\n\nThe harbour ferry returned to service on Friday after repairs.")
    res = run("ingest", str(huge), str(good), env=env)
    server.index.refresh()
    rows.append(
        (
            "a 50 MB text file and a good file in one `ingest`",
            f"exit {res.returncode}; {res.stderr.strip().splitlines()[-1][:160]}; "
            f"good file in: {server.index.article(str(good.resolve())) is not None}",
        )
    )

    # 6. one bad byte in a JSONL file
    lines = [json.dumps(r).encode() for r in stories("delta", 10)]
    lines[4] = lines[4].replace(b"council", b"counc\xffl")
    bad = out / "bad.jsonl"
    bad.write_bytes(b"\n".join(lines) + b"\n")
    res = run("ingest", str(bad), env=env)
    skipped = [line for line in res.stderr.splitlines() if line.startswith("skipped")]
    rows.append(
        (
            "one bad byte in line 5 of a 10-line JSONL",
            f"exit {res.returncode}; {res.stdout.split(';')[0]}; "
            f"{len(skipped)} line reported: {skipped[0][-80:] if skipped else '-'}",
        )
    )

    # 7. a symlink loop on the command line
    loop = out / "loop"
    loop.symlink_to(loop)
    res = run("ingest", str(loop), str(good), env=env)
    rows.append(
        (
            "a symbolic-link loop and a good file in one `ingest`",
            f"exit {res.returncode}; {' / '.join(line for line in res.stderr.splitlines() if 'loop' in line)}; "
            f"traceback: {'Traceback' in res.stderr}",
        )
    )

    # 8. contradicting settings
    res = run(
        "ingest", str(good), env={**env, "ASSISTANT_INDEX__MAX_TOKENS": "100", "ASSISTANT_INDEX__OVERLAP_TOKENS": "120"}
    )
    rows.append(
        (
            "`max_tokens` 100 with `overlap_tokens` 120",
            f"exit {res.returncode}; {len(res.stderr.strip().splitlines())} line: {res.stderr.strip()}",
        )
    )

    # 9. same-size corruption
    copy = out / "damaged"
    shutil.copytree(index, copy)
    gen = copy / (copy / "CURRENT").read_text().strip()
    data = bytearray((gen / "vectors.faiss").read_bytes())
    data[-200:-136] = bytes(64)
    (gen / "vectors.faiss").write_bytes(bytes(data))
    checked = run("check", "--index", str(copy), env=env)
    asked = run("ask", "What did the orchard council approve?", "--index", str(copy), env=env)
    rows.append(
        (
            "64 zero bytes written into vectors.faiss (same size)",
            f"`check` exit {checked.returncode}, `ask` exit {asked.returncode}: {asked.stderr.strip()[:150]}",
        )
    )

    print("| tried | result |\n|---|---|")
    for tried, result in rows:
        print(f"| {tried} | {result} |")
    (out / "results.json").write_text(json.dumps(rows, indent=2))
    server.close()


if __name__ == "__main__":
    main()
