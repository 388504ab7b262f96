"""Every bundled sample scores what its samples.yml says, under the real grader."""

from __future__ import annotations

import nbformat
import pandas as pd
import pytest

from autograder import assignments, samples


def test_each_sample_scores_as_expected(assignment_name, graded_samples):
    spec = assignments.get(assignment_name)
    batch = graded_samples(assignment_name)
    by_name = {r.submission: r for r in batch.results}
    catalogue = samples.catalogue(spec)
    assert set(by_name) == set(catalogue), "samples folder and samples.yml disagree"
    wrong = []
    for name, entry in catalogue.items():
        result = by_name[name]
        expected = entry["expected"]
        got = {"status": result.status, **result.questions}
        for key, value in expected.items():
            if got.get(key) != pytest.approx(value) if key != "status" else got[key] != value:
                wrong.append(f"{name}: {key} expected {value}, got {got.get(key)}")
    assert not wrong, "\n".join(wrong)


def test_samples_on_disk_are_written_from_the_catalogue(assignment_name, built_dir, tmp_path):
    """The checked-in samples equal what `python -m autograder.samples` writes."""
    spec = assignments.get(assignment_name)
    fresh = assignments.Assignment(spec.name, tmp_path / spec.name)
    (fresh.folder).mkdir()
    (fresh.folder / "samples.yml").write_bytes((spec.folder / "samples.yml").read_bytes())
    samples.write_samples(fresh, built_dir / spec.name)
    for path in sorted(spec.samples_dir.iterdir()):
        assert _content(fresh.samples_dir / path.name) == _content(path), (
            f"{path} is out of date: run python -m autograder.samples {spec.name}"
        )


def _content(path):
    """A file's content, with notebooks reduced to cell types and sources
    (otter assign gives cells new random ids on every build)."""
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception:
        return path.read_bytes()
    return [(cell.cell_type, cell.source) for cell in nb.cells]


def test_scores_csv_has_a_row_and_the_columns_for_every_sample(graded_samples):
    batch = graded_samples("perceptron")
    frame = pd.read_csv(batch.scores_csv, keep_default_na=False)
    assert list(frame.columns) == [
        "submission",
        "student",
        "q1",
        "q2",
        "q3",
        "q4",
        "q5",
        "total",
        "possible",
        "status",
        "message",
    ]
    assert len(frame) == len(list(assignments.get("perceptron").samples_dir.iterdir()))
    assert (frame["possible"] == 12).all()
    row = frame.set_index("submission").loc["raises-before-q4"]
    assert "AttributeError" in row["message"] and "cell" in row["message"]
    assert frame.set_index("submission").loc["not-json", "message"].startswith("not-json.ipynb")


def test_feedback_shows_hidden_tests_only_as_pass_fail(graded_samples):
    batch = graded_samples("perceptron")
    text = (batch.out / "feedback" / "updates-every-sample.md").read_text(encoding="utf-8")
    assert "train_matches_rule: 실패 (fail), 0/2" in text
    hidden_message = "오류가 난 샘플에서만"
    assert hidden_message not in text
    untouched = (batch.out / "feedback" / "untouched.md").read_text(encoding="utf-8")
    assert "step(s)는 s > 0 이면 1" in untouched  # a public test's message is shown
