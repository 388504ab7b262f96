"""Sample submissions shipped with each assignment, and how they are made.

``assignments/NAME/samples.yml`` describes every sample: the answers it swaps
into the reference solution (``answers``), or ``untouched: true`` for the blank
student notebook, or ``text`` for a file that is not a notebook at all; and the
points per question and status it must get (``expected``). Run

    python -m autograder.samples [NAME ...]

to rebuild the assignments and rewrite ``assignments/NAME/samples/`` from it.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
from pathlib import Path

import nbformat
import yaml

from . import assignments
from .build import build
from .variants import make_submission

logger = logging.getLogger(__name__)


def catalogue(spec: assignments.Assignment) -> dict[str, dict]:
    """The sample descriptions of an assignment, by sample name."""
    path = spec.folder / "samples.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def sample_file(spec: assignments.Assignment, name: str, entry: dict) -> Path:
    return spec.samples_dir / entry.get("file", f"{name}.ipynb")


def write_samples(spec: assignments.Assignment, built_dir: Path) -> list[Path]:
    """Write every sample of ``spec`` from the notebooks built in ``built_dir``."""
    student = nbformat.read(built_dir / "student" / f"{spec.name}.ipynb", as_version=4)
    solution = nbformat.read(built_dir / "autograder" / f"{spec.name}.ipynb", as_version=4)
    if spec.samples_dir.exists():
        shutil.rmtree(spec.samples_dir)
    spec.samples_dir.mkdir(parents=True)
    written = []
    for name, entry in catalogue(spec).items():
        target = sample_file(spec, name, entry)
        if "text" in entry:
            target.write_text(entry["text"], encoding="utf-8")
        elif entry.get("untouched") is True:
            nbformat.write(student, target)
        else:
            nb = make_submission(
                student,
                solution,
                entry.get("answers", {}),
                untouched=tuple(entry.get("untouched", ())),
            )
            nbformat.write(nb, target)
        written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Rewrite the sample submissions.")
    parser.add_argument("names", nargs="*", metavar="ASSIGNMENT")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        for item in build(out=Path(tmp), names=args.names or None, check=False):
            spec = assignments.get(item.name)
            for path in write_samples(spec, Path(tmp) / item.name):
                logger.info("wrote %s", path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
