"""A class at a time: Gradescope and LMS downloads, rosters, resuming, the lock,
the report, on real notebooks and real runs of the command."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from helpers import nngrade

from autograder import assignments
from autograder.batch import grade, output_lock

SAMPLES = assignments.get("perceptron").samples_dir


def gradescope_export(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "submission_metadata.yml").write_text(
        """\
submission_1001:
  :submitters:
  - :name: Kim Minsu
    :sid: '2026001'
    :email: minsu@univ.example
  :created_at: 2026-11-30 21:04:11.000000000 +09:00
submission_1002:
  :submitters:
  - :name: Lee Jiwoo
    :sid: '2026002'
    :email: jiwoo@univ.example
  - :name: Park Seoyeon
    :sid: '2026003'
    :email: seoyeon@univ.example
  :created_at: 2026-11-30 23:59:01.000000000 +09:00
""",
        encoding="utf-8",
    )
    (root / "submission_1001").mkdir()
    shutil.copy(SAMPLES / "correct.ipynb", root / "submission_1001" / "perceptron.ipynb")
    (root / "submission_1002").mkdir()
    shutil.copy(SAMPLES / "untouched.ipynb", root / "submission_1002" / "draft.ipynb")
    shutil.copy(
        SAMPLES / "updates-every-sample.ipynb", root / "submission_1002" / "perceptron.ipynb"
    )
    return root


@pytest.mark.parametrize("as_zip", [False, True])
def test_gradescope_export_names_every_submitter(tmp_path, as_zip):
    export = gradescope_export(tmp_path / "assignment_4242_export")
    source = export
    if as_zip:
        source = Path(shutil.make_archive(str(tmp_path / "export"), "zip", tmp_path, export.name))
    batch = grade(source, assignment="perceptron", out=tmp_path / "out")
    scores = batch.scores.set_index("submission")
    assert scores.loc["submission_1001", "student"] == "Kim Minsu"
    assert scores.loc["submission_1001", "total"] == 12
    assert scores.loc["submission_1002", "student"] == "Lee Jiwoo; Park Seoyeon"
    assert scores.loc["submission_1002", "total"] == 9
    assert (
        "graded perceptron.ipynb (named like the assignment)"
        in scores.loc["submission_1002", "message"]
    )
    grades = pd.read_csv(tmp_path / "out" / "grades.csv", dtype={"sid": str})
    assert sorted(grades["sid"]) == ["2026001", "2026002", "2026003"]
    assert grades.set_index("sid").loc["2026003", "perceptron"] == 9


def test_canvas_file_names_carry_the_student_and_the_newest_counts(tmp_path):
    folder = tmp_path / "canvas"
    folder.mkdir()
    older = folder / "kimminsu_12345_67890_perceptron.ipynb"
    newer = folder / "kimminsu_LATE_12345_67999_perceptron-1.ipynb"
    shutil.copy(SAMPLES / "untouched.ipynb", older)
    shutil.copy(SAMPLES / "correct.ipynb", newer)
    os.utime(older, (time.time() - 3600, time.time() - 3600))
    shutil.copy(
        SAMPLES / "raises-before-q4.ipynb", folder / "leejiwoo_23456_67891_perceptron.ipynb"
    )
    batch = grade(folder, assignment="perceptron", out=tmp_path / "out")
    scores = batch.scores.set_index("submission")
    assert sorted(scores.index) == ["kimminsu", "leejiwoo"]
    assert scores.loc["kimminsu", "total"] == 12
    assert "the newest" in scores.loc["kimminsu", "message"]
    grades = pd.read_csv(tmp_path / "out" / "grades.csv", dtype={"sid": str})
    assert set(grades["sid"]) == {"12345", "23456"}


def test_a_name_pattern_for_another_convention(tmp_path):
    folder = tmp_path / "lms"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.ipynb", folder / "perceptron-2026001-kim.ipynb")
    batch = grade(
        folder,
        assignment="perceptron",
        out=tmp_path / "out",
        name_pattern=r"perceptron-(?P<sid>\d+)-(?P<student>\w+)\.ipynb",
    )
    assert batch.results[0].submission == "kim"
    assert batch.results[0].students == [{"name": "kim", "sid": "2026001", "email": ""}]


def test_roster_adds_students_who_submitted_nothing(tmp_path):
    export = gradescope_export(tmp_path / "export")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,sid,email\nKim Minsu,2026001,\nLee Jiwoo,2026002,\nChoi Hana,2026009,\n",
        encoding="utf-8",
    )
    batch = grade(export, assignment="perceptron", out=tmp_path / "out", roster=roster)
    missing = batch.scores[batch.scores["status"] == "missing"]
    assert list(missing["student"]) == ["Choi Hana"]
    assert (missing["total"] == 0).all()
    grades = pd.read_csv(tmp_path / "out" / "grades.csv", dtype={"sid": str})
    assert grades.set_index("sid").loc["2026009", "perceptron"] == 0


def _class_folder(folder: Path, n: int) -> Path:
    folder.mkdir()
    names = sorted(p for p in SAMPLES.iterdir() if p.suffix == ".ipynb")
    for i in range(n):
        source = names[i % len(names)]
        shutil.copy(source, folder / f"student{i:02d}-{source.name}")
    return folder


@pytest.mark.slow
def test_resume_after_kill_9_equals_a_run_never_stopped(tmp_path):
    folder = _class_folder(tmp_path / "class", 10)
    out = tmp_path / "out"
    args = ["grade", str(folder), "--assignment", "perceptron", "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(
        [sys.executable, "-m", "autograder.cli", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        done = list((out / "results").glob("*.json")) if (out / "results").exists() else []
        if len(done) >= 3:
            break
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    finished_before = len(list((out / "results").glob("*.json")))
    assert 3 <= finished_before < 10, "the run ended before it could be interrupted"

    again = nngrade(*args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"{finished_before} kept from an earlier run" in again.stdout

    fresh = nngrade(
        "grade", str(folder), "--assignment", "perceptron", "--out", str(tmp_path / "fresh")
    )
    assert fresh.returncode == 0
    resumed = pd.read_csv(out / "scores.csv", keep_default_na=False)
    never_stopped = pd.read_csv(tmp_path / "fresh" / "scores.csv", keep_default_na=False)
    pd.testing.assert_frame_equal(resumed, never_stopped)


def test_changed_submission_is_graded_again_and_regrade_forces_all(tmp_path):
    folder = _class_folder(tmp_path / "class", 2)
    out = tmp_path / "out"
    first = grade(folder, assignment="perceptron", out=out)
    assert first.reused == 0
    victim = sorted(folder.iterdir())[0]
    shutil.copy(SAMPLES / "untouched.ipynb", victim)
    second = grade(folder, assignment="perceptron", out=out)
    assert second.reused == 1
    assert second.scores.set_index("submission").loc[victim.stem, "total"] == 0
    assert grade(folder, assignment="perceptron", out=out, regrade=True).reused == 0


def test_a_second_run_on_the_same_out_is_refused(tmp_path):
    folder = _class_folder(tmp_path / "class", 1)
    out = tmp_path / "out"
    out.mkdir()
    with output_lock(out):
        done = nngrade("grade", str(folder), "--assignment", "perceptron", "--out", str(out))
    assert done.returncode == 2
    assert "in use by another nngrade run" in done.stdout
    assert not (out / "scores.csv").exists()


def test_report_and_log_are_written(tmp_path, graded_samples):
    batch = graded_samples("perceptron")
    page = (batch.out / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in page
    assert "<h2>Questions</h2>" in page and "full marks" in page
    assert "train_matches_rule" in page  # a common failure of q4
    assert "not-a-notebook" in page and "not-json" in page  # did not run
    log = (batch.out / "nngrade.log").read_text(encoding="utf-8")
    assert "not-json" in log


def test_progress_lines_when_not_a_terminal(tmp_path):
    folder = _class_folder(tmp_path / "class", 2)
    done = nngrade("grade", str(folder), "--assignment", "perceptron", "--out", str(tmp_path / "o"))
    assert "grading 2 submissions" in done.stdout
    assert "[2/2]" in done.stdout


def test_an_otter_export_zip_inside_a_zip_download(tmp_path):
    inner = tmp_path / "kim.zip"
    with zipfile.ZipFile(inner, "w") as zf:
        zf.write(SAMPLES / "correct.ipynb", "perceptron.ipynb")
        zf.writestr("__zip_filename__", "kim.zip")
    outer = tmp_path / "class.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.write(inner, "kim.zip")
        zf.write(SAMPLES / "untouched.ipynb", "lee.ipynb")
    batch = grade(outer, assignment="perceptron", out=tmp_path / "out")
    assert dict(zip(batch.scores["submission"], batch.scores["total"])) == {"kim": 12, "lee": 0}


def test_roster_details_fill_the_gradebook_and_lms_numbers_do_not_duplicate(tmp_path):
    folder = tmp_path / "canvas"
    folder.mkdir()
    shutil.copy(SAMPLES / "correct.ipynb", folder / "kimminsu_12345_67890_perceptron.ipynb")
    roster = tmp_path / "roster.csv"
    roster.write_text(
        "name,sid,email\nKimMinsu,2026001,minsu@univ.example\nChoi Hana,2026009,\n",
        encoding="utf-8",
    )
    grade(folder, assignment="perceptron", out=tmp_path / "out", roster=roster)
    grades = pd.read_csv(tmp_path / "out" / "grades.csv", dtype=str, keep_default_na=False)
    assert sorted(grades["sid"]) == ["2026001", "2026009"]
    kim = grades.set_index("sid").loc["2026001"]
    assert kim["email"] == "minsu@univ.example" and float(kim["perceptron"]) == 12
