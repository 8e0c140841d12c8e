"""Evaluation: test sets, the harness that runs them through the assistant, metrics, reports and
test-set generation. The faithfulness judge is shared with answering (``assistant.answering.judges.judge``)."""

from assistant.evaluation.harness import EvaluationError, RunResult, compare_runs, evaluate, new_run_dir
from assistant.evaluation.testset import TestCase, TestSetError, load_testset, write_testset

__all__ = [
    "EvaluationError",
    "RunResult",
    "TestCase",
    "TestSetError",
    "compare_runs",
    "evaluate",
    "load_testset",
    "new_run_dir",
    "write_testset",
]
