"""Grading a whole folder of submissions: the API behind ``nngrade grade``."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from . import assignments, results, sandbox
from .errors import NngradeError
from .grader import (
    Limits,
    SubmissionResult,
    blank_result,
    default_workroot,
    grade_notebook,
)
from .intake import Submission, collect

logger = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """What a batch produced: its rows and where they were written."""

    out: Path
    results: list[SubmissionResult]
    scores: pd.DataFrame
    isolation: sandbox.Isolation

    @property
    def scores_csv(self) -> Path:
        return self.out / "scores.csv"


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


def grade(
    submissions: Path,
    *,
    assignment: str,
    out: Path,
    workers: int | None = None,
    limits: Limits = Limits(),
    on_result: Callable[[SubmissionResult], None] | None = None,
) -> BatchResult:
    """Grade every submission in ``submissions`` and write the results to ``out``.

    Writes ``out/scores.csv`` (kept current as submissions finish), one
    ``out/results/<name>.json`` and one ``out/feedback/<name>.md`` per
    submission. A submission that cannot be graded still gets its row, with a
    status and a message. ``on_result`` is called as each one finishes.
    """
    spec = assignments.get(assignment)
    suite = spec.suite
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    items = collect(Path(submissions))
    isolation = sandbox.probe()
    if not isolation.sandboxed:
        logger.warning("grading without a sandbox: %s", isolation.reason)
        results.write_atomic(
            out / "ISOLATION.txt",
            "Submissions in this folder were graded WITHOUT the bubblewrap sandbox:\n"
            f"{isolation.reason}\n"
            "Student code could read files the grading user can read.\n",
        )
    workroot = default_workroot()
    done: list[SubmissionResult] = []
    lock = threading.Lock()

    def run(item: Submission) -> SubmissionResult:
        try:
            result = grade_notebook(
                item.path,
                suite,
                submission=item.name,
                student=item.student,
                data_dir=spec.data_dir,
                workroot=workroot,
                limits=limits,
                isolation=isolation,
                content=item.content,
            )
        except NngradeError as exc:
            result = blank_result(
                suite,
                submission=item.name,
                student=item.student,
                path=item.path,
                status="unreadable",
                message=str(exc),
            )
        except Exception as exc:
            logger.exception("grading %s failed in the grader", item.name)
            result = blank_result(
                suite,
                submission=item.name,
                student=item.student,
                path=item.path,
                status="grader-error",
                message=f"grader error: {exc!r}",
            )
        if item.note:
            result.message = "; ".join(m for m in (item.note, result.message) if m)
        if result.status == "error":
            logger.warning("%s: %s", item.name, result.message)
        elif result.status != "ok":
            logger.error("%s: %s: %s", item.name, result.status, result.message)
        return result

    def record(result: SubmissionResult) -> None:
        name = results.safe_name(result.submission)
        results.write_result_json(out / "results" / f"{name}.json", result)
        results.write_atomic(out / "feedback" / f"{name}.md", results.feedback_text(result))
        with lock:
            done.append(result)
            results.write_scores(out / "scores.csv", results.scores_frame(done, suite))
        if on_result is not None:
            on_result(result)

    workers = max(1, min(workers or default_workers(), len(items) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, item) for item in items]
        for future in as_completed(futures):
            record(future.result())

    frame = results.scores_frame(done, suite)
    results.write_scores(out / "scores.csv", frame)
    return BatchResult(out, done, frame, isolation)
