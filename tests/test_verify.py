"""`nngrade verify`: the grading tests kill every mutant and pass every right variant."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from autograder import assignments
from autograder.build import build
from autograder.errors import CatalogueError
from autograder.verify import MUTANT, RIGHT, default_catalogue_dir, load_catalogue, verify

SUMMARY = r"mutants killed: (\d+)/(\d+), right variants full: (\d+)/(\d+)"

#: The assignments the course has; the totals below apply once all have catalogues.
COURSE = ("perceptron", "xor", "backprop")


def nngrade(*args):
    return subprocess.run(
        [sys.executable, "-m", "autograder.cli", *args],
        capture_output=True,
        text=True,
        timeout=1800,
    )


def last_line(done) -> str:
    return done.stdout.rstrip("\n").splitlines()[-1]


@pytest.fixture(scope="module")
def built_perceptron(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("built")
    build(out=out, names=["perceptron"], check=False)
    return out


# The catalogue on disk


def catalogues() -> dict[str, list]:
    found = {}
    for path in sorted(default_catalogue_dir().glob("*.yml")):
        found[path.stem] = load_catalogue(path, assignments.get(path.stem).suite)
    return found


def test_every_catalogue_is_valid_and_has_five_mutants():
    found = catalogues()
    assert "perceptron" in found
    for name, variants in found.items():
        mutants = [v for v in variants if v.kind == MUTANT]
        assert len(mutants) >= 5, f"{name}: {len(mutants)} mutants, at least 5 needed"


def test_the_course_has_twenty_mutants_and_six_right_variants():
    found = catalogues()
    if not all(name in found for name in COURSE):
        pytest.skip(f"not every assignment has a catalogue yet: {sorted(found)}")
    variants = [v for name in COURSE for v in found[name]]
    assert sum(v.kind == MUTANT for v in variants) >= 20
    assert sum(v.kind == RIGHT for v in variants) >= 6


# The command


@pytest.mark.slow
def test_verify_perceptron_kills_every_mutant():
    done = nngrade("verify", "perceptron")
    assert done.returncode == 0, done.stdout + done.stderr
    line = last_line(done)
    match = re.fullmatch(SUMMARY, line)
    assert match, f"last line is {line!r}"
    killed, mutants, full, right = map(int, match.groups())
    assert (killed, full) == (mutants, right)
    for variant in catalogues()["perceptron"]:
        assert variant.name in done.stdout
    assert "mutants killed per question" in done.stdout


@pytest.mark.slow
def test_verify_every_assignment():
    """What CI relies on: every catalogue of the course, with the command as users run it."""
    done = nngrade("verify")
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert re.fullmatch(SUMMARY, last_line(done))


# A catalogue whose tests are too weak for it


def write_catalogue(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "perceptron.yml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


REFERENCE_TRAIN = """\
      def train(X, t, learning_rate, max_epochs):
          X = np.asarray(X, dtype=float)
          w = np.zeros(X.shape[1])
          b = 0.0
          corrections = []
          for epoch in range(max_epochs):
              count = 0
              for x, target in zip(X, t):
                  if step(x @ w + b) != target:
                      w = w + learning_rate * target * x
                      b = b + learning_rate * target
                      count += 1
              corrections.append(count)
              if count == 0:
                  break
          return w, b, corrections
"""

WEAK = (
    """\
    mutants:
      not-a-mutant:
        about: the reference train, filed as a mutant
        answers:
          q4: |
