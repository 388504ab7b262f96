"""Reading a submission and finding its grading points.

A student notebook made by ``otter assign`` has an Otter set-up cell
(``grader = otter.Notebook(...)``), a ``grader.check("qN")`` cell after each
question, and usually a ``grader.check_all()`` and a ``grader.export()`` cell
at the end. Under grading, the set-up cell is replaced by a tiny stand-in (no
``import otter``, which costs most of a second), each check cell becomes the
point where that question is graded, and the other Otter cells are skipped.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from .errors import SubmissionError

_CHECK = re.compile(r"""^\s*grader\s*\.\s*check\s*\(\s*(['"])(?P<q>[\w.-]+)\1\s*\)\s*;?\s*$""")
_OTTER_INIT = re.compile(r"\botter\s*\.\s*Notebook\s*\(")
_OTTER_OTHER = re.compile(
    r"^\s*grader\s*\.\s*(check_all|export|to_pdf|run_plugin)\s*\(", re.MULTILINE
)

#: Stands in for Otter's set-up cell, so that leftover ``grader`` calls work.
GRADER_STUB = '''\
class _NngradeGrader:
    """Stand-in for otter.Notebook while nngrade grades this notebook."""

    def check(self, *args, **kwargs):
        return None

    def check_all(self, *args, **kwargs):
        return None

    def export(self, *args, **kwargs):
        return None

grader = _NngradeGrader()
del _NngradeGrader
'''


@dataclass(frozen=True)
class Step:
    """One thing to do while running a submission, in notebook order.

    ``kind`` is ``"run"`` (execute ``source``), ``"check"`` (grade
    ``question``) or ``"skip"``. ``cell`` is the 1-based cell number.
    """

    kind: str
    cell: int
    source: str = ""
    question: str = ""


def read_submission(path: Path, data: bytes | None = None) -> nbformat.NotebookNode:
    """Read a notebook, raising :class:`SubmissionError` with the reason.

    Older nbformat versions are converted to 4; cell ids are not required.
    """
    if data is None:
        data = Path(path).read_bytes()
    if not data.strip():
        raise SubmissionError(
            path, "the file is empty", "submit the saved .ipynb notebook", "empty"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = (
            "the file is cut off; save the notebook again and resubmit"
            if text.lstrip().startswith("{") and not text.rstrip().endswith("}")
            else "submit the .ipynb file that Jupyter saves, not a script or export"
        )
        raise SubmissionError(
            path,
            f"not a notebook (not JSON: {exc.msg} at line {exc.lineno})",
            hint,
            "not-a-notebook",
        ) from exc
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise SubmissionError(
            path,
            "JSON but not a Jupyter notebook (no cells)",
            "submit the .ipynb file that Jupyter saves",
            "not-a-notebook",
        )
    try:
        nb = nbformat.reads(json.dumps(raw), as_version=4)
    except Exception as exc:
        raise SubmissionError(
            path,
            f"a notebook nbformat cannot read ({exc})",
            "open it in Jupyter, save it, and resubmit",
            "not-a-notebook",
        ) from exc
    return nb


def plan(nb: nbformat.NotebookNode) -> list[Step]:
    """The steps that grading a notebook takes, in order."""
    steps = []
    for number, cell in enumerate(nb.get("cells", []), start=1):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        if not source.strip():
            continue
        match = _CHECK.match(source.strip()) if "\n" not in source.strip() else None
        if match:
            steps.append(Step("check", number, question=match["q"]))
        elif _OTTER_INIT.search(source):
            steps.append(Step("run", number, source=GRADER_STUB))
        elif _OTTER_OTHER.search(source) and _only_otter_calls(source):
            steps.append(Step("skip", number))
        else:
            steps.append(Step("run", number, source=source))
    return steps


def _only_otter_calls(source: str) -> bool:
    """Whether every line of a cell is a comment, blank, or an Otter call."""
    for line in source.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#") and not _OTTER_OTHER.match(stripped):
            return False
    return True


def first_line(source: str, width: int = 60) -> str:
    """The first non-blank line of a cell, shortened, for messages."""
    for line in source.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= width else line[: width - 1] + "…"
    return ""
