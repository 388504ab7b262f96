"""Submissions written to break the batch rather than to earn points.

Each was found by attacking the grader; each must now cost only its own row.
"""

from __future__ import annotations

import os
import zipfile

import nbformat
import pandas as pd

from autograder import assignments, intake
from autograder.batch import grade
from autograder.grader import Limits
from autograder.variants import make_submission


def test_lone_surrogates_and_odd_names_cost_only_their_own_row(
    perceptron_notebooks, tmp_path, monkeypatch
):
    student, solution = perceptron_notebooks
    folder = tmp_path / "class"
    folder.mkdir()
    surrogate = make_submission(
        student, solution, {"q1": 'def step(s):\n    raise RuntimeError("bad \\ud800 surrogate")'}
    )
    nbformat.write(surrogate, folder / "surrogate.ipynb")
    correct = make_submission(student, solution)
    nbformat.write(correct, folder / "kim minsu.ipynb")
    nbformat.write(student, folder / "kim_minsu.ipynb")
    nbformat.write(correct, folder / '=HYPERLINK("x.example","click").ipynb')
    os.rename(folder / "surrogate.ipynb", os.fsencode(folder) + b"/bad\xffname.ipynb")
    batch = grade(folder, assignment="perceptron", out=tmp_path / "out")

    frame = pd.read_csv(batch.scores_csv, keep_default_na=False)
    assert len(frame) == 4
    by_name = dict(zip(frame["submission"], frame["total"]))
    assert by_name["kim minsu"] == 12 and by_name["kim_minsu"] == 0
    assert not any(name.startswith("=") for name in frame["submission"])
    assert '\'=HYPERLINK("x.example","click")' in set(frame["submission"])
    grades = pd.read_csv(tmp_path / "out" / "grades.csv", keep_default_na=False)
    assert not any(str(name).startswith("=") for name in grades["name"])
    # Two students whose names differ only in punctuation keep separate files.
    assert len(list((tmp_path / "out" / "results").glob("kim*minsu*.json"))) == 2
    assert len(list((tmp_path / "out" / "feedback").glob("kim*minsu*.md"))) == 2


def test_slow_calls_cannot_outlast_the_whole_notebook_limit(perceptron_notebooks, tmp_path):
    student, solution = perceptron_notebooks
    nb = make_submission(student, solution)
    for cell in nb.cells:
        if cell.cell_type == "code" and "def step(s):" in cell.source:
            cell.source = "import time\n" + cell.source.replace(
                '"""Return 1 where', 'time.sleep(2.5)\n    """Return 1 where'
            ).replace("    time.sleep", "    time.sleep")
    # Without check cells, every question is graded after the last cell.
    nb.cells = [c for c in nb.cells if "grader.check(" not in c.source]
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(nb, folder / "slow.ipynb")
    limits = Limits(cell_timeout=3, call_timeout=3, timeout=12)
    batch = grade(folder, assignment="perceptron", out=tmp_path / "out", limits=limits)
    result = batch.results[0]
    assert result.status == "timeout"
    assert result.seconds < 12 + 10
    assert "ran over 12 s" in result.message


def test_a_zip_of_huge_notebooks_is_refused_without_reading_it_all(tmp_path, monkeypatch):
    monkeypatch.setattr(intake, "MAX_MEMBER_BYTES", 1024 * 1024)
    folder = tmp_path / "class"
    folder.mkdir()
    sample = assignments.get("perceptron").samples_dir / "correct.ipynb"
    with zipfile.ZipFile(folder / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(3):
            zf.writestr(f"nb{i}.ipynb", b'{"cells": [], "x": "' + b"a" * (2 * 1024 * 1024) + b'"}')
    with zipfile.ZipFile(folder / "fine.zip", "w") as zf:
        zf.write(sample, "perceptron.ipynb")
    batch = grade(folder, assignment="perceptron", out=tmp_path / "out")
    rows = batch.scores.set_index("submission")
    assert rows.loc["bomb", "status"] == "unreadable"
    assert "byte limit" in rows.loc["bomb", "message"]
    assert rows.loc["fine", "total"] == 12
