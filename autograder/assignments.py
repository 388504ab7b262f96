"""The assignments this package ships, and where their parts are.

Each assignment NAME has a master notebook ``assignments/NAME/NAME.ipynb``,
sample submissions in ``assignments/NAME/samples/``, described with their
expected scores in ``assignments/NAME/samples.yml``, and grading tests in
:mod:`reference.grading.NAME`.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from .errors import UnknownAssignmentError
from .spec import Suite

#: Assignments in the order the course teaches them.
ORDER = ("perceptron", "xor", "backprop")


def project_root() -> Path:
    """The source tree (``NNGRADE_ROOT`` overrides it)."""
    root = os.environ.get("NNGRADE_ROOT")
    return Path(root) if root else Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Assignment:
    name: str
    folder: Path

    @property
    def master(self) -> Path:
        return self.folder / f"{self.name}.ipynb"

    @property
    def samples_dir(self) -> Path:
        return self.folder / "samples"

    @property
    def data_dir(self) -> Path:
        return project_root() / "data"

    @cached_property
    def suite(self) -> Suite:
        return importlib.import_module(f"reference.grading.{self.name}").suite


def names() -> list[str]:
    """Names of the assignments present in the source tree, in course order."""
    folder = project_root() / "assignments"
    found = {p.parent.name for p in folder.glob("*/*.ipynb") if p.stem == p.parent.name}
    return [n for n in ORDER if n in found] + sorted(found - set(ORDER))


def get(name: str) -> Assignment:
    """The assignment called ``name``; :class:`UnknownAssignmentError` if none."""
    known = names()
    if name not in known:
        raise UnknownAssignmentError(name, known)
    return Assignment(name, project_root() / "assignments" / name)
