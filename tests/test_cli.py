"""The nngrade command, run as a user runs it."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from helpers import nngrade

from autograder import assignments
from autograder.build import build
from autograder.errors import BuildError

REPO = Path(__file__).resolve().parent.parent


def test_demo_builds_grades_and_prints_the_table(tmp_path):
    done = nngrade("demo", "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr
    for name in assignments.names():
        if not assignments.get(name).samples_dir.is_dir():
            continue
        assert f"{name}: bundled samples" in done.stdout
        assert (tmp_path / "build" / name / "student" / f"{name}.ipynb").exists()
        assert (tmp_path / name / "scores.csv").exists()
    assert "12/12" in done.stdout  # the correct perceptron sample


def test_grade_accepts_a_zip_and_an_otter_export(tmp_path):
    samples = assignments.get("perceptron").samples_dir
    batch_zip = tmp_path / "class.zip"
    shutil.make_archive(str(batch_zip.with_suffix("")), "zip", samples)
    # What grader.export() makes: the notebook plus Otter's marker file.
    import zipfile

    export = tmp_path / "folder" / "kim_export.zip"
    export.parent.mkdir()
    with zipfile.ZipFile(export, "w") as zf:
        zf.write(samples / "correct.ipynb", "perceptron.ipynb")
        zf.writestr("__zip_filename__", "kim_export.zip")
    for source, out in [(batch_zip, "a"), (export.parent, "b")]:
        done = nngrade(
            "grade", str(source), "--assignment", "perceptron", "--out", str(tmp_path / out)
        )
        assert done.returncode == 0, done.stderr
    first = pd.read_csv(tmp_path / "a" / "scores.csv")
    assert len(first) == len(list(samples.iterdir()))
    second = pd.read_csv(tmp_path / "b" / "scores.csv")
    assert second.loc[0, "submission"] == "kim_export"
    assert second.loc[0, "total"] == 12


def test_unknown_assignment_is_a_clear_error(tmp_path):
    done = nngrade("grade", str(tmp_path), "--assignment", "nope", "--out", str(tmp_path))
    assert done.returncode == 2
    assert "no assignment named 'nope'" in done.stdout
    assert "perceptron" in done.stdout


def test_build_names_the_question_whose_solution_fails(tmp_path, monkeypatch):
    root = tmp_path / "project"
    shutil.copytree(REPO / "assignments" / "perceptron", root / "assignments" / "perceptron")
    shutil.copytree(REPO / "data", root / "data")
    master = root / "assignments" / "perceptron" / "perceptron.ipynb"
    nb = nbformat.read(master, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and "b = b + learning_rate * target" in cell.source:
            cell.source = cell.source.replace("b = b + learning_rate * target", "b = b")
    nbformat.write(nb, master)
    monkeypatch.setenv("NNGRADE_ROOT", str(root))
    with pytest.raises(BuildError, match=r"q4 train_matches_rule"):
        build(out=tmp_path / "dist", names=["perceptron"])
