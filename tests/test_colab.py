"""Students work where the course works: Colab, and a local Jupyter.

Colab is played for real except for Google: the notebook's cells run from
memory in an empty folder (there is no .ipynb on the kernel's disk), a
stand-in ``google.colab`` package is importable, and a local HTTP server is the
course URL the set-up cell fetches the tests and data files from.
"""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec
from nbclient import NotebookClient

from autograder import assignments, colab
from autograder.build import build
from autograder.grader import grade_notebook

REPO = Path(__file__).resolve().parent.parent

CHECK_ALL = """
import json as _json
_results = {}
for _q in %r:
    _results[_q] = bool(grader.check(_q).passed_all_public)
print("CHECKS" + _json.dumps(_results))
"""


@pytest.fixture(scope="module")
def course_site(tmp_path_factory):
    """A build whose Colab notebooks fetch from a local web server serving it."""
    root = tmp_path_factory.mktemp("site")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    dist = tmp_path_factory.mktemp("dist")
    build(out=dist, check=False, data_url=url)
    # What the instructor uploads: each assignment's student folder, at URL/<name>/.
    for name in assignments.names():
        (root / name).symlink_to(dist / name / "student", target_is_directory=True)
    yield dist
    server.shutdown()


def run_from_memory(nb, folder: Path, env_path: Path | None, kernel_python: str = sys.executable):
    """Execute a notebook object in ``folder`` with a given kernel; return it."""
    km = KernelManager()
    km._kernel_spec = KernelSpec(
        argv=[kernel_python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        display_name="student",
        language="python",
        env={"PYTHONPATH": str(env_path)} if env_path else {},
    )
    client = NotebookClient(
        nb, km=km, timeout=300, allow_errors=True, resources={"metadata": {"path": str(folder)}}
    )
    client.execute()
    return nb


def errors_in(nb) -> list[str]:
    return [
        f"cell {i}: {out.get('ename')}: {out.get('evalue')}"
        for i, cell in enumerate(nb.cells)
        for out in cell.get("outputs", [])
        if out.get("output_type") == "error"
    ]


def checks_in(nb) -> dict:
    for out in nb.cells[-1].outputs:
        if "CHECKS" in out.get("text", ""):
            return json.loads(out["text"].split("CHECKS", 1)[1])
    raise AssertionError("the check cell printed nothing")


def fake_colab(tmp_path: Path) -> Path:
    package = tmp_path / "fake-colab" / "google" / "colab"
    package.mkdir(parents=True)
    (package.parent / "__init__.py").write_text("")
    (package / "__init__.py").write_text('"""Stands in for Colab in tests."""\n')
    return package.parent.parent


def grade_saved(nb, name: str, tmp_path: Path):
    saved = tmp_path / f"{name}-downloaded.ipynb"
    nbformat.write(nb, saved)
    spec = assignments.get(name)
    return grade_notebook(
        saved, spec.suite, submission="s", student="", data_dir=spec.data_dir, workroot=tmp_path
    )


def test_solution_in_colab_passes_every_check_and_grades_in_full(
    assignment_name, course_site, tmp_path, monkeypatch
):
    monkeypatch.delenv("NNGRADE_GRADING", raising=False)
    spec = assignments.get(assignment_name)
    questions = [q.name for q in spec.suite.autograded]
    nb = nbformat.read(course_site / spec.name / "autograder" / f"{spec.name}.ipynb", 4)
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_ALL % (questions,)))
    empty = tmp_path / "colab-content"
    empty.mkdir()
    run_from_memory(nb, empty, fake_colab(tmp_path))
    assert errors_in(nb) == []
    assert not list(empty.glob("*.ipynb"))
    assert (empty / "tests" / f"{questions[0]}.py").exists()  # fetched from the course URL
    assert checks_in(nb) == dict.fromkeys(questions, True)
    nb.cells.pop()  # the student downloads the notebook without our extra cell
    result = grade_saved(nb, spec.name, tmp_path)
    assert result.total == result.total_possible


def test_untouched_notebook_runs_in_colab_without_error_and_scores_zero(
    assignment_name, course_site, tmp_path, monkeypatch
):
    monkeypatch.delenv("NNGRADE_GRADING", raising=False)
    spec = assignments.get(assignment_name)
    nb = nbformat.read(course_site / spec.name / "student" / f"{spec.name}.ipynb", 4)
    empty = tmp_path / "colab-content"
    empty.mkdir()
    run_from_memory(nb, empty, fake_colab(tmp_path))
    assert errors_in(nb) == []
    assert grade_saved(nb, spec.name, tmp_path).total == 0


def test_without_a_course_url_the_files_come_from_the_notebook(tmp_path, monkeypatch):
    monkeypatch.delenv("NNGRADE_GRADING", raising=False)
    dist = tmp_path / "dist"
    build(out=dist, names=["perceptron"], check=False, data_url="")
    nb = nbformat.read(dist / "perceptron" / "autograder" / "perceptron.ipynb", 4)
    questions = [q.name for q in assignments.get("perceptron").suite.autograded]
    nb.cells.append(nbformat.v4.new_code_cell(CHECK_ALL % (questions,)))
    empty = tmp_path / "content"
    empty.mkdir()
    run_from_memory(nb, empty, fake_colab(tmp_path))
    assert errors_in(nb) == []
    assert checks_in(nb) == dict.fromkeys(questions, True)
    for path in colab.student_files(dist / "perceptron" / "student"):
        assert (empty / path).read_bytes() == (dist / "perceptron" / "student" / path).read_bytes()


README_STUDENT_INSTALL = "python -m pip install"


def student_install_command() -> list[str]:
    """The install line of the README's students' section, as a command."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## For students", 1)[1]
    for line in section.splitlines():
        if line.strip().startswith(README_STUDENT_INSTALL):
            return line.strip().split()[3:]
    raise AssertionError("the students' section has no pip install line")


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory):
    venv = tmp_path_factory.mktemp("student-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    packages = [p.strip('"') for p in student_install_command()]
    subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True, timeout=1200)
    return python


@pytest.mark.slow
def test_locally_with_only_what_the_readme_installs(
    assignment_name, course_site, student_venv, tmp_path, monkeypatch
):
    monkeypatch.delenv("NNGRADE_GRADING", raising=False)
    spec = assignments.get(assignment_name)
    questions = [q.name for q in spec.suite.autograded]
    folder = tmp_path / "student"
    import shutil

    shutil.copytree(course_site / spec.name / "student", folder)
    solution = nbformat.read(course_site / spec.name / "autograder" / f"{spec.name}.ipynb", 4)
    solution.cells.append(nbformat.v4.new_code_cell(CHECK_ALL % (questions,)))
    run_from_memory(solution, folder, None, kernel_python=str(student_venv))
    assert errors_in(solution) == []
    assert checks_in(solution) == dict.fromkeys(questions, True)
    solution.cells.pop()
    result = grade_saved(solution, spec.name, tmp_path)
    assert result.total == result.total_possible
