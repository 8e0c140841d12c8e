"""The hostile-input tables of issues 9 and 21, rerun: each row's result on this machine.

    python -m benchmarks.hostile_inputs [--out runs/hostile]

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

from benchmarks.memory import peak_rss_mb

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


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
    parser.add_argument("--only-21", action="store_true", help="Only the rows of issue 21.")
    parser.add_argument("--only-33", action="store_true", help="Only the rows of issue 33.")
    args = parser.parse_args()
    out: Path = args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rows: list[tuple[str, str]] = []
    index = out / "index"
    env = {**os.environ, "ASSISTANT_INDEX": str(index), "OMP_WAIT_POLICY": "PASSIVE"}
    if args.only_33:
        report(out, issue_33(out))
        return
    if args.only_21:
        report(out, issue_21(out, env))
        return

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
    before = server.info().articles
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
    from index.embedding.embedder import load_embedder

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

    server.close()
    report(out, rows + issue_21(out, env) + issue_33(out))


def report(out: Path, rows: list[tuple[str, str]]) -> None:
    print("| tried | result |\n|---|---|")
    for tried, result in rows:
        print(f"| {tried} | {result} |")
    (out / "results.json").write_text(json.dumps(rows, indent=2))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, headers: dict[str, str], proc: subprocess.Popen) -> None:
    import urllib.request

    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited: {proc.stderr.read() if proc.stderr else ''}")
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} never answered")


def push(port: int, path: str, megabytes: int, headers: str = "", chunked: bool = True) -> tuple[int, int]:
    """POST ``megabytes`` MB (chunked or with its Content-Length), stopping when the server answers:
    (status, MB sent)."""
    import select
    import socket

    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {megabytes * 1_000_000}"
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}{framing}\r\n\r\n".encode())
    block, sent, answer = b"x" * 1_000_000, 0, b""
    try:
        for _ in range(megabytes):
            if select.select([sock], [], [], 0)[0]:
                break
            sock.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n" if chunked else block)
            sent += 1
        else:
            sock.sendall(b"0\r\n\r\n" if chunked else b"")
    except OSError:  # the server answered and closed while the body was still being sent
        pass
    try:
        answer = sock.recv(65536)
    except OSError:
        pass
    sock.close()
    return (int(answer.split()[1]) if answer.startswith(b"HTTP/") else 0), sent


def gzip_bomb(path: Path, member: bytes, copies: int) -> Path:
    import gzip

    packed = gzip.compress(member, compresslevel=9)
    with path.open("wb") as f:
        for _ in range(copies):
            f.write(packed)
    return path


def child_load(*paths: Path) -> dict[str, Any]:
    code = (
        "import json, resource, sys, time\nfrom index import Article, load_paths\n"
        "t = time.monotonic(); n = 0; bad = []\n"
        "for item in load_paths(sys.argv[1:]):\n"
        "    n += isinstance(item, Article)\n"
        "    bad += [] if isinstance(item, Article) else [str(item)]\n"
        "print(json.dumps({'articles': n, 'failures': len(bad), 'last': bad[-1][-90:] if bad else '',"
        " 'seconds': time.monotonic() - t, 'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, *map(str, paths)], capture_output=True, text=True, timeout=900)
    return json.loads(proc.stdout)


def issue_21(out: Path, env: dict[str, str]) -> list[tuple[str, str]]:
    """The rows of issue 21: cross-origin use of the UI, colliding keys, bodies before the key,
    bombs, FIFOs, deep JSON, one-line errors, the low ones."""
    import urllib.error
    import urllib.request

    from assistant import Article, Assistant

    rows: list[tuple[str, str]] = []
    work = out / "issue21"
    work.mkdir()
    bot = Assistant.build([], work / "index")
    bot.add([Article(text="The harbour festival drew crowds on Sunday.", title="Festival", key="victim")])

    # 1. a page on another loopback origin asks the UI to ingest a local file
    from ui.app import launch

    secret = work / "private-notes.md"
    secret.write_text("Vault\n\nThe backup vault passphrase is plum-anchor-4471.")
    port = free_port()
    server = launch(bot, port=port, block=False)
    base = f"http://127.0.0.1:{port}/"
    named = json.dumps({"data": [[{"path": str(secret), "meta": {"_type": "gradio.FileData"}}]]}).encode()

    def status(url: str, method: str = "POST", body: bytes | None = named, **headers: str) -> int:
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    other = f"http://127.0.0.1:{free_port()}"
    preflight = status(
        base + "gradio_api/call/upload", "OPTIONS", None, Origin=other, **{"Access-Control-Request-Method": "POST"}
    )
    simple = status(base + "gradio_api/call/upload", Origin=other, **{"Content-Type": "text/plain"})
    no_token = status(base + "gradio_api/call/upload", Origin=base.rstrip("/"), **{"Content-Type": "application/json"})
    request = urllib.request.Request(base + "gradio_api/call/upload", named, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as r:
        event = json.loads(r.read())["event_id"]
    with urllib.request.urlopen(f"{base}gradio_api/call/upload/{event}", timeout=60) as r:
        outcome = "refused" if b"event: error" in r.read() else "READ"
    rows.append(
        (
            "a page on another loopback port posts a FileData naming a local file to the UI's upload handler",
            f"preflight {preflight}, no-cors POST {simple}, same origin without the page token {no_token}; "
            f"a program without browser headers: the path is {outcome} (not in the upload folder); "
            f"articles {bot.info().articles} (was 1). Real Chromium: tests/adapters/test_cross_origin.py",
        )
    )
    server.close()

    # 2. records without ids or URLs, uploads of one name, a rotated feed
    folders = []
    for name, text in (("a", "The ferry runs twice a day."), ("b", "The bakery opens at six.")):
        (work / name).mkdir()
        (work / name / "notes.txt").write_text(text)
        folders.append(bot.add_upload(work / name / "notes.txt", "notes.txt"))
    feed = work / "feed.jsonl"
    feed.write_text("".join(json.dumps({"title": t, "text": f"{t} on the quay."}) + "\n" for t in ("Ferry", "Market")))
    bot.add([feed])
    feed.write_text("".join(json.dumps({"title": t, "text": f"{t} on the quay."}) + "\n" for t in ("Bridge", "Ferry")))
    rotated = bot.add([feed])
    rows.append(
        (
            "two uploads named notes.txt; a feed without ids rotated (one new line, one moved)",
            f"uploads: {[f'{len(r.added)} added, {len(r.replaced)} replaced' for r in folders]}; "
            f"rotated feed: {len(rotated.added)} added, {len(rotated.replaced)} replaced, "
            f"{len(rotated.unchanged)} unchanged; {bot.info().articles} articles (expected 6)",
        )
    )

    # 3. the HTTP API: bodies before the key, chunked bodies, long questions, error shapes
    api_port, key = free_port(), "bench-key"
    api_env = {**env, "ASSISTANT_API_KEY": key, "ASSISTANT_INDEX": str(work / "index")}
    bot.close()
    proc = subprocess.Popen(
        [str(BIN / "assistant"), "api", "--port", str(api_port)], env=api_env, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(f"http://127.0.0.1:{api_port}/v1/models", {"Authorization": f"Bearer {key}"}, proc)
        before = peak_rss_mb(proc.pid)
        unauth = push(api_port, "/v1/articles", 500)
        unauth_len = push(api_port, "/v1/articles", 500, chunked=False)
        auth = f"Authorization: bearer {key}\r\n"
        chunked = push(api_port, "/v1/articles", 500, auth)
        chat = push(api_port, "/v1/chat/completions", 100, auth)
        rss = peak_rss_mb(proc.pid) - before
        question = json.dumps(
            {"model": "extractive", "messages": [{"role": "user", "content": "Who? " * 120_000}]}
        ).encode()
        t0 = time.perf_counter()
        long_q = status(
            f"http://127.0.0.1:{api_port}/v1/chat/completions",
            body=question,
            Authorization=f"Bearer {key}",
            **{"Content-Type": "application/json"},
        )
        long_s = time.perf_counter() - t0
        schema = status(f"http://127.0.0.1:{api_port}/openapi.json", "GET", None)
        rows.append(
            (
                "HTTP API: 500 MB POSTs without the key (chunked / with Content-Length), 500 MB chunked with the "
                "key (`bearer` in lower case), 100 MB to /v1/chat/completions, a 600 KB question, /openapi.json",
                f"{unauth[0]} after {unauth[1]} MB sent / {unauth_len[0]} after {unauth_len[1]} MB; "
                f"{chunked[0]} after {chunked[1]} MB; {chat[0]} after {chat[1]} MB; server peak RSS grew "
                f"{rss:.0f} MB (was 1.85 GB); question: {long_q} in {long_s:.2f} s (was 8.9 s); schema {schema}",
            )
        )
    finally:
        proc.terminate()
        proc.wait(10)

    # 4. gzip bombs
    gzip_bomb(work / "bomb.jsonl.gz", b"a" * (1 << 20), 5500)  # one line of 5.5 GB
    gzip_bomb(work / "lines.jsonl.gz", b'{"title": "no text"}\n' * 50_000, 5000)  # 250M short bad lines
    good = work / "good.txt"
    good.write_text("Ferry returns\n\nThe harbour ferry returned to service on Friday after repairs.")
    alone = child_load(good)["rss"]
    for name, size in (("bomb.jsonl.gz", "5.5 GB in one line"), ("lines.jsonl.gz", "250 million short lines")):
        found = child_load(work / name, good)
        rows.append(
            (
                f"a {(work / name).stat().st_size / 1e6:.1f} MB `{name}` unpacking to {size}, beside a good file",
                f"{found['articles']} article read, {found['failures']} failure(s), last: “{found['last']}”; "
                f"{found['seconds']:.1f} s, peak RSS {found['rss']:.0f} MB (the good file alone: {alone:.0f} MB; "
                "was 4 GB, killed)",
            )
        )

    # 5. FIFOs, /dev/zero, deep JSON
    os.mkfifo(work / "pipe.jsonl")
    folder = work / "folder"
    folder.mkdir()
    os.mkfifo(folder / "pipe.txt")
    (folder / "zero.txt").symlink_to("/dev/zero")
    (folder / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    shutil.copy(good, folder / "good.txt")
    t0 = time.perf_counter()
    res = run("ingest", str(work / "pipe.jsonl"), str(folder), "--index", str(work / "index2"), env=env)
    skipped = [line.removeprefix(f"skipped {work}/") for line in res.stderr.splitlines() if line.startswith("skipped")]
    rows.append(
        (
            "a FIFO on the command line; a folder with a FIFO, a link to /dev/zero, JSON nested 100k deep, a good file",
            f"exit {res.returncode} in {time.perf_counter() - t0:.1f} s; {res.stdout.split(';')[0]}; skipped: "
            + "; ".join(line[:90] for line in skipped),
        )
    )

    # 6. one-line errors: a damaged CURRENT, a LOCK that is a folder, serve beyond loopback without a key
    damaged = work / "damaged"
    shutil.copytree(work / "index2", damaged, ignore=shutil.ignore_patterns("LOCK"))
    current = (damaged / "CURRENT").read_bytes()
    (damaged / "CURRENT").write_bytes(b"\xff\xfe")
    asked = run("ask", "Who returned?", "--index", str(damaged), env=env)
    (damaged / "CURRENT").write_bytes(current)
    (damaged / "LOCK").mkdir()
    locked = run("ingest", str(good), "--index", str(damaged), env=env)
    served = run("serve", "--host", "0.0.0.0", "--index", str(work / "index2"), env={**env, "ASSISTANT_API_KEY": ""})
    for tried, res in (
        ("non-UTF-8 bytes in CURRENT, then `ask`", asked),
        ("`LOCK` is a folder, then `ingest`", locked),
        ("`serve --host 0.0.0.0` without ASSISTANT_API_KEY", served),
    ):
        lines = [line for line in res.stderr.splitlines() if line.strip() and not line.startswith("Indexing")]
        rows.append((tried, f"exit {res.returncode}; {len(lines)} line: {' / '.join(lines)[:200]}"))
    return rows


def child(code: str, *args: str) -> dict[str, Any]:
    """``code`` in a fresh process (it prints one JSON object); its peak RSS (MB) and time added."""
    wrapped = (
        "import json, resource, sys, time\nt = time.monotonic()\n"
        + code
        + "\nresult['seconds'] = round(time.monotonic() - t, 2)"
        + "\nresult['rss_mb'] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
        + "\nprint(json.dumps(result))\n"
    )
    proc = subprocess.run([sys.executable, "-c", wrapped, *args], capture_output=True, text=True, timeout=900, cwd=ROOT)
    if proc.returncode:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def issue_33(out: Path) -> list[tuple[str, str]]:
    """The rows of issue 33: compression bombs through the fetcher, a PDF of 500 pages, a feed of
    60,000 entries with one link (the data loss, the record cap, the stores and the UI are in tests:
    test_assistant, test_http_limits, test_conversations, test_ui_layout)."""
    from tests.helpers.news_site import NewsSite, rss
    from tests.helpers.pdf import write_pdf

    rows = []
    fetch = (
        "from index.web.fetch import Fetcher, FetchLimits, FetchError\n"
        "try:\n"
        "    with Fetcher(FetchLimits(host_delay_s=0, obey_robots=False)) as f:\n"
        "        body = f.get(sys.argv[1], trusted_host=sys.argv[2]).body\n"
        "    result = {'outcome': f'read {len(body):,} bytes'}\n"
        "except FetchError as e:\n"
        "    result = {'outcome': e.reason}\n"
    )
    baseline = child("result = {}\nimport index.fetch, httpx")
    with NewsSite() as site:
        host = site.base.removeprefix("http://")
        for path, what in (
            ("/bomb.gz", "gzip, ~1 MB unpacking to ~1 GB"),
            ("/bomb-stacked.gz", "`gzip, gzip`"),
            ("/bomb.br", "`br`"),
        ):
            r = child(fetch, site.base + path, host)
            rows.append(
                (
                    f"a web page served with Content-Encoding {what}",
                    f"{r['outcome']}; peak RSS {r['rss_mb']} MB ({baseline['rss_mb']} MB after the imports alone), "
                    f"{r['seconds']} s",
                )
            )
    pdf = write_pdf(out / "many.pdf", [f"The harbour council met again, item {i}." for i in range(60)], pages=500)
    r = child(
        "from index import load_paths\nresult = {'outcome': str(list(load_paths([sys.argv[1]]))[0])[-120:]}",
        str(pdf),
    )
    rows.append(
        (
            f"a {pdf.stat().st_size // 1000} KB PDF of 500 pages sharing one content stream",
            f"{r['outcome']}; {r['seconds']} s",
        )
    )
    feed = rss([1], "http://news.example")
    item = feed[feed.index("<item>") : feed.index("</item>") + 7]
    many = out / "many-entries.xml"
    many.write_text(feed.replace(item, item * 60_000))
    r = child(
        "from index.web.feeds import read_feed\n"
        "feed = read_feed(open(sys.argv[1], 'rb').read(), 'http://news.example/rss.xml')\n"
        "result = {'outcome': f'{len(feed.entries)} page(s) to fetch'}",
        str(many),
    )
    rows.append(("a feed of 60,000 entries with one repeated link", f"{r['outcome']}; read in {r['seconds']} s"))
    return rows


if __name__ == "__main__":
    main()
