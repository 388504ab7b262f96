"""The Gradescope autograder zip, unpacked and run as Gradescope runs it.

Each test lays out a temporary folder like Gradescope's ``/autograder``
(``source/`` holds the zip's content, ``submission/`` the upload, ``results/``
the output), points ``AUTOGRADER_ROOT`` at it, and runs ``run_autograder``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from importlib import metadata
from pathlib import Path

import jsonschema
import nbformat
import pytest

from autograder import assignments
from autograder.build import build
from autograder.grader import SubmissionResult
from autograder.gradescope import ZIP_NAME, results_json
from autograder.sandbox import Isolation

SCHEMA = json.loads((Path(__file__).parent / "gradescope_results.schema.json").read_text())
SAMPLES = assignments.get("perceptron").samples_dir
HIDDEN_OUTPUT = re.compile(r"^(통과 \(pass\)|실패 \(fail\)), [\d.]+/[\d.]+$")


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    (item,) = build(out=out, names=["perceptron"], check=False)
    assert item.gradescope_zip == out / "perceptron" / ZIP_NAME
    return item.gradescope_zip


def unpack(zip_path: Path, root: Path) -> Path:
    """Lay out ``root`` like Gradescope's /autograder, with the zip in source/."""
    source = root / "source"
    with zipfile.ZipFile(zip_path) as zf:
        for info in zf.infolist():
            zf.extract(info, source)
            mode = info.external_attr >> 16 & 0o777
            if mode:
                (source / info.filename).chmod(mode)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    return root


