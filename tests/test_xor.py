"""The XOR assignment: reference solutions, samples, and hand-graded answers."""

from __future__ import annotations

import copy
import itertools
import logging
import shutil

import nbformat
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from autograder import assignments, cli, manual, samples
from autograder.build import build
from autograder.errors import ManualScoresError
from autograder.grader import SubmissionResult
from autograder.variants import answer_cells, make_submission
from reference import perceptron
from reference import xor as ref

X = ref.TRUTH_TABLE_INPUTS
T_XOR = ref.GATE_TARGETS["XOR"]


@pytest.fixture(scope="module")
def xor_spec():
    return assignments.get("xor")


@pytest.fixture(scope="module")
def xor_built(tmp_path_factory):
    out = tmp_path_factory.mktemp("xor-dist")
    build(out=out, names=["xor"], check=False)
    return out / "xor"


# Reference solutions


@pytest.mark.parametrize("n", [1, 4, 25])
def test_polynomial_features_on_random_real_inputs(n):
    rng = np.random.default_rng(n)
    inputs = rng.uniform(-3, 3, size=(n, 2))
    features = ref.polynomial_features(inputs)
    x1, x2 = inputs[:, 0], inputs[:, 1]
    assert features.shape == (n, 5)
    assert_allclose(features, np.stack([x1 * x1, x1, x1 * x2, x2, x2 * x2], axis=1), rtol=1e-12)


def test_polynomial_features_returns_a_new_array():
    inputs = np.array([[0.5, -2.0]])
    ref.polynomial_features(inputs)
    assert_array_equal(inputs, [[0.5, -2.0]])


@pytest.mark.parametrize(
    ("gate", "weights", "bias"),
    [("AND", [1, 1], -1), ("OR", [1, 1], 1), ("NAND", [-1, -1], 1), ("NOR", [-1, -1], -1)],
)
def test_separates_the_linear_gates(gate, weights, bias):
    assert ref.separates(weights, bias, X, ref.GATE_TARGETS[gate])
    assert not ref.separates(weights, bias, X, T_XOR)


def test_separates_finds_a_wrong_row_anywhere():
    rng = np.random.default_rng(7)
    inputs = rng.normal(size=(10, 3))
    weights, bias = rng.normal(size=3), 0.3
    targets = ref.predict(inputs, weights, bias)
    assert ref.separates(weights, bias, inputs, targets)
    for row in range(10):
        flipped = targets.copy()
        flipped[row] = -flipped[row]
        assert not ref.separates(weights, bias, inputs, flipped)


def test_the_contradicting_pairs_cancel_the_weights():
    signs = ref.required_signs(T_XOR)
    for pair, sign in [(ref.POSITIVE_PAIR, 1), (ref.NONPOSITIVE_PAIR, -1)]:
        assert_array_equal(X[list(pair)].sum(axis=0), [0, 0])  # w1 and w2 drop out: 2b is left
        assert all(signs[row] == sign for row in pair)
    assert set(ref.POSITIVE_PAIR) | set(ref.NONPOSITIVE_PAIR) == {0, 1, 2, 3}


def test_grid_search_finds_and_and_or_but_not_xor():
    values = np.linspace(-1, 1, 5)
    for gate in ("AND", "OR"):
        found = ref.grid_search(X, ref.GATE_TARGETS[gate], values)
        assert found.shape[1] == 3 and len(found) > 0
        assert all(ref.separates(row[:2], row[2], X, ref.GATE_TARGETS[gate]) for row in found)
        everything = list(itertools.product(values, repeat=3))
        expected = [c for c in everything if perceptron.reproduces(c[:2], c[2], gate)]
        assert len(found) == len(expected)
    assert ref.grid_search(X, T_XOR, values).shape == (0, 3)
    assert ref.grid_search(X, T_XOR, np.linspace(-3, 3, 25)).shape == (0, 3)


def test_training_on_xor_never_converges_but_on_the_features_it_does():
    _, _, corrections = ref.train(X, T_XOR, 0.1, 20)
    assert len(corrections) == 20 and min(corrections) > 0
    features = ref.polynomial_features(X)
    weights, bias, corrections = ref.train(features, T_XOR, 0.1, 20)
    assert corrections[-1] == 0 and len(corrections) < 20
    assert_array_equal(ref.predict(features, weights, bias), T_XOR)


