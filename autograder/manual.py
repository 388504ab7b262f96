"""Questions graded by hand: collecting the answers, merging the points back.

A manual question in a student notebook built by ``otter assign`` has no
``grader.check`` cell; otter marks it instead with ``<!-- BEGIN QUESTION -->``
at the top of its prompt cell and ``<!-- END QUESTION -->`` at the top of the
next markdown cell. The cells in between are the student's answer. The k-th
marked block is the k-th manual question of the assignment, in question order.

``nngrade grade`` writes every student's answers into ``manual_review.csv``
(one row per submission and manual question, with an empty ``points``
column). The instructor fills in the points in a spreadsheet and runs
``nngrade grade ... --manual-scores FILE``; the points then appear in
``scores.csv`` as a column per question, with ``manual_possible`` beside the
autograded ``possible``, and count in ``total``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import nbformat
import pandas as pd

from . import assignments
from .errors import ManualScoresError, UnknownAssignmentError
from .spec import Suite
from .spreadsheet import spreadsheet_text

if TYPE_CHECKING:
    from .grader import SubmissionResult

logger = logging.getLogger(__name__)

BEGIN_MARK = "<!-- BEGIN QUESTION -->"
END_MARK = "<!-- END QUESTION -->"

#: The text otter puts in a written answer cell of the student notebook.
PLACEHOLDER = "_Type your answer here, replacing this text._"

#: File name of the review file in the output folder of ``nngrade grade``.
REVIEW_FILE = "manual_review.csv"

REVIEW_COLUMNS = ("submission", "student", "question", "status", "answer", "points")

#: ``status`` of a review row: the student wrote something, left the
#: placeholder (or nothing), or the notebook had no answer to read at all.
ANSWERED, BLANK, MISSING = "answered", "blank", "missing"


def manual_names(suite: Suite) -> list[str]:
    """The manual questions of ``suite``, in question order."""
    return [q.name for q in suite.questions if q.manual]


def column(question: str) -> str:
    """The ``scores.csv`` column of a manual question."""
    return f"{question} (manual)"


def _text(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def question_blocks(nb: nbformat.NotebookNode) -> list[list[int]]:
    """Cell indices inside each ``BEGIN QUESTION`` / ``END QUESTION`` block.

    The marker cells themselves (the prompt, and the next question's prompt)
    are not part of a block.
    """
    blocks: list[list[int]] = []
    current: list[int] | None = None
    for index, cell in enumerate(nb.get("cells", [])):
        source = _text(cell) if cell.get("cell_type") == "markdown" else ""
        if END_MARK in source and current is not None:
            blocks.append(current)
            current = None
        if BEGIN_MARK in source:
            if current is not None:
                blocks.append(current)
            current = []
            continue
        if current is not None and END_MARK not in source:
            current.append(index)
    if current is not None:
        blocks.append(current)
    return blocks


def names_for(nb: nbformat.NotebookNode) -> list[str]:
    """Manual questions of the assignment named in the notebook's otter metadata."""
    name = nb.get("metadata", {}).get("otter", {}).get("assignment_name")
    if not name:
        return []
    try:
        return manual_names(assignments.get(str(name)).suite)
    except (UnknownAssignmentError, ImportError):
        return []


def collect_answers(nb: nbformat.NotebookNode, names: Sequence[str]) -> dict[str, str]:
    """``{question: answer text}`` for each manual question found in ``nb``.

    Every non-empty cell of a question's block counts, so an answer written in
    a cell the student added is read too.
    """
    found = {}
    for name, block in zip(names, question_blocks(nb)):
        parts = [_text(nb.cells[i]).strip() for i in block]
        found[name] = "\n\n".join(p for p in parts if p)
    return found


def answer_status(answers: dict[str, str], question: str) -> str:
    if question not in answers:
        return MISSING
    text = answers[question].replace(PLACEHOLDER, "").strip()
    return ANSWERED if text else BLANK


def _review_answer(answers: dict[str, str], question: str) -> str:
    """The answer as the review file shows it.

    A student's text that a spreadsheet would run as a formula gets a leading
    apostrophe, which spreadsheets read as "this is text".
    """
    if answer_status(answers, question) != ANSWERED:
        return ""
    return spreadsheet_text(answers[question])


Scores = dict[tuple[str, str], float]


def review_frame(
    results: Iterable[SubmissionResult], suite: Suite, points: Scores | None = None
) -> pd.DataFrame:
    """One row per submission and manual question; ``points`` fills in known points."""
    points = points or {}
    rows = []
    for result in sorted(results, key=lambda r: r.submission):
        for question in manual_names(suite):
            status = answer_status(result.manual_answers, question)
            known = points.get((result.submission, question))
            rows.append(
                {
                    "submission": result.submission,
                    "student": result.student,
                    "question": question,
                    "status": status,
                    "answer": _review_answer(result.manual_answers, question),
                    "points": "" if known is None else f"{known:g}",
                }
            )
    return pd.DataFrame(rows, columns=list(REVIEW_COLUMNS))


def write_review(path: Path, frame: pd.DataFrame) -> None:
    """Write the review file with a byte-order mark, so spreadsheets read it as UTF-8."""
    # Imported here: results imports grader, which imports this module.
    from .results import write_atomic

    write_atomic(path, "\ufeff" + frame.to_csv(index=False))


def _read_table(path: Path) -> pd.DataFrame:
    """The review file as strings; spreadsheets may save it as UTF-8 or as CP949."""
    last: Exception | None = None
    for encoding in ("utf-8-sig", "cp949"):
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
        except UnicodeDecodeError as exc:
            last = exc
        except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            raise ManualScoresError(path, f"cannot be read as CSV ({exc})") from exc
    raise ManualScoresError(path, "is neither UTF-8 nor CP949 text") from last


def read_scores(path: Path, suite: Suite) -> Scores:
    """Points per ``(submission, question)`` from a filled-in review file.

    An empty ``points`` cell is accepted only for a blank or missing answer
    (it counts 0); anything else that is not a number from 0 to the
    question's points raises :class:`ManualScoresError` naming the row.
    """
    path = Path(path)
    table = _read_table(path)
    table.columns = [str(c).strip() for c in table.columns]
    needed = [c for c in ("submission", "question", "points") if c not in table.columns]
    if needed:
        raise ManualScoresError(
            path, f"has no column {', '.join(needed)}; use the {REVIEW_FILE} that grading wrote"
        )
    possible = {q.name: q.manual_points for q in suite.questions if q.manual}
    scores: Scores = {}
    for number, row in enumerate(table.to_dict("records"), start=2):
        submission, question = row["submission"].strip(), row["question"].strip()
        where = f"row {number} ({submission}, {question})"
        if question not in possible:
            known = ", ".join(possible) or "none"
            raise ManualScoresError(
                path,
                f"{where}: {question!r} is not a manually graded question of "
                f"{suite.assignment} (those are: {known})",
            )
        text = row["points"].strip()
        if not text and row.get("status", "").strip() in (BLANK, MISSING):
            value = 0.0
        elif not text:
            raise ManualScoresError(
                path, f"{where}: no points filled in; give 0 to {possible[question]:g}"
            )
        else:
            try:
                value = float(text.replace(",", "."))
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or not 0 <= value <= possible[question]:
                raise ManualScoresError(
                    path,
                    f"{where}: points {text!r} is not a number from 0 to {possible[question]:g}",
                )
        if (submission, question) in scores:
            raise ManualScoresError(path, f"{where}: a second row for the same answer")
        scores[(submission, question)] = value
    return scores


def kept_points(path: Path, suite: Suite, results: Iterable[SubmissionResult]) -> Scores:
    """Points already filled in a review file that is about to be rewritten.

    Only rows whose answer is still the submission's answer are kept, and rows
    that :func:`read_scores` would refuse are skipped: this keeps an
    instructor's work from being overwritten, nothing more.
    """
    try:
        table = _read_table(path)
    except ManualScoresError:
        return {}
    possible = {q.name: q.manual_points for q in suite.questions if q.manual}
    answers = {r.submission: r.manual_answers for r in results}
    kept: Scores = {}
    for row in table.to_dict("records"):
        submission = str(row.get("submission", "")).strip()
        question = str(row.get("question", "")).strip()
        current = answers.get(submission, {})
        # Spreadsheets may change line endings and spaces, and drop the apostrophe
        # in front of formula-like text; compare the words.
        written = str(row.get("answer", "")).lstrip("'").split()
        now = _review_answer(current, question).lstrip("'").split()
        if question not in possible or written != now:
            continue
        try:
            value = float(str(row.get("points", "")).strip())
        except ValueError:
            continue
        if 0 <= value <= possible[question]:
            kept[(submission, question)] = value
    return kept


def merge_scores(frame: pd.DataFrame, scores: Scores, suite: Suite) -> pd.DataFrame:
    """``scores.csv`` with a column per manual question, ``manual_possible``, and
    ``total`` counting the manual points; ``possible`` stays the autograded total."""
    names = manual_names(suite)
    frame = frame.copy()
    at = list(frame.columns).index("total")
    for offset, question in enumerate(names):
        values = [scores.get((s, question), math.nan) for s in frame["submission"]]
        frame.insert(at + offset, column(question), values)
    manual_total = frame[[column(q) for q in names]].sum(axis=1, min_count=0)
    frame["total"] = (frame["total"] + manual_total).round(6)
    frame.insert(
        list(frame.columns).index("possible") + 1,
        "manual_possible",
        sum(q.manual_points for q in suite.questions if q.manual),
    )
    return frame


def report_coverage(path: Path, scores: Scores, submissions: Iterable[str], suite: Suite) -> None:
    """Warn about rows for submissions not in this batch, and answers without points."""
    graded = set(submissions)
    unknown = sorted({s for s, _ in scores if s not in graded})
    if unknown:
        logger.warning(
            "%s: rows for submissions that are not in this batch were ignored: %s",
            path,
            ", ".join(unknown),
        )
    unscored = sorted(
        f"{s} {q}" for s in graded for q in manual_names(suite) if (s, q) not in scores
    )
    if unscored:
        logger.warning("%s has no points for: %s", path, ", ".join(unscored))