def run_autograder(root: Path, *, python: str | None = sys.executable, **env: str) -> dict:
    """Run ``run_autograder`` in ``root``; return results.json, checked against the schema.

    ``python`` (default: this one, so nothing needs installing) grades; with
    None, run_autograder finds the Python that setup.sh installed.
    """
    environment = {k: v for k, v in os.environ.items() if k != "NNGRADE_PYTHON"}
    environment.update(AUTOGRADER_ROOT=str(root), **env)
    if python is not None:
        environment["NNGRADE_PYTHON"] = python
    done = subprocess.run(
        [str(root / "run_autograder")],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    results = root / "results" / "results.json"
    assert results.exists(), done.stdout + done.stderr
    data = json.loads(results.read_text(encoding="utf-8"))
    jsonschema.validate(data, SCHEMA)
    return data


@pytest.fixture
def root(tmp_path, autograder_zip) -> Path:
    return unpack(autograder_zip, tmp_path / "autograder")


def test_zip_holds_the_scripts_at_its_root_and_pins_the_versions(autograder_zip):
    with zipfile.ZipFile(autograder_zip) as zf:
        names = set(zf.namelist())
        for script in ("setup.sh", "run_autograder"):
            assert script in names
            assert zf.getinfo(script).external_attr >> 16 & 0o111
        pins = zf.read("constraints.txt").decode().splitlines()
        setup = zf.read("setup.sh").decode()
    assert {
        "pyproject.toml",
        "autograder/gradescope.py",
        "reference/grading/perceptron.py",
    } <= names
    assert "assignments/perceptron/perceptron.ipynb" in names
    for name in ("otter-grader", "numpy", "pandas", "nbformat", "jupyter_client", "pyzmq"):
        assert f"{metadata.distribution(name).metadata['Name']}=={metadata.version(name)}" in pins
    assert "otter-grader==7.0.0" in pins
    for package in ("python3", "python3-venv", "bubblewrap"):
        assert package in setup


@pytest.mark.parametrize("sample", sorted(p.stem for p in SAMPLES.glob("*.ipynb")))
def test_scores_equal_nngrade_grade(root, sample, graded_samples):
    shutil.copy(SAMPLES / f"{sample}.ipynb", root / "submission" / f"{sample}.ipynb")
    data = run_autograder(root)

    expected = next(r for r in graded_samples("perceptron").results if r.submission == sample)
    assert data["score"] == pytest.approx(expected.total)
    assert len(data["tests"]) == len(expected.tests)
    for entry, test in zip(data["tests"], expected.tests):
        assert entry["name"].startswith(f"{test.question} {test.name}")
        assert entry["score"] == pytest.approx(test.points)
        assert entry["max_score"] == pytest.approx(test.max_points)
        assert entry["status"] == ("passed" if test.passed else "failed")
        if test.hidden:
            assert entry["visibility"] == "after_published"
            assert HIDDEN_OUTPUT.match(entry["output"]), entry["output"]
        else:
            assert entry["visibility"] == "visible"


def test_untouched_correct_and_not_a_notebook(root):
    shutil.copy(SAMPLES / "correct.ipynb", root / "submission" / "perceptron.ipynb")
    correct = run_autograder(root)
    assert correct["score"] == 12
    assert all(t["status"] == "passed" for t in correct["tests"])

    (root / "submission" / "perceptron.ipynb").unlink()
    shutil.copy(SAMPLES / "untouched.ipynb", root / "submission" / "perceptron.ipynb")
    untouched = run_autograder(root)
    assert untouched["score"] == 0
    assert untouched["tests"] and all(t["status"] == "failed" for t in untouched["tests"])

    (root / "submission" / "perceptron.ipynb").unlink()
    (root / "submission" / "report.pdf").write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n")
    not_a_notebook = run_autograder(root)
    assert not_a_notebook["score"] == 0
    assert "not a notebook" in not_a_notebook["output"]
    assert "report.pdf" in not_a_notebook["output"]
    assert "no notebook in the upload" in not_a_notebook["output"]


def test_nothing_submitted_scores_zero_and_says_so(root):
    data = run_autograder(root)
    assert data["score"] == 0
    assert "nothing was submitted" in data["output"]


def test_of_several_notebooks_the_assignments_is_graded_and_named(root):
    shutil.copy(SAMPLES / "untouched.ipynb", root / "submission" / "scratch.ipynb")
    shutil.copy(SAMPLES / "correct.ipynb", root / "submission" / "perceptron.ipynb")
    (root / "submission" / ".ipynb_checkpoints").mkdir()
    shutil.copy(SAMPLES / "untouched.ipynb", root / "submission" / ".ipynb_checkpoints" / "x.ipynb")
    data = run_autograder(root)
    assert data["score"] == 12
    assert "graded): perceptron.ipynb" in data["output"]
    assert "scratch.ipynb" in data["output"]
    assert "x.ipynb" not in data["output"]


def test_an_otter_export_zip_is_graded(root):
    with zipfile.ZipFile(root / "submission" / "perceptron_2026.zip", "w") as zf:
        zf.write(SAMPLES / "correct.ipynb", "perceptron.ipynb")
        zf.writestr("__zip_filename__", "perceptron_2026.zip")
    assert run_autograder(root)["score"] == 12


def test_student_code_cannot_write_the_results(root):
    nb = nbformat.read(SAMPLES / "correct.ipynb", as_version=4)
    forged = {"score": 999, "tests": []}
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json, pathlib\n"
            f"root = pathlib.Path({str(root)!r})\n"
            "for path in [root / 'results' / 'results.json', root / 'source' / 'forged']:\n"
            "    try:\n"
            f"        path.write_text(json.dumps({forged!r}))\n"
            "    except OSError:\n"
            "        pass\n"
        )
    )
    nbformat.write(nb, root / "submission" / "perceptron.ipynb")
    data = run_autograder(root)
    assert data["score"] == 12
    assert not (root / "source" / "forged").exists()


def test_results_are_written_even_when_the_grader_cannot_start(root):
    shutil.copy(SAMPLES / "correct.ipynb", root / "submission" / "perceptron.ipynb")
    data = run_autograder(root, python="/bin/false")
    assert data["score"] == 0
    assert "could not start" in data["output"]


@pytest.mark.slow
def test_setup_installs_from_the_zip_into_a_fresh_venv(root, tmp_path):
    venv = tmp_path / "venv"
    env = {
        **os.environ,
        "NNGRADE_SKIP_APT": "1",
        "NNGRADE_VENV": str(venv),
        "NNGRADE_BASE_PYTHON": sys.executable,
    }
    done = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    frozen = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "otter-grader==7.0.0" in frozen
    assert f"numpy=={metadata.version('numpy')}" in frozen

    shutil.copy(SAMPLES / "correct.ipynb", root / "submission" / "perceptron.ipynb")
    data = run_autograder(root, python=None, NNGRADE_VENV=str(venv))
    assert data["score"] == 12


def test_a_run_without_the_sandbox_says_so():
    result = SubmissionResult("s", "s", "s.ipynb", "ok", "")
    data = results_json(
        result,
        seconds=1.0,
        isolation=Isolation("none", "bubblewrap cannot run here: no user namespaces"),
        notes=[],
        manual_questions=[],
    )
    jsonschema.validate(data, SCHEMA)
    assert "WITHOUT the bubblewrap sandbox: bubblewrap cannot run here" in data["output"]