# The built notebooks and the samples


def test_written_answer_cell_is_mapped_to_its_question(xor_built):
    student = nbformat.read(xor_built / "student" / "xor.ipynb", as_version=4)
    cells = answer_cells(student)
    assert sorted(cells) == ["q1", "q2", "q3", "q4", "q5"]
    (q4,) = cells["q4"]
    assert student.cells[q4].cell_type == "markdown"
    assert student.cells[q4].source == manual.PLACEHOLDER
    assert answer_cells(student, manual_questions=[]).get("q4") is None


def test_submission_from_the_solution_carries_the_written_answer(xor_built):
    student = nbformat.read(xor_built / "student" / "xor.ipynb", as_version=4)
    solution = nbformat.read(xor_built / "autograder" / "xor.ipynb", as_version=4)
    nb = make_submission(student, solution, {"q4": "직선 하나로는 나눌 수 없습니다."})
    assert manual.collect_answers(nb, ["q4"]) == {"q4": "직선 하나로는 나눌 수 없습니다."}
    reference_answer = manual.collect_answers(make_submission(student, solution), ["q4"])["q4"]
    assert "2b > 0" in reference_answer
    blank = manual.collect_answers(make_submission(student, solution, untouched=("q4",)), ["q4"])
    assert manual.answer_status(blank, "q4") == manual.BLANK


def test_samples_score_as_expected_and_plots_run_headless(xor_spec, graded_samples):
    batch = graded_samples("xor")
    by_name = {r.submission: r for r in batch.results}
    for name, entry in samples.catalogue(xor_spec).items():
        result = by_name[name]
        expected = dict(entry["expected"])
        assert result.status == expected.pop("status"), name
        assert result.questions == pytest.approx(expected), name
    # The decision-region plots (matplotlib, no display) ran without an error.
    assert by_name["correct"].message == ""
    assert by_name["untouched"].status == "ok" and by_name["untouched"].message == ""


