"""``nngrade demo``: build every assignment, then grade its bundled samples."""

from __future__ import annotations

import logging
from pathlib import Path

from . import assignments
from .batch import BatchResult, grade
from .build import build
from .grader import Limits

logger = logging.getLogger(__name__)


def run_demo(
    *, out: Path, workers: int | None = None, limits: Limits = Limits()
) -> dict[str, BatchResult]:
    """Build into ``out/build`` and grade each assignment's samples into
    ``out/<assignment>``; return the batches by assignment name."""
    build(out=Path(out) / "build")
    batches = {}
    for name in assignments.names():
        spec = assignments.get(name)
        if not spec.samples_dir.is_dir():
            logger.warning("%s has no samples folder (%s); not graded", name, spec.samples_dir)
            continue
        batches[name] = grade(
            spec.samples_dir,
            assignment=name,
            out=Path(out) / name,
            workers=workers,
            limits=limits,
        )
    return batches
