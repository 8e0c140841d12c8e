"""Run a test set through the assistant and score it: a run folder with per-question results,
a summary and a report.

A run folder holds::

    run.json        settings, engine, prompt version, index fingerprint, test set, judge
    results.jsonl   one line per question: answer, citations, retrieved articles, metrics, timings
    summary.json    averages of every metric, abstention rates, counts, latency
    report.md, report.html

Runs are resumable: questions already in ``results.jsonl`` are skipped, so an interrupted run
continues where it stopped. A question that fails is recorded with its error and the run goes on.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.answering.answer import Answer
from assistant.answering.citations import split_claims
from assistant.answering.judges.judge import FaithfulnessJudge
from assistant.core import Assistant, dated
from assistant.evaluation.metrics import (
    Claim,
    citation_scores,
    contains_reference,
    exact_match,
    mean,
    percentile,
    retrieval_scores,
    token_f1,
)
from assistant.evaluation.testset import TestCase, load_testset
from index import AssistantError

RETRIEVAL_DEPTH = 10  # articles retrieved per question for hit@k, recall@k and MRR


class EvaluationError(AssistantError):
    """A run folder that cannot be used (another test set or index, or unreadable)."""


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def default_judge(bot: Assistant) -> FaithfulnessJudge:
    """The judge ``answer.judge`` names, the one the assistant verifies its answers with."""
    return bot.judge


def run_config(bot: Assistant, testset: Path, judge: FaithfulnessJudge) -> dict[str, Any]:
    return {
        "testset": str(testset),
        "testset_sha": _file_digest(testset),
        "index": str(bot.index.directory),
        "index_fingerprint": bot.index.info().fingerprint,
        "articles": bot.index.info().articles,
        "engine": bot.engine.name,
        "model": bot.engine.model,
        "prompt": bot.engine.prompt or "none (the extractive engine copies sentences)",
        "settings": json.loads(bot.settings.model_dump_json()),
        "judge": judge.describe(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _retrieved(bot: Assistant, question: str, refs: set[str], as_of: str | None = None) -> list[str]:
    """The first RETRIEVAL_DEPTH distinct articles for ``question`` (asked as of ``as_of``), each
    named the way the test set names it (its source id / key when that is what the references
    use, else its content id)."""
    options = bot.settings.retrieval
    options = options.model_copy(update={"candidates": max(options.candidates, 50), "per_article": 1})
    names = []
    for hit in bot.index.search(question, RETRIEVAL_DEPTH, options, dated(None, as_of)):
        a = hit.article
        names.append(a.id if a.id in refs else a.key if a.key in refs else a.key or a.id)
    return names


def case_day(case: TestCase) -> str | None:
    """The day a test question is asked on: its metadata's ``as_of`` or ``question_date`` (news
    quizzes carry theirs), else None (today)."""
    day = case.metadata.get("as_of") or case.metadata.get("question_date")
    return str(day) if day else None


def score_case(case: TestCase, answer: Answer, retrieved: Sequence[str], judge: FaithfulnessJudge) -> dict[str, float]:
    """Every metric that applies to this question (see assistant.evaluation.metrics.DEFINITIONS)."""
    metrics: dict[str, float] = {"refused": float(not answer.answered)}
    if case.reference_article_ids:
        metrics.update(retrieval_scores(retrieved, set(case.reference_article_ids)))
    if case.answerable and case.reference_answer:
        text = answer.text if answer.answered else ""
        # exact match and token F1 score the short answer when there is one; "contains" the whole text
        short = answer.short.text if answer.answered and answer.short else text
        for name, fn, scored in (
            ("exact_match", exact_match, short),
            ("token_f1", token_f1, short),
            ("contains_reference", contains_reference, text),
        ):
            value = fn(scored, case.reference_answer)
            if value is not None:
                metrics[name] = value
    if answer.answered:
        claims = []
        for text, markers in split_claims(answer.text, len(answer.citations)):  # drops markers citing nothing
            cited = tuple(c.passage for m in markers if (c := answer.citation(m)) is not None)
            claims.append(Claim(text, cited))
        metrics.update(citation_scores(claims, judge.supports))
        if answer.sentences:
            metrics["verified"] = sum(s.verified for s in answer.sentences) / len(answer.sentences)
    return metrics


def _result(case: TestCase, answer: Answer, retrieved: list[str], metrics: dict[str, float]) -> dict[str, Any]:
    return {
        "id": case.id,
        "question": case.question,
        "answerable": case.answerable,
        "reference_answer": case.reference_answer,
        "reference_article_ids": case.reference_article_ids,
        "answer": answer.text,
        "short": answer.short.text if answer.short else "",
        "answered": answer.answered,
        "draft": answer.draft,  # a refused written draft, or the model's refusal when fallback
        "fallback": answer.fallback,
        "citations": [
            {"marker": c.marker, "article_id": c.article_id, "title": c.title, "passage": c.passage}
            for c in answer.citations
        ],
        "retrieved": retrieved,
        "metrics": metrics,
        "timings": answer.timings,
        "error": None,
    }


def read_results(run_dir: Path) -> list[dict[str, Any]]:
    path = run_dir / "results.jsonl"
    if not path.is_file():
        return []
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line cut short by a kill: that question is asked again
            continue
    return rows


@dataclass
class RunResult:
    """A finished run: its folder, configuration (run.json), summary (summary.json) and report."""

    directory: Path
    config: dict[str, Any]
    summary: dict[str, Any]
    rows: list[dict[str, Any]]

    @property
    def report_path(self) -> Path:
        return self.directory / "report.html"

    def markdown(self) -> str:
        """The summary as a Markdown table."""
        from assistant.evaluation.report import markdown

        return markdown(self.config, self.summary, self.rows)

    def html(self) -> str:
        """The report's content as HTML, for embedding in a page."""
        from assistant.evaluation.report import html_body

        return html_body(self.config, self.summary, self.rows)


