"""Evaluation reports: a Markdown summary and a self-contained HTML page (inline SVG plots, no
scripts, nothing fetched) with the metrics table and definitions, per-metric distributions, a
per-question scatter of retrieval against faithfulness, the worst questions with their answers and
cited passages, and the run's settings, prompt version and index fingerprint."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.metrics import DEFINITIONS

_PLOTTED = ("faithfulness", "citation_recall", "citation_precision", "token_f1", "contains_reference", "mrr", "hit@10")


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _definition(name: str) -> str:
    base = name.split("@")[0] + ("@k" if "@" in name else "")
    return DEFINITIONS.get(name) or DEFINITIONS.get(base, "")


# metrics an extractive answer meets by construction: its sentences are copied from the passages it cites
_BY_CONSTRUCTION = {"faithfulness", "citation_precision", "citation_recall", "verified"}
_CONSTRUCTION_NOTE = " <em>(1 by construction: the extractive engine copies the sentences it cites)</em>"


def plain_counts(summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """What a reader asks first, in counts: how many answers hold the reference, how many
    unanswerable questions were refused, how many answerable ones were refused, how many errors."""
    ok = [r for r in rows if not r.get("error")]
    scored = [r for r in ok if r["answerable"] and r["metrics"].get("contains_reference") is not None]
    right = sum(r["metrics"]["contains_reference"] == 1.0 for r in scored)
    unanswerable = [r for r in ok if not r["answerable"]]
    refused = sum(bool(r["metrics"].get("refused")) for r in unanswerable)
    false_refusals = sum(bool(r["metrics"].get("refused")) for r in ok if r["answerable"])
    parts = []
    if scored:
        parts.append(f"{right} of {len(scored)} answers contain the reference answer")
    if unanswerable:
        parts.append(f"{refused} of {len(unanswerable)} unanswerable questions refused")
    answerable = sum(r["answerable"] for r in ok)
    if answerable:
        parts.append(f"{false_refusals} of {answerable} answerable questions refused (false refusals)")
    if summary["errors"]:
        parts.append(f"{summary['errors']} questions failed with an error")
    return "; ".join(parts) + "." if parts else "No question was scored."


def by_construction(name: str, config: dict[str, Any]) -> bool:
    """Whether ``name`` is 1.000 by construction for this run's engine (the extractive engine's
    sentences are the passages' own, so they are faithful to and supported by what they cite)."""
    return config.get("engine") == "extractive" and name in _BY_CONSTRUCTION


def markdown(config: dict[str, Any], summary: dict[str, Any], rows: Sequence[dict[str, Any]] = ()) -> str:
    lines = [
        f"# Evaluation of {Path(config['testset']).name}",
        "",
        plain_counts(summary, rows),
        "",
        f"{summary['questions']} questions ({summary['answerable']} answerable, {summary['unanswerable']} not), "
        f"{summary['answered']} answered, {summary['errors']} errors. Index `{config['index']}` "
        f"(fingerprint {config['index_fingerprint']}, {config['articles']} articles), engine {engine_line(config)}, "
        f"prompt: {config['prompt']}.",
        "",
        "| metric | value | questions | definition |",
        "|---|---|---|---|",
    ]
    for name, value in summary["metrics"].items():
        count = summary["applies_to"].get(
            name, summary["unanswerable"] if name == "refusal_rate" else summary["answerable"]
        )
        note = " (1 by construction: the extractive engine copies the sentences it cites)"
        lines.append(
            f"| {name} | {_fmt(value)} | {count} | {_definition(name)}{note if by_construction(name, config) else ''} |"
        )
    latency = summary["latency_ms"]
    first = summary.get("first_token_ms", {})
    lines += [
        "",
        f"Latency per question: p50 {latency['p50']} ms, p95 {latency['p95']} ms; "
        f"first token p50 {first.get('p50')} ms, p95 {first.get('p95')} ms.",
        "",
    ]
    return "\n".join(lines)


