"""Ingesting a feed of 200 entries served on 127.0.0.1, beside ingesting the same pages as files.

    .venv/bin/python -m benchmarks.feed_ingest [--entries 200] [--delays 0 0.5]

Rows (one process, one run each, the embedder loaded and warmed before the first):
- ``files``: the same 200 HTML pages written to a folder and ingested from it (the baseline);
- ``feed, host delay D s``: a fresh index, ``Assistant.add([feed URL])``: the feed, robots.txt and
  every entry's page fetched (at most 2 at once to the host, D seconds between starts), extracted,
  embedded, saved;
- ``refresh, nothing new``: the same feed refreshed: its ETag sent back, a 304, no page fetched,
  nothing embedded (target under 2 s).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant import Assistant, Settings
from tests.helpers.news_site import NewsSite, story_html

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--delays", type=float, nargs="*", default=[0.0, 0.5])
    args = parser.parse_args()
    rows: list[tuple[str, int, int, float, str]] = []
    with NewsSite(list(range(1, args.entries + 1))) as site, tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        folder = work / "pages"
        folder.mkdir()
        for n in range(1, args.entries + 1):
            (folder / f"story-{n}.html").write_text(story_html(n, site.base), encoding="utf-8")
        warm = Assistant.open(work / "warm", Settings(), create=True)
        warm.index.embedder.embed(["warm up the embedder"] * 8)
        started = time.perf_counter()
        report = warm.add([folder])
        seconds = time.perf_counter() - started
        rows.append(("files (baseline)", len(report.added), report.passages, seconds, "-"))
        for delay in args.delays:
            bot = Assistant.open(work / f"feed-{delay}", Settings(sources={"host_delay_s": delay}), create=True)
            site.requests.clear()
            started = time.perf_counter()
            report = bot.add([f"{site.base}/rss.xml"], trusted=True)
            seconds = time.perf_counter() - started
            rows.append(
                (
                    f"feed, host delay {delay:g} s",
                    len(report.added),
                    report.passages,
                    seconds,
                    str(sum(site.requests.values())),
                )
            )
            site.requests.clear()
            started = time.perf_counter()
            again = bot.web.refresh()
            seconds = time.perf_counter() - started
            status = again.sources[0].status
            rows.append(
                (
                    f"refresh, nothing new ({status})",
                    len(again.ingest.added),
                    again.ingest.passages,
                    seconds,
                    str(sum(site.requests.values())),
                )
            )
    print("| run | articles added | passages embedded | seconds | articles/s | HTTP requests |")
    print("|---|---|---|---|---|---|")
    for name, added, passages, seconds, requests in rows:
        rate = f"{added / seconds:.1f}" if added else "-"
        print(f"| {name} | {added} | {passages} | {seconds:.2f} | {rate} | {requests} |")


if __name__ == "__main__":
    main()
