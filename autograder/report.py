"""``report.html`` (how the class did) and ``grades.csv`` (for a gradebook).

The report is one self-contained HTML file: the plot is embedded as a PNG, so
it can be mailed or opened from any folder.
"""

from __future__ import annotations

import base64
import html
import io
from collections import Counter
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .grader import SubmissionResult
from .spec import Suite

#: Statuses of files that never ran.
_UNREADABLE = ("empty", "not-a-notebook", "unreadable")

#: How many of the most common failures to list per question.
TOP_FAILURES = 5


def grades_frame(
    results: Sequence[SubmissionResult], scores: pd.DataFrame, assignment: str
) -> pd.DataFrame:
    """One row per student: name, sid, email and the total, as gradebooks import.

    A group submission gives every member its total. Rows of the ``missing``
    status (from a roster) count as 0.
    """
    totals = dict(zip(scores["submission"], scores["total"]))
    rows = []
    for result in results:
        people = result.students or [{"name": result.student, "sid": "", "email": ""}]
        for person in people:
            rows.append(
                {
                    "name": person.get("name", ""),
                    "sid": person.get("sid", ""),
                    "email": person.get("email", ""),
                    assignment: totals.get(result.submission, 0.0),
                    "submission": result.submission,
                }
            )
    frame = pd.DataFrame(rows, columns=["name", "sid", "email", assignment, "submission"])
    return frame.sort_values(["name", "sid"], kind="stable").reset_index(drop=True)


def _histogram_png(totals: Sequence[float], possible: float) -> str:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(6.4, 3.2), dpi=100)
    # One bar per whole point (or per 1/20 of the total, for large totals),
    # centred on its value, so that 11 and 12 are not one bar.
    width = max(1.0, possible / 20)
    edges = np.arange(-width / 2, possible + width, width)
    ax.hist(totals, bins=edges, color="#4a78b5", edgecolor="white")
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(f"total (of {possible:g})")
    ax.set_ylabel("submissions")
    ax.set_title("Score distribution")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _question_table(results: Sequence[SubmissionResult], suite: Suite) -> pd.DataFrame:
    graded = [r for r in results if r.status != "missing"]
    rows = []
    for question in suite.autograded:
        points = [r.questions.get(question.name, 0.0) for r in graded]
        full = sum(1 for p in points if p >= question.points - 1e-9)
        rows.append(
            {
                "question": question.name,
                "points": question.points,
                "mean": round(sum(points) / len(points), 2) if points else 0.0,
                "full marks": f"{full / len(points):.0%}" if points else "-",
            }
        )
    return pd.DataFrame(rows)


def _common_failures(results: Sequence[SubmissionResult], suite: Suite) -> dict[str, list]:
    counts: dict[str, Counter] = {q.name: Counter() for q in suite.autograded}
    for result in results:
        if result.status == "missing" or result.status in _UNREADABLE:
            continue
        for test in result.tests:
            if not test.passed and test.question in counts:
                reason = test.detail if not test.hidden else "(hidden test)"
                counts[test.question][(test.name, reason)] += 1
    return {q: c.most_common(TOP_FAILURES) for q, c in counts.items()}


def report_html(
    results: Sequence[SubmissionResult], scores: pd.DataFrame, suite: Suite, *, title: str
) -> str:
    """The whole report as one HTML document."""
    graded = scores[scores["status"] != "missing"]
    possible = float(scores["possible"].max()) if len(scores) else suite.points
    if "manual_possible" in scores and len(scores):
        # Hand-graded points were merged into the totals.
        possible += float(scores["manual_possible"].max())
    png = _histogram_png(list(graded["total"]), possible) if len(graded) else ""
    esc = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{esc(title)}</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
        "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;"
        "padding:.3em .6em;text-align:left}th{background:#f3f3f3}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
        f"<p>{len(scores)} rows: {len(graded)} graded "
        f"(of which {int(graded['status'].isin(_UNREADABLE).sum())} could not be read), "
        f"{int((scores['status'] == 'missing').sum())} missing. "
        f"Mean total {graded['total'].mean() if len(graded) else 0:.2f} of {possible:g}, "
        f"median {graded['total'].median() if len(graded) else 0:.2f}.</p>",
    ]
    if png:
        parts.append(f"<img alt='histogram of totals' src='data:image/png;base64,{png}'>")
    parts += [
        "<h2>Questions</h2>",
        _question_table(results, suite).to_html(index=False, escape=True),
        "<h2>Most common failures</h2>",
    ]
    for question, failures in _common_failures(results, suite).items():
        parts.append(f"<h3>{esc(question)}</h3>")
        if not failures:
            parts.append("<p>No failures.</p>")
            continue
        parts.append("<table><tr><th>test</th><th>what was found</th><th>submissions</th></tr>")
        for (test, reason), count in failures:
            parts.append(f"<tr><td>{esc(test)}</td><td>{esc(reason)}</td><td>{count}</td></tr>")
        parts.append("</table>")
    failed = scores[~scores["status"].isin(["ok", "error", "missing"])]
    parts.append("<h2>Submissions that did not run to the end</h2>")
    if len(failed):
        parts.append(
            failed[["submission", "student", "status", "message"]].to_html(index=False, escape=True)
        )
    else:
        parts.append("<p>None.</p>")
    errors = scores[scores["status"] == "error"]
    if len(errors):
        parts.append("<h2>Submissions with cells that raised</h2>")
        parts.append(errors[["submission", "student", "message"]].to_html(index=False, escape=True))
    parts.append("</body></html>")
    return "\n".join(parts)