"""
    + textwrap.indent(REFERENCE_TRAIN, "      ")
    + """\
        loses: [q4]
    right:
      other-weights:
        about: other AND and OR weights
        answers:
          q3: |
            w_and = np.array([3.0, 3.0])
            b_and = -2.0
            w_or = np.array([1.0, 1.0])
            b_or = 0.5
    """
)


def test_a_surviving_mutant_shows_and_fails_the_command(tmp_path, built_perceptron):
    write_catalogue(tmp_path / "variants", WEAK)
    done = nngrade(
        "verify", "--catalogues", str(tmp_path / "variants"), "--built", str(built_perceptron)
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert last_line(done) == "mutants killed: 0/1, right variants full: 1/1"
    assert "SURVIVED" in done.stdout
    assert "weak" in done.stdout
    for other in assignments.names():
        if other != "perceptron":
            assert f"skipped {other}" in done.stdout


def test_the_report_counts_kills_per_question(tmp_path, built_perceptron):
    write_catalogue(tmp_path / "variants", WEAK)
    report = verify(
        names=["perceptron"],
        catalogue_dir=tmp_path / "variants",
        built_dir=built_perceptron,
        out=tmp_path / "out",
    )
    assert not report.ok
    assert (report.killed, len(report.mutants), report.full, len(report.right)) == (0, 1, 1, 1)
    kills = {q.question: (q.mutants, q.killed) for q in report.questions}
    assert kills == {"q1": (0, 0), "q2": (0, 0), "q3": (0, 0), "q4": (1, 0), "q5": (0, 0)}
    assert (tmp_path / "out" / "perceptron" / "variants" / "not-a-mutant.ipynb").exists()
    assert (tmp_path / "out" / "perceptron" / "graded" / "scores.csv").exists()


# Catalogues that cannot be checked


def test_a_named_assignment_without_catalogue_is_an_error(tmp_path):
    with pytest.raises(CatalogueError, match="perceptron has no variant catalogue"):
        verify(names=["perceptron"], catalogue_dir=tmp_path)
    done = nngrade("verify", "perceptron", "--catalogues", str(tmp_path))
    assert done.returncode == 2
    assert "no variant catalogue" in done.stdout


def test_no_catalogue_at_all_is_an_error(tmp_path):
    with pytest.raises(CatalogueError, match="no assignment has a variant catalogue"):
        verify(catalogue_dir=tmp_path)


ANSWER = "{q4: 'def train(X, t, learning_rate, max_epochs): return None'}"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty catalogue"),
        ("mutants: {}\nright: {}\n", "empty catalogue"),
        (f"mutants:\n  m:\n    answers: {ANSWER}\n    loses: [q9]\n", "loses 'q9'"),
        (f"mutants:\n  m:\n    answers: {ANSWER}\n", "'loses' must list"),
        ("right:\n  m:\n    answers: {q7: 'x = 1'}\n", "answers for 'q7'"),
        (f"right:\n  m:\n    answers: {ANSWER}\n    loses: [q4]\n", "must score full"),
        ("right:\n  m:\n    about: no answers\n", "'answers' must give"),
        (f"mutants:\n  m:\n    answers: {ANSWER}\n    lose: [q4]\n", "unknown key lose"),
        (f"mutant:\n  m:\n    answers: {ANSWER}\n", "unknown section mutant"),
        (
            f"mutants:\n  m:\n    answers: {ANSWER}\n    loses: [q4]\n"
            f"  m:\n    answers: {ANSWER}\n    loses: [q4]\n",
            "given twice",
        ),
        (
            f"mutants:\n  m:\n    answers: {ANSWER}\n    loses: [q4]\n"
            f"right:\n  m:\n    answers: {ANSWER}\n",
            "both a mutant and a right variant",
        ),
        (f"mutants:\n  'bad name':\n    answers: {ANSWER}\n    loses: [q4]\n", "a name may"),
    ],
)
def test_a_bad_catalogue_names_the_file_and_the_variant(tmp_path, text, problem):
    path = tmp_path / "perceptron.yml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as caught:
        load_catalogue(path, assignments.get("perceptron").suite)
    message = str(caught.value)
    assert str(path) in message
    assert problem in message
    if "m:" in text and "given twice" not in message and "section" not in message:
        assert "'m'" in message


def test_answers_with_the_wrong_number_of_cells_is_an_error(tmp_path, built_perceptron):
    text = "mutants:\n  two-cells:\n    answers: {q4: ['x = 1', 'y = 2']}\n    loses: [q4]\n"
    write_catalogue(tmp_path, text)
    with pytest.raises(CatalogueError, match="two-cells.*q4 has 1 answer cells; 2 given"):
        verify(names=["perceptron"], catalogue_dir=tmp_path, built_dir=built_perceptron)