def _histogram(values: Sequence[float], title: str, bins: int = 10) -> str:
    w, h, pad = 260, 150, 24
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v * bins)))] += 1
    top = max(counts) or 1
    bar_w = (w - 2 * pad) / bins
    bars = "".join(
        f'<rect x="{pad + i * bar_w:.1f}" y="{h - pad - (c / top) * (h - 2 * pad):.1f}" width="{bar_w - 2:.1f}" '
        f'height="{(c / top) * (h - 2 * pad):.1f}" fill="#4a7bd0"><title>{i / bins:.1f}-{(i + 1) / bins:.1f}: {c}'
        f"</title></rect>"
        for i, c in enumerate(counts)
    )
    return (
        f'<figure><svg width="{w}" height="{h}" role="img" aria-label="{html.escape(title)}">{bars}'
        f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#333"/>'
        f'<text x="{pad}" y="{h - 6}" font-size="10">0</text>'
        f'<text x="{w - pad - 6}" y="{h - 6}" font-size="10">1</text>'
        f"</svg><figcaption>{html.escape(title)} (n={len(values)})</figcaption></figure>"
    )


def _scatter(points: Sequence[tuple[float, float, str]], x_label: str, y_label: str) -> str:
    w, h, pad = 320, 240, 34
    dots = "".join(
        f'<circle cx="{pad + x * (w - 2 * pad):.1f}" cy="{h - pad - y * (h - 2 * pad):.1f}" r="4" '
        f'fill="#d0584a" fill-opacity="0.6"><title>{html.escape(label)}: {x:.2f}, {y:.2f}</title></circle>'
        for x, y, label in points
    )
    return (
        f'<figure><svg width="{w}" height="{h}" role="img" aria-label="{x_label} against {y_label}">'
        f'<rect x="{pad}" y="{pad}" width="{w - 2 * pad}" height="{h - 2 * pad}" fill="none" stroke="#999"/>{dots}'
        f'<text x="{w / 2 - 30}" y="{h - 8}" font-size="11">{x_label}</text>'
        f'<text x="4" y="{pad - 10}" font-size="11">{y_label}</text></svg>'
        f"<figcaption>per question: {x_label} (x) against {y_label} (y), n={len(points)}</figcaption></figure>"
    )


def _score(row: dict[str, Any]) -> float | None:
    """How well a question went, 0 (worst) to 1; None for an unanswerable question correctly
    refused (nothing went wrong). An error is the worst; an answer to an unanswerable question
    scores 0; an answerable one the mean of faithfulness, contains_reference, hit@10 and not
    refusing (a wrong refusal counts against it)."""
    if row.get("error"):
        return -1.0
    m = row["metrics"]
    if not row["answerable"]:
        return None if m.get("refused") else 0.0
    parts = [m.get("faithfulness"), m.get("contains_reference"), m.get("hit@10"), 1 - m.get("refused", 0.0)]
    present = [p for p in parts if p is not None]
    return sum(present) / len(present) if present else 1.0