def test_review_file_lists_every_written_answer(xor_spec, graded_samples):
    batch = graded_samples("xor")
    assert batch.manual_review == batch.out / manual.REVIEW_FILE
    # A byte-order mark, so that spreadsheet programs read the Korean text as UTF-8.
    assert batch.manual_review.read_bytes().startswith("\ufeff".encode())
    review = pd.read_csv(
        batch.manual_review, dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assert list(review.columns) == list(manual.REVIEW_COLUMNS)
    review = review.set_index("submission")
    assert set(review.index) == set(samples.catalogue(xor_spec))
    assert (review["question"] == "q4").all() and (review["points"] == "").all()
    assert review.loc["untouched", "status"] == manual.BLANK
    assert review.loc["blank-q4", "status"] == manual.BLANK
    assert review.loc["blank-q4", "answer"] == ""
    written = samples.catalogue(xor_spec)["correct"]["answers"]["q4"].strip()
    assert review.loc["correct", "status"] == manual.ANSWERED
    assert review.loc["correct", "answer"] == written
    feedback = (batch.out / "feedback" / "correct.md").read_text(encoding="utf-8")
    assert "## q4: 직접 채점 (graded by hand)" in feedback


# Hand-graded points: the round trip


def _filled_review(batch, tmp_path, points):
    review = pd.read_csv(
        batch.manual_review, dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    for submission, value in points.items():
        review.loc[review["submission"] == submission, "points"] = value
    path = tmp_path / "filled.csv"
    review.to_csv(path, index=False)
    return path


def test_manual_points_round_trip_through_the_cli(graded_samples, tmp_path, caplog):
    batch = graded_samples("xor")
    filled = _filled_review(
        batch,
        tmp_path,
        {"correct": "2", "drops-cross-term": "1.5", "separates-first-row": "0.5"},
    )
    subset = tmp_path / "submissions"
    subset.mkdir()
    for name in ("correct", "blank-q4"):
        shutil.copy(_sample(name), subset)
    out = tmp_path / "graded"

    with caplog.at_level(logging.WARNING, logger="autograder.manual"):
        code = cli.main(
            ["grade", str(subset), "--assignment", "xor", "--out", str(out)]
            + ["--manual-scores", str(filled)]
        )

    assert code == 0
    scores = pd.read_csv(out / "scores.csv", keep_default_na=False).set_index("submission")
    assert list(scores.columns) == [
        "student", "q1", "q2", "q3", "q5", "q4 (manual)",
        "total", "possible", "manual_possible", "status", "message",
    ]  # fmt: skip
    assert scores.loc["correct", "q4 (manual)"] == 2
    assert scores.loc["correct", "total"] == 16
    assert scores.loc["blank-q4", "q4 (manual)"] == 0  # blank, no points typed: 0
    assert scores.loc["blank-q4", "total"] == 14
    assert (scores["possible"] == 14).all() and (scores["manual_possible"] == 2).all()
    assert "drops-cross-term" in caplog.text and "not in this batch" in caplog.text
    grades = pd.read_csv(out / "grades.csv").set_index("submission")
    assert grades.loc["correct", "xor"] == 16
    review = pd.read_csv(
        out / manual.REVIEW_FILE, dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    assert review.set_index("submission").loc["correct", "points"] == "2"


def _sample(name):
    return assignments.get("xor").samples_dir / f"{name}.ipynb"


@pytest.mark.parametrize(
    ("points", "match"),
    [
        ("", r"row 3 \(correct, q4\): no points filled in"),
        ("abc", r"row 3 \(correct, q4\): points 'abc' is not a number from 0 to 2"),
        ("2.5", r"points '2.5' is not a number from 0 to 2"),
        ("-1", r"points '-1'"),
        ("nan", r"points 'nan'"),
    ],
)
def test_invalid_manual_points_name_the_file_row_and_value(
    xor_spec, graded_samples, tmp_path, points, match
):
    batch = graded_samples("xor")
    filled = _filled_review(
        batch,
        tmp_path,
        {"correct": points, "drops-cross-term": "1", "separates-first-row": "1"},
    )
    with pytest.raises(ManualScoresError, match=match) as caught:
        manual.read_scores(filled, xor_spec.suite)
    assert str(filled) in str(caught.value)


def test_manual_points_for_an_unknown_question_are_refused(xor_spec, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("submission,question,points\nkim,q3,1\n", encoding="utf-8")
    with pytest.raises(ManualScoresError, match=r"row 2 \(kim, q3\).*those are: q4"):
        manual.read_scores(path, xor_spec.suite)


def test_manual_points_in_a_cp949_spreadsheet_export_are_read(xor_spec, tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("submission,student,question,points\n김민수,김민수,q4,1.5\n", encoding="cp949")
    assert manual.read_scores(path, xor_spec.suite) == {("김민수", "q4"): 1.5}


def test_grading_again_keeps_points_typed_into_the_review_file(xor_spec, graded_samples, tmp_path):
    batch = graded_samples("xor")
    filled = _filled_review(batch, tmp_path, {"correct": "1.5", "drops-cross-term": "2"})
    results = [copy.deepcopy(r) for r in batch.results]
    kept = manual.kept_points(filled, xor_spec.suite, results)
    assert kept == {("correct", "q4"): 1.5, ("drops-cross-term", "q4"): 2.0}

    # A changed answer is graded afresh: its old points are not carried over.
    changed = next(r for r in results if r.submission == "correct")
    changed.manual_answers = {"q4": "다시 쓴 답"}
    assert ("correct", "q4") not in manual.kept_points(filled, xor_spec.suite, results)


def test_formula_like_answers_reach_the_spreadsheet_as_text(xor_spec, tmp_path):
    result = SubmissionResult("kim", "kim", "kim.ipynb", "ok", "")
    result.manual_answers = {"q4": '=HYPERLINK("http://example.invalid", "XOR")'}
    frame = manual.review_frame([result], xor_spec.suite)
    assert frame.loc[0, "answer"] == "'" + result.manual_answers["q4"]
    path = tmp_path / "review.csv"
    manual.write_review(path, frame.assign(points="1"))
    assert manual.kept_points(path, xor_spec.suite, [result]) == {("kim", "q4"): 1.0}
