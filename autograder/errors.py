"""Exceptions of the grader, each built from its context.

Messages name the file (and the cell or question where there is one), what was
found, and what to do about it.
"""

from __future__ import annotations

from pathlib import Path


class NngradeError(Exception):
    """Base class of every error nngrade raises on purpose."""


class UnknownAssignmentError(NngradeError):
    def __init__(self, name: str, known: list[str]):
        self.name = name
        super().__init__(f"no assignment named {name!r}; known assignments: {', '.join(known)}")


class SubmissionError(NngradeError):
    """A submission that cannot be graded at all (not a notebook, empty, ...).

    ``status`` is the short word that goes into the ``status`` column.
    """

    def __init__(self, path: Path | str, problem: str, fix: str, status: str):
        self.path = Path(path)
        self.status = status
        super().__init__(f"{self.path.name}: {problem}; {fix}")


class BuildError(NngradeError):
    """``otter assign`` failed, or a master's own solution loses points."""


class KernelError(NngradeError):
    """The grading kernel could not be started or stopped answering."""


class OutputDirLockedError(NngradeError):
    def __init__(self, path: Path, holder: str):
        super().__init__(
            f"{path} is in use by another nngrade run ({holder}); wait for it to "
            "finish, or pass another --out"
        )


class ManualScoresError(NngradeError):
    """A file of hand-graded points that cannot be merged as it is."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}")


class CatalogueError(NngradeError):
    """A variant catalogue (``reference/variants/NAME.yml``) that cannot be checked."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        super().__init__(f"{self.path}: {problem}")