def worst_rows(rows: Sequence[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    """The ``n`` questions that went worst (see :func:`_score`), worst first; only those that went
    wrong (a perfect answer is never listed, however few went wrong)."""
    scored = [(score, i) for i, r in enumerate(rows) if (score := _score(r)) is not None and score < 1.0]
    return [rows[i] for _, i in sorted(scored)[:n]]


def _failure(row: dict[str, Any]) -> str:
    """What went wrong with a question, in words."""
    if row.get("error"):
        return f"error: {row['error']}"
    m = row["metrics"]
    if not row["answerable"]:
        return "answered a question the articles can't answer"
    reasons = []
    if m.get("refused"):
        reasons.append("refused")
    elif m.get("contains_reference") == 0.0:
        reasons.append("the answer lacks the reference")
    if m.get("hit@10") == 0.0:
        reasons.append("no reference article retrieved")
    if m.get("faithfulness") is not None and m["faithfulness"] < 1.0:
        reasons.append(f"faithfulness {m['faithfulness']:.2f}")
    return ", ".join(reasons) or "partly right"


def _question_html(row: dict[str, Any]) -> str:
    refs = ", ".join(html.escape(str(r)) for r in row.get("reference_answer") or []) or "none"
    cites = "".join(
        f"<blockquote>[{c['marker']}] <i>{html.escape(c['title'])}</i>: {html.escape(c['passage'])}</blockquote>"
        for c in row.get("citations", [])
    )
    sources = f"<details><summary>cited passages</summary>{cites}</details>" if cites else ""
    return (
        f"<tr><td>{html.escape(row['question'])}<br><small>{html.escape(row['id'])}</small></td><td>{refs}</td>"
        f"<td>{html.escape(row.get('answer', ''))}{sources}</td><td>{html.escape(_failure(row))}</td></tr>"
    )


def html_body(config: dict[str, Any], summary: dict[str, Any], rows: Sequence[dict[str, Any]], worst: int = 10) -> str:
    """The report's content as HTML (what the page's <body> holds, and what the UI shows)."""
    ok = [r for r in rows if not r.get("error")]
    # metrics that are 1 by construction with these settings go last: they tell nothing about this run
    ordered = sorted(summary["metrics"].items(), key=lambda item: by_construction(item[0], config))
    table = "".join(
        f'<tr><td style="white-space:nowrap">{html.escape(name)}</td><td style="white-space:nowrap">{_fmt(value)}</td>'
        f"<td>{html.escape(_definition(name))}{_CONSTRUCTION_NOTE if by_construction(name, config) else ''}</td></tr>"
        for name, value in ordered
    )
    series = {name: [r["metrics"][name] for r in ok if name in r["metrics"]] for name in _PLOTTED}
    # a distribution with one bar tells nothing the table doesn't
    plots = "".join(
        _histogram(values, name) for name, values in series.items() if len({min(9, int(v * 10)) for v in values}) > 1
    )
    x_name = "mrr" if any("mrr" in r["metrics"] for r in ok) else "contains_reference"
    points = [
        (r["metrics"][x_name], r["metrics"]["faithfulness"], r["id"])
        for r in ok
        if x_name in r["metrics"] and "faithfulness" in r["metrics"]
    ]
    scatter = _scatter(points, x_name, "faithfulness") if points else "<p>No question has both values.</p>"
    worst_list = worst_rows(rows, worst)
    settings = html.escape(json.dumps(config, indent=2))
    failures = "".join(_question_html(r) for r in worst_list) or "<tr><td colspan=4>None.</td></tr>"
    return f"""<h1>Evaluation of {html.escape(Path(config["testset"]).name)}</h1>
<p id="plain-counts"><strong>{html.escape(plain_counts(summary, rows))}</strong></p>
<p id="counts">{summary["questions"]} questions ({summary["answerable"]} answerable, {summary["unanswerable"]} not),
{summary["answered"]} answered, {summary["errors"]} errors; latency p50 {summary["latency_ms"]["p50"]} ms,
p95 {summary["latency_ms"]["p95"]} ms. Engine <code>{html.escape(engine_line(config))}</code>.</p>
<h2>Questions that went wrong</h2><table id="worst"><tr><th>question</th><th>reference</th><th>answer</th>
<th>what went wrong</th></tr>{failures}</table>
<h2>Metrics</h2><table id="metrics"><tr><th style="white-space:nowrap">metric</th>
<th style="white-space:nowrap">value</th><th>definition</th></tr>{table}</table>
{f"<h2>Distributions</h2>{plots}" if plots else ""}
<h2>Retrieval against faithfulness</h2>{scatter}
<details id="settings"><summary>Settings, index and prompt</summary><p>Index fingerprint
<code>{config["index_fingerprint"]}</code> ({config["articles"]} articles), prompt: {html.escape(config["prompt"])}.</p>
<pre>{settings}</pre></details>"""


def html_report(config: dict[str, Any], summary: dict[str, Any], rows: Sequence[dict[str, Any]]) -> str:
    """The report as a standalone HTML page."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Evaluation: {html.escape(Path(config["testset"]).name)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.3em .6em;vertical-align:top}}
figure{{display:inline-block;margin:.5em}}
blockquote{{color:#444;border-left:3px solid #ccc;margin:.3em 0;padding-left:.6em}}
</style></head><body>
{html_body(config, summary, rows)}
</body></html>
"""


def write_reports(
    run_dir: Path, config: dict[str, Any], summary: dict[str, Any], rows: Sequence[dict[str, Any]]
) -> None:
    (run_dir / "report.md").write_text(markdown(config, summary, rows), encoding="utf-8")
    (run_dir / "report.html").write_text(html_report(config, summary, rows), encoding="utf-8")


def engine_line(config: dict[str, Any]) -> str:
    """Engine, model and prompt of a run, for reports."""
    model = f" ({config['model']})" if config.get("model") else ""
    return f"{config['engine']}{model}"
