"""``nngrade build``: student and solution notebooks from the masters.

``otter assign`` splits each master into ``student/`` (hand this out) and
``autograder/`` (with solutions; never hand it out). We then check the master
against its grading tests: the question names and points in the master must
match :mod:`reference.grading`, and the solution notebook must earn every
point under the real grader.
"""

from __future__ import annotations

import logging
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from . import assignments, colab
from .errors import BuildError
from .grader import Limits, SubmissionResult, default_workroot, grade_notebook

logger = logging.getLogger(__name__)

_BEGIN_QUESTION = re.compile(r"^\s*#\s*BEGIN\s+QUESTION\s*$", re.IGNORECASE)


@dataclass
class BuiltAssignment:
    name: str
    student_notebook: Path
    solution_notebook: Path
    student_zip: Path
    solution_result: SubmissionResult | None = None
    notes: list[str] = field(default_factory=list)
    #: The Gradescope autograder (see :mod:`autograder.gradescope`).
    gradescope_zip: Path | None = None


def master_questions(master: Path) -> dict[str, dict]:
    """``{name: config}`` of each ``# BEGIN QUESTION`` block in a master notebook."""
    nb = nbformat.read(master, as_version=4)
    found = {}
    for number, cell in enumerate(nb.cells, start=1):
        if cell.cell_type != "raw":
            continue
        lines = cell.source.splitlines()
        if lines and _BEGIN_QUESTION.match(lines[0]):
            config = yaml.safe_load("\n".join(lines[1:])) or {}
            if "name" not in config:
                raise BuildError(
                    f"{master.name}: cell {number} starts a question without a name: add 'name: qN'"
                )
            found[str(config["name"])] = config
    return found


def _check_questions(spec: assignments.Assignment) -> None:
    """The master and the grading tests must agree on questions and points."""
    in_master = master_questions(spec.master)
    suite = spec.suite
    in_suite = {q.name: q for q in suite.questions}
    problems = []
    for name, config in in_master.items():
        question = in_suite.get(name)
        if question is None:
            problems.append(f"{name} is in the master but has no grading tests")
            continue
        points = float(config.get("points", 1))
        expected = question.manual_points if config.get("manual") else question.points
        if abs(points - expected) > 1e-9:
            problems.append(
                f"{name} is worth {points:g} points in the master but its grading "
                f"tests add up to {expected:g}"
            )
    for name in in_suite:
        if name not in in_master:
            problems.append(f"{name} has grading tests but no question in the master")
    if problems:
        raise BuildError(f"{spec.master}: " + "; ".join(problems))


def _otter_assign(master: Path, result: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "otter",
        "assign",
        "--no-run-tests",
        str(master),
        str(result),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=master.parent)
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        raise BuildError(f"otter assign failed on {master}:\n{tail}")


def _copy_data(spec: assignments.Assignment, folder: Path) -> None:
    for name in spec.suite.data_files:
        target = folder / "data" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(spec.data_dir / name, target)


def _zip_folder(folder: Path, target: Path, arcroot: str) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, f"{arcroot}/{path.relative_to(folder)}")


def check_solution(spec: assignments.Assignment, notebook: Path) -> SubmissionResult:
    """Grade the solution notebook; raise BuildError naming each lost point."""
    with tempfile.TemporaryDirectory(dir=default_workroot()) as work:
        result = grade_notebook(
            notebook,
            spec.suite,
            submission=f"{spec.name} solution",
            student="",
            data_dir=spec.data_dir,
            workroot=Path(work),
            limits=Limits(),
        )
    lost = [f"{t.question} {t.name}: {t.detail or 'failed'}" for t in result.tests if not t.passed]
    if lost:
        raise BuildError(
            f"{spec.master}: the master's own solution does not pass its tests "
            f"({result.total:g}/{result.total_possible:g}): {'; '.join(lost)}"
        )
    if result.status != "ok":
        raise BuildError(
            f"{spec.master}: the master's solution notebook does not run cleanly "
            f"({result.status}): {result.message}"
        )
    return result


def build(
    *,
    out: Path = Path("dist"),
    names: list[str] | None = None,
    check: bool = True,
    data_url: str | None = None,
) -> list[BuiltAssignment]:
    """Build every assignment (or those in ``names``) into ``out/<name>/``.

    ``data_url`` is where a Colab notebook fetches its test and data files
    (``<data_url>/<name>/tests/...``); by default ``data_url`` of
    ``course.yml``, and without either the files are packed into the
    notebook's set-up cell. Raises :class:`BuildError` for the first
    assignment that fails.
    """
    url = colab.course_data_url() if data_url is None else data_url
    # Imported here: autograder.gradescope runs as ``python -m`` and imports the package.
    from . import gradescope

    out = Path(out)
    built = []
    for name in names or assignments.names():
        spec = assignments.get(name)
        _check_questions(spec)
        target = out / name
        if target.exists():
            shutil.rmtree(target)
        _otter_assign(spec.master.resolve(), target.resolve())
        for part in ("student", "autograder"):
            _copy_data(spec, target / part)
        student = target / "student" / f"{name}.ipynb"
        solution = target / "autograder" / f"{name}.ipynb"
        for notebook in (student, solution):
            colab.add_setup(notebook, name, target / "student", url)
        student_zip = target / f"{name}-student.zip"
        _zip_folder(target / "student", student_zip, name)
        item = BuiltAssignment(name, student, solution, student_zip)
        item.gradescope_zip = gradescope.write_zip(spec, target / gradescope.ZIP_NAME)
        if check:
            try:
                item.solution_result = check_solution(spec, solution)
            except BuildError:
                # Nothing half-checked is left behind to be handed out.
                shutil.rmtree(target, ignore_errors=True)
                raise
        logger.info("built %s into %s", name, target)
        built.append(item)
    return built
