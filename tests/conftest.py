"""Shared fixtures: assignments built once per session, samples graded once."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder import assignments
from autograder.batch import BatchResult, grade
from autograder.build import build

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory) -> Path:
    """Every assignment built with ``nngrade build`` (solutions checked)."""
    out = tmp_path_factory.mktemp("dist")
    build(out=out)
    return out


@pytest.fixture(scope="session")
def graded_samples(tmp_path_factory):
    """``graded_samples(name)``: the bundled samples of ``name``, graded once."""
    cache: dict[str, BatchResult] = {}

    def get(name: str) -> BatchResult:
        if name not in cache:
            out = tmp_path_factory.mktemp(f"graded-{name}")
            cache[name] = grade(assignments.get(name).samples_dir, assignment=name, out=out)
        return cache[name]

    return get


@pytest.fixture(scope="session")
def perceptron_notebooks(built_dir):
    """The built perceptron student and solution notebooks, as nbformat objects."""
    base = built_dir / "perceptron"
    student = nbformat.read(base / "student" / "perceptron.ipynb", as_version=4)
    solution = nbformat.read(base / "autograder" / "perceptron.ipynb", as_version=4)
    return student, solution


def pytest_generate_tests(metafunc):
    if "assignment_name" in metafunc.fixturenames:
        metafunc.parametrize("assignment_name", assignments.names())
