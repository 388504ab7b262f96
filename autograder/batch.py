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

from . import assignments, manual, results, sandbox
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
    #: The answers to manually graded questions, for review; None if there are none.
    manual_review: Path | None = None

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
    manual_scores: Path | None = None,
) -> BatchResult:
    """Grade every submission in ``submissions`` and write the results to ``out``.

    Writes ``out/scores.csv`` (kept current as submissions finish), one
    ``out/results/<name>.json`` and one ``out/feedback/<name>.md`` per
    submission. A submission that cannot be graded still gets its row, with a
    status and a message. ``on_result`` is called as each one finishes.

    If the assignment has manually graded questions, ``out/manual_review.csv``
    lists every answer with an empty ``points`` column. ``manual_scores`` is
    such a file with the points filled in: they are checked before grading
    starts and merged into ``scores.csv`` (see :mod:`autograder.manual`).
    """
    spec = assignments.get(assignment)
    suite = spec.suite
    out = Path(out)
    hand_points = manual.read_scores(manual_scores, suite) if manual_scores else None
    review_path = out / manual.REVIEW_FILE if manual.manual_names(suite) else None
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

    def scores_of(rows: list[SubmissionResult]) -> pd.DataFrame:
        frame = results.scores_frame(rows, suite)
        if hand_points is not None:
            frame = manual.merge_scores(frame, hand_points, suite)
        return frame

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
            results.write_scores(out / "scores.csv", scores_of(done))
        if on_result is not None:
            on_result(result)

    workers = max(1, min(workers or default_workers(), len(items) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(run, item) for item in items]
        for future in as_completed(futures):
            record(future.result())

    frame = scores_of(done)
    results.write_scores(out / "scores.csv", frame)
    if review_path is not None:
        # Points already typed into an earlier review file in this folder are kept.
        known = manual.kept_points(review_path, suite, done) if review_path.exists() else {}
        known.update(hand_points or {})
        manual.write_review(review_path, manual.review_frame(done, suite, known))
    if hand_points is not None:
        manual.report_coverage(manual_scores, hand_points, [r.submission for r in done], suite)
    return BatchResult(out, done, frame, isolation, review_path)
