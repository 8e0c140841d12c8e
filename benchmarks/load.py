"""Load test on loopback: simulated users asking through the web UI (Gradio's API) and the HTTP API
(OpenAI-style chat), first on a quiet server, then while `assistant ingest` adds BBC articles to
the same index from another process. Extractive engine.

    python -m benchmarks.load [--users 20] [--seconds 120] [--base 300] [--ingest 1000] [--think 1.0]

Half the users use the UI, half the API; each asks a question from benchmarks/data/bbc-questions.jsonl,
waits for the whole answer, thinks ``--think`` seconds, and asks again. Prints errors, p50/p95/max
latency per phase and interface, asks answered during the ingest, and the articles expected and
found afterwards. Results go to runs/load/results.json. Reads the BBC articles from ../shared.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))
BBC = SHARED / "datasets" / "bbc-news" / "bbc_news.jsonl.gz"
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_records(rows: list[dict[str, Any]], path: Path) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps({"id": r["id"], "title": r["title"], "text": r["body"], "source": "BBC"}) + "\n")
    return path


def wait_until_up(url: str, proc: subprocess.Popen, timeout: float = 180) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{url} did not come up")


class Users:
    def __init__(self, ui: str, api: str, questions: list[str], think: float) -> None:
        self.ui, self.api, self.questions, self.think = ui, api, questions, think
        self.phase = "quiet"
        self.stop = threading.Event()
        self.samples: list[tuple[str, str, float, float, bool]] = []  # phase, via, start, seconds, ok
        self.lock = threading.Lock()

    def record(self, via: str, start: float, ok: bool) -> None:
        with self.lock:
            self.samples.append((self.phase, via, start, time.perf_counter() - start, ok))

    def ui_user(self, seed: int) -> None:
        from gradio_client import Client

        client = Client(self.ui, verbose=False)
        rng = random.Random(seed)
        while not self.stop.is_set():
            start = time.perf_counter()
            try:
                answer = json.loads(client.predict(rng.choice(self.questions), api_name="/ask"))
                ok = "text" in answer
            except Exception:  # noqa: BLE001 - every failure counts as an error
                ok = False
            self.record("ui", start, ok)
            self.stop.wait(self.think)

    def api_user(self, seed: int) -> None:
        import httpx

        rng = random.Random(seed)
        with httpx.Client(base_url=self.api, timeout=120) as http:
            while not self.stop.is_set():
                start = time.perf_counter()
                body = {"model": "extractive", "messages": [{"role": "user", "content": rng.choice(self.questions)}]}
                try:
                    reply = http.post("/chat/completions", json=body)
                    ok = reply.status_code == 200 and bool(reply.json()["choices"][0]["message"]["content"])
                except (httpx.HTTPError, ValueError, KeyError):
                    ok = False
                self.record("api", start, ok)
                self.stop.wait(self.think)


def summary(samples: list[tuple[str, str, float, float, bool]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for phase in ("quiet", "ingesting"):
        for via in ("ui", "api", "all"):
            rows = [s for s in samples if s[0] == phase and (via == "all" or s[1] == via)]
            if not rows:
                continue
            times = sorted(s[3] for s in rows if s[4])
            q = statistics.quantiles(times, n=20) if len(times) >= 2 else times * 19
            out[f"{phase}/{via}"] = {
                "asks": len(rows),
                "errors": sum(not s[4] for s in rows),
                "p50_s": round(statistics.median(times), 3) if times else None,
                "p95_s": round(q[18], 3) if times else None,
                "max_s": round(times[-1], 3) if times else None,
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120, help="length of each phase")
    parser.add_argument("--base", type=int, default=300, help="BBC articles in the index before the test")
    parser.add_argument("--ingest", type=int, default=1000, help="BBC articles ingested during the second phase")
    parser.add_argument("--think", type=float, default=1.0, help="seconds a user waits between questions")
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "load")
    args = parser.parse_args()

    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    rows = [json.loads(line) for line in gzip.open(BBC, "rt", encoding="utf-8")]
    random.Random(0).shuffle(rows)
    base, extra = rows[: args.base], rows[args.base : args.base + args.ingest]
    index = out / "index"
    env = {**os.environ, "ASSISTANT_INDEX": str(index), "OMP_WAIT_POLICY": "PASSIVE"}
    if index.exists():
        subprocess.run(["rm", "-rf", str(index)], check=True)
    t = time.perf_counter()
    subprocess.run(
        [str(BIN / "assistant"), "ingest", str(write_records(base, out / "base.jsonl"))], env=env, check=True
    )
    print(f"base index: {len(base)} articles in {time.perf_counter() - t:.0f} s")
    questions = [json.loads(line)["question"] for line in (ROOT / "benchmarks/data/bbc-questions.jsonl").open()]

    ui_port, api_port = free_port(), free_port()
    servers = [
        subprocess.Popen([str(BIN / "assistant"), "serve", "--port", str(ui_port)], env=env),
        subprocess.Popen([str(BIN / "assistant"), "api", "--port", str(api_port)], env=env),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{ui_port}/", servers[0])
        wait_until_up(f"http://127.0.0.1:{api_port}/v1/models", servers[1])
        users = Users(f"http://127.0.0.1:{ui_port}/", f"http://127.0.0.1:{api_port}/v1", questions, args.think)
        threads = [
            threading.Thread(target=users.ui_user if i % 2 == 0 else users.api_user, args=(i,), daemon=True)
            for i in range(args.users)
        ]
        for th in threads:
            th.start()
        time.sleep(args.seconds)
        users.phase = "ingesting"
        t = time.perf_counter()
        ingest = subprocess.Popen(
            [str(BIN / "assistant"), "ingest", str(write_records(extra, out / "extra.jsonl"))],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        deadline = time.perf_counter() + max(args.seconds, 1)
        while ingest.poll() is None or time.perf_counter() < deadline:
            time.sleep(0.5)
        ingest_s = time.perf_counter() - t
        users.stop.set()
        for th in threads:
            th.join(180)
        ingested = ingest.stdout.read() if ingest.stdout else ""
    finally:
        for s in servers:
            s.terminate()
            s.wait(30)
    from index import PassageStore, content_id

    found = PassageStore.read_manifest(index).articles
    expected = len({content_id(r["title"], r["body"]) for r in base + extra})  # a story filed twice counts once
    during = [s for s in users.samples if s[0] == "ingesting" and t <= s[2] <= t + ingest_s and s[4]]
    result = {
        "users": args.users,
        "think_s": args.think,
        "phase_s": args.seconds,
        "phases": summary(users.samples),
        "ingest": {"articles": len(extra), "seconds": round(ingest_s, 1), "output": ingested.strip()},
        "asks_answered_during_ingest": len(during),
        "articles_expected": expected,
        "articles_found": found,
        "cores": os.cpu_count(),
    }
    (out / "results.json").write_text(json.dumps(result, indent=2))
    print("| phase/interface | asks | errors | p50 s | p95 s | max s |\n|---|---|---|---|---|---|")
    for name, m in result["phases"].items():
        print(f"| {name} | {m['asks']} | {m['errors']} | {m['p50_s']} | {m['p95_s']} | {m['max_s']} |")
    print(
        f"\ningest of {len(extra)} articles took {ingest_s:.0f} s; {len(during)} asks answered meanwhile; "
        f"articles expected {expected}, found {found}"
    )


if __name__ == "__main__":
    main()
