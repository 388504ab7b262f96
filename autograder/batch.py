"""Grading a whole class: the API behind ``nngrade grade``.

A batch never loses work. Each submission's result is written, atomically, as
it finishes, and ``scores.csv`` is kept current, so a crash or ``kill -9``
loses at most the submissions in flight. Running the same command again
resumes: a submission whose content and grading configuration are unchanged
keeps its earlier result. A lock keeps two runs out of one output folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from . import __version__, assignments, manual, report, results, sandbox
from .errors import NngradeError, OutputDirLockedError
from .grader import (
    Limits,
    SubmissionResult,
    blank_result,
    default_workroot,
    grade_notebook,
)
from .intake import (
    Student,
    Submission,
    merged,
    open_submissions,
    read_roster,
    same_student,
)
from .pool import KernelPool
from .spreadsheet import guard_text_columns

logger = logging.getLogger(__name__)

LOCK_FILE = ".nngrade.lock"
LOG_FILE = "nngrade.log"


@dataclass
class BatchResult:
    """What a batch produced: its rows and where they were written."""

    out: Path
    results: list[SubmissionResult]
    scores: pd.DataFrame
    isolation: sandbox.Isolation
    #: The answers to manually graded questions, for review; None if there are none.
    manual_review: Path | None = None
    #: How many results were kept from an earlier run instead of graded again.
    reused: int = 0

    @property
    def scores_csv(self) -> Path:
        return self.out / "scores.csv"


class Progress:
    """What a batch tells its watcher; the default says nothing."""

    def start(self, total: int, reused: int) -> None:
        """``total`` submissions, of which ``reused`` are already done."""

    def advance(self, result: SubmissionResult) -> None:
        """One more submission finished."""

    def finish(self) -> None:
        """The batch is over."""


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def output_lock(out: Path) -> Iterator[None]:
    """Hold ``out``'s lock for the duration; fail at once if another run has it."""
    path = out / LOCK_FILE
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 (held for the whole run)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            raise OutputDirLockedError(out, holder) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.ctime()}")
        handle.flush()
        yield
    finally:
        handle.close()


@contextlib.contextmanager
def _log_to(path: Path) -> Iterator[None]:
    """Copy this package's log records into ``path`` (INFO and up) for the run."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    package = logging.getLogger("autograder")
    before = package.level
    if package.getEffectiveLevel() > logging.INFO:
        package.setLevel(logging.INFO)
    package.addHandler(handler)
    try:
        yield
    finally:
        package.removeHandler(handler)
        package.setLevel(before)
        handler.close()


def config_hash(spec: assignments.Assignment, limits: Limits, isolation: sandbox.Isolation) -> str:
    """A fingerprint of everything that decides a score except the submission."""
    digest = hashlib.sha256()
    digest.update(f"{__version__}|{spec.name}|{limits}|{isolation.kind}".encode())
    reference = Path(assignments.__file__).resolve().parent.parent / "reference"
    for path in sorted(reference.rglob("*.py")):
        digest.update(path.read_bytes())
    for name in spec.suite.data_files:
        digest.update((spec.data_dir / name).read_bytes())
    return digest.hexdigest()[:16]


def _content_hash(item: Submission) -> str:
    try:
        data = item.content if item.content is not None else item.path.read_bytes()
    except OSError:
        data = b""
    return hashlib.sha256(data).hexdigest()[:16]


def _earlier(out: Path, item: Submission, content: str, config: str) -> SubmissionResult | None:
    path = out / "results" / f"{results.safe_name(item.name)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        earlier = SubmissionResult.from_dict(data)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    if earlier.content_hash == content and earlier.config_hash == config:
        earlier.student = item.student
        earlier.students = [asdict(s) for s in item.students]
        return earlier
    return None


def _complete_from_roster(roster: list[Student], done: list[SubmissionResult]) -> None:
    """Give each matched submitter the roster's name, sid and email."""
    for result in done:
        people = []
        for record in result.students or []:
            found = Student(**record)
            listed = next((p for p in roster if same_student(found, p)), None)
            people.append(asdict(merged(found, listed) if listed else found))
        result.students = people


def _missing_rows(roster: list[Student], done: list[SubmissionResult], suite) -> list:
    rows = []
    for person in roster:
        submitted = any(
            same_student(person, Student(**s)) for r in done for s in (r.students or [])
        )
        if not submitted:
            label = person.label
            row = blank_result(
                suite,
                submission=f"(missing) {label}",
                student=label,
                path=Path(""),
                status="missing",
                message="on the roster, but no submission was found",
            )
            row.students = [asdict(person)]
            rows.append(row)
    return rows


