"""How grading tests are written.

A grading test is a plain function that runs in the grading process. It gets a
:class:`Remote`, through which it can read a name from the student's kernel or
call a student's function with plain-data arguments; what comes back is plain
data (numbers, strings, lists, dicts, numpy arrays). The test compares that
data with the reference solution and raises :class:`Failure` when it is wrong.

Tests are grouped by question in a :class:`Suite`, one per assignment::

    suite = Suite("perceptron", title="퍼셉트론")

    @suite.test("q1", points=1, message="계단 함수는 s > 0 에서만 1 입니다.")
    def step_on_scalars(nb):
        assert_close(nb.call("step", 0.0), -1, what="step(0.0)")

A public test (``hidden=False``) mirrors a check that students can run with
``grader.check``; its failure message and detail are shown to the student. A
hidden test shows only whether it passed and its points.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .protocol import Unsupported


class Failure(Exception):
    """The student's answer is wrong; ``str()`` says what was found."""


class Remote(Protocol):
    """The student's kernel, as grading tests see it."""

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the student's function ``name``; return its result as plain data."""

    def get(self, name: str) -> Any:
        """Return the student's variable ``name`` as plain data."""

    @property
    def last_warnings(self) -> list[str]:
        """Warnings (``"Category: text"``) raised during the last call or get."""


CheckFunction = Callable[[Remote], None]


@dataclass(frozen=True)
class Test:
    """One grading test of one question."""

    name: str
    question: str
    points: float
    hidden: bool
    message: str
    check: CheckFunction = field(repr=False, compare=False)


@dataclass(frozen=True)
class Question:
    """A question: its autograded tests, or a manually graded answer."""

    name: str
    tests: tuple[Test, ...] = ()
    manual_points: float = 0.0

    @property
    def manual(self) -> bool:
        return self.manual_points > 0

    @property
    def points(self) -> float:
        return sum(test.points for test in self.tests)


class Suite:
    """The grading tests of one assignment, grouped by question."""

    def __init__(self, assignment: str, *, data_files: Iterable[str] = ()):
        self.assignment = assignment
        self.data_files = tuple(data_files)
        self._tests: dict[str, list[Test]] = {}
        self._manual: dict[str, float] = {}

    def test(
        self, question: str, *, points: float, message: str, hidden: bool = False
    ) -> Callable[[CheckFunction], CheckFunction]:
        """Register the decorated function as a test of ``question``."""

        def register(check: CheckFunction) -> CheckFunction:
            name = check.__name__
            tests = self._tests.setdefault(question, [])
            if any(t.name == name for t in tests):
                raise ValueError(f"{self.assignment} {question}: two tests named {name}")
            tests.append(Test(name, question, float(points), hidden, message, check))
            return check

        return register

    def manual(self, question: str, *, points: float) -> None:
        """Declare ``question`` as graded by hand, worth ``points``."""
        self._manual[question] = float(points)

    @property
    def questions(self) -> tuple[Question, ...]:
        names = list(self._tests)
        names += [q for q in self._manual if q not in self._tests]
        names.sort(key=_question_order)
        return tuple(
            Question(q, tuple(self._tests.get(q, ())), self._manual.get(q, 0.0)) for q in names
        )

    def question(self, name: str) -> Question:
        for question in self.questions:
            if question.name == name:
                return question
        raise KeyError(name)

    @property
    def autograded(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.tests)

    @property
    def points(self) -> float:
        return sum(q.points for q in self.questions)


def _question_order(name: str) -> tuple:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (int(digits) if digits else 0, name)


# Helpers for writing checks. Each turns odd student data into a Failure with
# a message a student can act on, never into an exception of the grader.


def as_array(value: Any, what: str, *, shape: tuple | None = None) -> np.ndarray:
    """``value`` as a float array, optionally of a given shape; else Failure."""
    if isinstance(value, Unsupported):
        raise Failure(f"{what}: 숫자나 배열이 아닌 값({value.description})을 돌려주었습니다")
    if value is None:
        raise Failure(f"{what}: 값을 돌려주지 않았습니다 (None). return 문을 확인하세요")
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise Failure(f"{what}: 숫자 배열로 바꿀 수 없는 값입니다") from None
    if shape is not None and array.shape != tuple(shape):
        raise Failure(f"{what}: 모양이 {array.shape} 입니다. {tuple(shape)} 이어야 합니다")
    return array


def as_number(value: Any, what: str) -> float:
    """``value`` as one float (a 0-d or one-element array counts); else Failure."""
    array = as_array(value, what)
    if array.size != 1:
        raise Failure(f"{what}: 숫자 하나가 아니라 모양 {array.shape} 의 배열입니다")
    return float(array.reshape(()))


def assert_close(
    actual: Any,
    expected: Any,
    what: str,
    *,
    rtol: float = 1e-6,
    atol: float = 1e-9,
    shape: bool = True,
) -> None:
    """Fail unless ``actual`` matches ``expected`` elementwise within tolerances.

    With ``shape=True`` the shapes must match exactly; otherwise only the number
    of elements (so ``(n, 1)`` where ``(n,)`` is expected passes).
    """
    expected = np.asarray(expected, dtype=float)
    array = as_array(actual, what, shape=expected.shape if shape else None)
    if not shape:
        if array.size != expected.size:
            raise Failure(f"{what}: 원소가 {array.size}개입니다. {expected.size}개여야 합니다")
        array = array.reshape(expected.shape)
    if not np.all(np.isfinite(array)) and np.all(np.isfinite(expected)):
        raise Failure(f"{what}: nan 이나 inf 가 들어 있습니다")
    if not np.allclose(array, expected, rtol=rtol, atol=atol):
        worst = int(np.argmax(np.abs(array - expected).ravel()))
        raise Failure(
            f"{what}: 기대한 값과 다릅니다 (예: 원소 {worst} 이(가) "
            f"{array.ravel()[worst]:.6g}, 기대값은 {expected.ravel()[worst]:.6g})"
        )


def assert_no_warnings(nb: Remote, what: str) -> None:
    """Fail if the last call raised a warning (e.g. numpy overflow)."""
    if nb.last_warnings:
        raise Failure(f"{what}: 경고가 발생했습니다 ({nb.last_warnings[0]})")
