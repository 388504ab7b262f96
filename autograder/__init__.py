"""nngrade's trusted grader: build assignments with Otter, grade them in sandboxed
kernels, and score from plain data in the grading process.

The API that the ``nngrade`` command wraps::

    from autograder import build, grade
    build(out=Path("dist"))
    batch = grade(Path("submissions"), assignment="perceptron", out=Path("graded"))
"""

__version__ = "0.1.0"

from .batch import BatchResult, grade  # noqa: E402
from .build import build  # noqa: E402
from .grader import Limits, SubmissionResult, grade_notebook  # noqa: E402

__all__ = [
    "BatchResult",
    "Limits",
    "SubmissionResult",
    "build",
    "grade",
    "grade_notebook",
]