def grade(
    submissions: Path,
    *,
    assignment: str,
    out: Path,
    workers: int | None = None,
    limits: Limits = Limits(),
    on_result: Callable[[SubmissionResult], None] | None = None,
    manual_scores: Path | None = None,
    roster: Path | None = None,
    name_pattern: str | None = None,
    regrade: bool = False,
    progress: Progress | None = None,
) -> BatchResult:
    """Grade every submission in ``submissions`` and write the results to ``out``.

    Writes ``out/scores.csv`` (kept current as submissions finish), one
    ``out/results/<name>.json`` and one ``out/feedback/<name>.md`` per
    submission, ``out/grades.csv`` (one row per student, for a gradebook),
    ``out/report.html`` and ``out/nngrade.log``. A submission that cannot be
    graded still gets its row, with a status and a message. ``on_result`` is
    called as each one finishes.

    Results of an earlier run into the same ``out`` are kept for submissions
    whose content and grading configuration are unchanged, unless ``regrade``.
    ``roster`` (a CSV of students) adds a ``missing`` row for each student
    without a submission. ``name_pattern`` is a regular expression with a
    ``student`` group for LMS file names (Canvas style by default).

    If the assignment has manually graded questions, ``out/manual_review.csv``
    lists every answer with an empty ``points`` column. ``manual_scores`` is
    such a file with the points filled in: they are checked before grading
    starts and merged into ``scores.csv`` (see :mod:`autograder.manual`).
    """
    spec = assignments.get(assignment)
    suite = spec.suite
    out = Path(out)
    progress = progress or Progress()
    hand_points = manual.read_scores(manual_scores, suite) if manual_scores else None
    roster_students = read_roster(Path(roster)) if roster else []
    review_path = out / manual.REVIEW_FILE if manual.manual_names(suite) else None
    out.mkdir(parents=True, exist_ok=True)
    with output_lock(out), _log_to(out / LOG_FILE):
        return _grade_locked(
            submissions,
            spec=spec,
            out=out,
            workers=workers,
            limits=limits,
            on_result=on_result,
            manual_scores=manual_scores,
            hand_points=hand_points,
            roster_students=roster_students,
            review_path=review_path,
            name_pattern=name_pattern,
            regrade=regrade,
            progress=progress,
        )


def _grade_locked(
    submissions: Path,
    *,
    spec: assignments.Assignment,
    out: Path,
    workers: int | None,
    limits: Limits,
    on_result,
    manual_scores,
    hand_points,
    roster_students: list[Student],
    review_path: Path | None,
    name_pattern: str | None,
    regrade: bool,
    progress: Progress,
) -> BatchResult:
    suite = spec.suite
    isolation = sandbox.probe()
    if not isolation.sandboxed:
        logger.warning("grading without a sandbox: %s", isolation.reason)
        results.write_atomic(
            out / "ISOLATION.txt",
            "Submissions in this folder were graded WITHOUT the bubblewrap sandbox.\n"
            f"{isolation.describe()}\n"
            "Student code could read files the kernel's user can read, and use the network.\n",
        )
    else:
        (out / "ISOLATION.txt").unlink(missing_ok=True)
    config = config_hash(spec, limits, isolation)
    workroot = default_workroot()
    done: list[SubmissionResult] = []
    lock = threading.Lock()

    def scores_of(rows: list[SubmissionResult]) -> pd.DataFrame:
        frame = results.scores_frame(rows, suite)
        if hand_points is not None:
            frame = manual.merge_scores(frame, hand_points, suite)
        return frame

    def run(item: Submission, content: str) -> SubmissionResult:
        try:
            if item.problem:
                raise NngradeError(item.problem)
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
                kernels=kernels,
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
        result.students = [asdict(s) for s in item.students]
        result.content_hash, result.config_hash = content, config
        if result.status == "error":
            logger.warning("%s: %s", item.name, result.message)
        elif result.status != "ok":
            logger.error("%s: %s: %s", item.name, result.status, result.message)
        return result

    def record(result: SubmissionResult, *, write: bool = True) -> None:
        if write:
            name = results.safe_name(result.submission)
            try:
                results.write_result_json(out / "results" / f"{name}.json", result)
                results.write_atomic(out / "feedback" / f"{name}.md", results.feedback_text(result))
            except (OSError, ValueError) as exc:
                # Its row still goes into scores.csv; only a later resume re-grades it.
                logger.error("%s: could not write its result files: %s", result.submission, exc)
        with lock:
            done.append(result)
            results.write_scores(out / "scores.csv", scores_of(done))
        progress.advance(result)
        if on_result is not None:
            on_result(result)

    with open_submissions(
        Path(submissions), assignment=spec.name, name_pattern=name_pattern
    ) as items:
        hashes = {item.name: _content_hash(item) for item in items}
        earlier = {}
        if not regrade:
            for item in items:
                kept = _earlier(out, item, hashes[item.name], config)
                if kept is not None:
                    earlier[item.name] = kept
        todo = [item for item in items if item.name not in earlier]
        if earlier:
            logger.info("keeping %d results of an earlier run; grading %d", len(earlier), len(todo))
        progress.start(len(items), len(earlier))
        for kept in earlier.values():
            record(kept, write=False)
        count = max(1, min(workers or default_workers(), len(todo) or 1))
        kernels = KernelPool(
            size=count,
            total=len(todo),
            suite=suite,
            data_dir=spec.data_dir,
            workroot=workroot,
            isolation=isolation,
            limits=limits,
        )
        with kernels if todo else contextlib.nullcontext(), ThreadPoolExecutor(count) as pool:
            futures = [pool.submit(run, item, hashes[item.name]) for item in todo]
            for future in as_completed(futures):
                record(future.result())

    _complete_from_roster(roster_students, done)
    done.extend(_missing_rows(roster_students, done, suite))
    frame = scores_of(done)
    results.write_scores(out / "scores.csv", frame)
    grades = report.grades_frame(done, frame, spec.name)
    grades = guard_text_columns(grades, ("name", "sid", "email", "submission"))
    results.write_atomic(out / "grades.csv", grades.to_csv(index=False))
    results.write_atomic(
        out / "report.html",
        report.report_html(done, frame, suite, title=f"{spec.name}: {submissions}"),
    )
    if review_path is not None:
        # Points already typed into an earlier review file in this folder are kept.
        known = manual.kept_points(review_path, suite, done) if review_path.exists() else {}
        known.update(hand_points or {})
        manual.write_review(review_path, manual.review_frame(done, suite, known))
    if hand_points is not None:
        manual.report_coverage(manual_scores, hand_points, [r.submission for r in done], suite)
    progress.finish()
    return BatchResult(out, done, frame, isolation, review_path, reused=len(earlier))
