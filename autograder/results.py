"""Writing what grading found: ``scores.csv``, per-submission JSON and feedback.

Every file is written atomically (a temporary file, then a rename), so a run
that is stopped part way leaves complete files only.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from .grader import SubmissionResult
from .spec import Suite
from .spreadsheet import guard_text_columns

FIXED_COLUMNS = ("submission", "student")
TAIL_COLUMNS = ("total", "possible", "status", "message")


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        # Students' text can hold lone surrogates (from a JSON escape or a file
        # name that is not UTF-8); they become "?" rather than stop the batch.
        with os.fdopen(fd, "w", encoding="utf-8", errors="replace", newline="") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def scores_frame(results: Iterable[SubmissionResult], suite: Suite) -> pd.DataFrame:
    """One row per submission: points per question, total, possible, status."""
    questions = [q.name for q in suite.autograded]
    rows = []
    for result in results:
        row = {"submission": result.submission, "student": result.student}
        for q in questions:
            row[q] = result.questions.get(q, 0.0)
        row.update(
            total=result.total,
            possible=result.total_possible,
            status=result.status,
            message=result.message,
        )
        rows.append(row)
    columns = [*FIXED_COLUMNS, *questions, *TAIL_COLUMNS]
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values("submission", kind="stable").reset_index(drop=True)


def write_scores(path: Path, frame: pd.DataFrame) -> None:
    guarded = guard_text_columns(frame, ("submission", "student", "status", "message"))
    write_atomic(path, guarded.to_csv(index=False))


def write_result_json(path: Path, result: SubmissionResult) -> None:
    write_atomic(path, json.dumps(result.to_dict(), ensure_ascii=False, indent=1))


def feedback_text(result: SubmissionResult) -> str:
    """The feedback a student may see: hidden tests show only pass/fail and points."""
    lines = [
        f"# {result.submission}",
        "",
        f"점수 (score): {result.total:g} / {result.total_possible:g}",
    ]
    if result.status != "ok":
        lines.append(f"상태 (status): {result.status} — {result.message}")
    by_question: dict[str, list] = {}
    for test in result.tests:
        by_question.setdefault(test.question, []).append(test)
    for question, tests in by_question.items():
        got = sum(t.points for t in tests)
        possible = sum(t.max_points for t in tests)
        lines += ["", f"## {question}: {got:g} / {possible:g}"]
        for test in tests:
            mark = "통과 (pass)" if test.passed else "실패 (fail)"
            kind = "비공개" if test.hidden else "공개"
            line = f"- [{kind}] {test.name}: {mark}, {test.points:g}/{test.max_points:g}"
            lines.append(line)
            if not test.passed and not test.hidden:
                lines.append(f"  - {test.message}")
                if test.detail:
                    lines.append(f"  - {test.detail}")
    for question in result.manual_answers:
        lines += ["", f"## {question}: 직접 채점 (graded by hand), 위 점수에 포함되지 않음"]
    return "\n".join(lines) + "\n"


def safe_name(name: str) -> str:
    """A file name for a submission name, unique to it (keeps letters of any
    script; a name that had to change gets a short hash of the original)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_.@" else "_" for ch in name)
    cleaned = cleaned.strip("._")[:120] or "submission"
    if cleaned == name:
        return cleaned
    digest = hashlib.sha256(name.encode("utf-8", errors="surrogatepass")).hexdigest()[:8]
    return f"{cleaned}-{digest}"