def new_run_dir(parent: Path, testset: Path) -> Path:
    """A fresh run folder under ``parent``, named for the test set and the time."""
    return parent / f"{testset.stem}-{datetime.now():%Y%m%d-%H%M%S}"


def evaluate(
    bot: Assistant,
    testset: str | Path,
    out: str | Path,
    judge: FaithfulnessJudge | None = None,
    progress: bool = False,
) -> RunResult:
    """Ask every question of ``testset``, score the answers and write the run folder ``out``
    (continuing it if it holds part of a run of the same test set on the same index)."""
    from tqdm import tqdm

    from assistant.evaluation.report import write_reports

    testset, run_dir = Path(testset), Path(out)
    cases = load_testset(testset)
    judge = judge or default_judge(bot)
    run_dir.mkdir(parents=True, exist_ok=True)
    config = run_config(bot, testset, judge)
    config_path = run_dir / "run.json"
    if config_path.is_file():
        old = json.loads(config_path.read_text())
        for key in ("testset_sha", "index_fingerprint", "settings"):
            if old.get(key) != config[key]:
                raise EvaluationError(
                    f"{run_dir} holds a run with another {key.replace('_', ' ')}; use a new --out folder"
                )
        config["started"] = old["started"]
    config_path.write_text(json.dumps(config, indent=2))

    rows = [r for r in read_results(run_dir) if r.get("error") is None]
    done = {r["id"] for r in rows}
    (run_dir / "results.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    todo = [c for c in cases if c.id not in done]
    with (run_dir / "results.jsonl").open("a", encoding="utf-8") as out_file:
        for case in tqdm(todo, desc="Evaluating", unit="question", disable=not progress):
            try:
                answer = bot.ask(case.question, as_of=case_day(case))
                retrieved = _retrieved(bot, case.question, set(case.reference_article_ids), case_day(case))
                row = _result(case, answer, retrieved, score_case(case, answer, retrieved, judge))
            except Exception as e:  # one failing question never stops the run
                row = {
                    "id": case.id,
                    "question": case.question,
                    "answerable": case.answerable,
                    "error": f"{type(e).__name__}: {e}",
                    "metrics": {},
                }
            out_file.write(json.dumps(row, ensure_ascii=False) + "\n")
            out_file.flush()
    order = {c.id: i for i, c in enumerate(cases)}
    rows = sorted((r for r in read_results(run_dir) if r["id"] in order), key=lambda r: order[r["id"]])
    summary = summarize(rows)
    summary["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    write_reports(run_dir, config, summary, rows)
    return RunResult(run_dir, config, summary, rows)


def summarize(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Averages of each metric over the questions it applies to, abstention rates, latency."""
    ok = [r for r in rows if r.get("error") is None]
    names = sorted({name for r in ok for name in r["metrics"]})
    metrics = {name: mean([r["metrics"].get(name) for r in ok]) for name in names}
    metrics.pop("refused", None)
    unanswerable = [r for r in ok if not r["answerable"]]
    answerable = [r for r in ok if r["answerable"]]
    metrics["refusal_rate"] = mean([r["metrics"]["refused"] for r in unanswerable])
    metrics["false_refusal_rate"] = mean([r["metrics"]["refused"] for r in answerable])
    latency = [r["timings"].get("total_ms", 0.0) for r in ok if r.get("timings")]
    first = [r["timings"]["first_token_ms"] for r in ok if r.get("timings", {}).get("first_token_ms") is not None]
    return {
        "questions": len(rows),
        "errors": len(rows) - len(ok),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answered": sum(1 for r in ok if r["answered"]),
        "metrics": {k: (round(v, 4) if v is not None else None) for k, v in metrics.items()},
        "applies_to": {name: sum(1 for r in ok if name in r["metrics"]) for name in names if name != "refused"},
        "latency_ms": {"p50": percentile(latency, 0.5), "p95": percentile(latency, 0.95)},
        "first_token_ms": {"p50": percentile(first, 0.5), "p95": percentile(first, 0.95)},
    }


def compare_runs(a: str | Path, b: str | Path) -> dict[str, Any]:
    """Differences between two run folders: each metric (b - a), and per question the metrics that
    changed and whether the answer text changed."""
    runs = []
    for path in (Path(a), Path(b)):
        if not (path / "results.jsonl").is_file():
            raise EvaluationError(f"{path} is not a run folder (no results.jsonl)")
        runs.append((summarize(read_results(path)), {r["id"]: r for r in read_results(path)}))
    (sa, ra), (sb, rb) = runs
    metrics = {}
    for name in sorted(set(sa["metrics"]) | set(sb["metrics"])):
        va, vb = sa["metrics"].get(name), sb["metrics"].get(name)
        metrics[name] = {"a": va, "b": vb, "delta": None if va is None or vb is None else round(vb - va, 4)}
    questions = []
    for qid in [q for q in ra if q in rb]:
        ma, mb = ra[qid].get("metrics", {}), rb[qid].get("metrics", {})
        changed = {n: [ma.get(n), mb.get(n)] for n in sorted(set(ma) | set(mb)) if ma.get(n) != mb.get(n)}
        if changed or ra[qid].get("answer") != rb[qid].get("answer"):
            questions.append(
                {
                    "id": qid,
                    "question": ra[qid]["question"],
                    "changed": changed,
                    "answer_changed": ra[qid].get("answer") != rb[qid].get("answer"),
                }
            )
    only = {"only_in_a": sorted(set(ra) - set(rb)), "only_in_b": sorted(set(rb) - set(ra))}
    return {"metrics": metrics, "questions": questions, **only}
