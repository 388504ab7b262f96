"""Gradescope autograders: the ``autograder.zip`` of an assignment, and the
grading run inside Gradescope's container.

``nngrade build`` writes ``dist/<name>/autograder.zip`` with :func:`write_zip`.
Gradescope unpacks it into ``/autograder/source``, runs ``setup.sh`` once as
root when it builds the image (Python, bubblewrap, and this package with the
pinned versions of ``constraints.txt`` in a virtual environment), and for each
submission runs ``run_autograder``, which calls :func:`run`.

:func:`run` grades the submission with :func:`autograder.batch.grade`, the
function behind ``nngrade grade``, so the scores are the same; then it writes
``results/results.json`` in Gradescope's format. The file is written by this
process, atomically, after the student's kernel has stopped, and it is written
for every submission, including one that cannot be read.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import stat
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

from . import __version__, assignments, manual, results, sandbox
from .batch import grade
from .errors import BuildError
from .grader import Limits, SubmissionResult, TestResult
from .intake import OTTER_ZIP_MARKER

logger = logging.getLogger(__name__)

#: The file name of the zip that ``nngrade build`` writes beside the student zip.
ZIP_NAME = "autograder.zip"

#: Where ``setup.sh`` puts the virtual environment (``NNGRADE_VENV`` overrides it).
VENV = "/opt/nngrade-venv"

#: Our own distribution; its requirements are pinned, it is installed from source.
DISTRIBUTION = "nngrade"

#: Gradescope's visibility of hidden tests: shown when the instructor publishes grades.
HIDDEN_VISIBILITY = "after_published"

#: Files of the source tree that the autograder needs, besides the packages.
_TOP_FILES = ("pyproject.toml", "README.md")
_PACKAGES = ("autograder", "reference")

#: A fixed time stamp for every zip member, so that a rebuild gives the same zip.
_ZIP_TIME = (2020, 1, 1, 0, 0, 0)


# Building the zip


def pinned_requirements(distribution: str = DISTRIBUTION) -> list[str]:
    """``name==version`` of every package ``distribution`` needs at run time,
    as installed in this environment (its requirements, their requirements, ...).

    Extras named in a requirement (``otter-grader[grading]``) are followed too.
    Requirements whose environment marker is false here are left out.
    """
    # Only building the zip needs packaging; the grading run does not.
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pins: dict[str, str] = {}
    todo: list[tuple[str, frozenset[str]]] = [(distribution, frozenset())]
    seen: set[tuple[str, frozenset[str]]] = set()
    while todo:
        name, extras = todo.pop()
        key = (canonicalize_name(name), extras)
        if key in seen:
            continue
        seen.add(key)
        dist = metadata.distribution(name)
        if canonicalize_name(name) != canonicalize_name(distribution):
            pins[canonicalize_name(name)] = f"{dist.metadata['Name']}=={dist.version}"
        for text in dist.requires or []:
            req = Requirement(text)
            if req.marker is not None and not any(
                req.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                continue
            todo.append((req.name, frozenset(req.extras)))
    return sorted(pins.values(), key=str.lower)


def constraints_text() -> str:
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    lines = [
        f"# Pinned by nngrade {__version__} from the environment that built this zip",
        f"# (Python {version}). setup.sh installs with: pip install -c constraints.txt",
        *pinned_requirements(),
    ]
    return "\n".join(lines) + "\n"


def setup_script() -> str:
    """``setup.sh``: run once, as root, when Gradescope builds the image."""
    major, minor = sys.version_info[:2]
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (base image: Ubuntu 24.04; Ubuntu 22.04's Python 3.10 is too old for the pins).
#
# NNGRADE_SKIP_APT=1   skip the apt-get steps (Python and bubblewrap already there)
# NNGRADE_VENV=DIR     the virtual environment to create (default {VENV})
# NNGRADE_BASE_PYTHON  the Python that creates it (default python3)
set -euo pipefail
SOURCE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
VENV="${{NNGRADE_VENV:-{VENV}}}"
BASE_PYTHON="${{NNGRADE_BASE_PYTHON:-python3}}"

if [ "${{NNGRADE_SKIP_APT:-0}}" != "1" ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # bubblewrap sandboxes each student kernel; prlimit (util-linux) limits it.
    apt-get install -y -qq --no-install-recommends \\
        python3 python3-venv bubblewrap util-linux ca-certificates
fi

# The pins in constraints.txt were made with Python {major}.{minor}.
"$BASE_PYTHON" -c 'import sys; sys.exit(sys.version_info < ({major}, {minor}))' || {{
    echo "setup.sh: $("$BASE_PYTHON" --version 2>&1) is older than {major}.{minor};" \\
        "pick the Ubuntu 24.04 base image on Gradescope" >&2
    exit 1
}}

"$BASE_PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --no-input --disable-pip-version-check \\
    -c "$SOURCE/constraints.txt" -e "$SOURCE"
"$VENV/bin/python" -c "import autograder.gradescope"
echo "setup.sh: nngrade installed in $VENV"
"""


def run_script(assignment: str) -> str:
    """``run_autograder``: run by Gradescope for every submission."""
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this for every submission, in /autograder.
# AUTOGRADER_ROOT  the autograder folder (default /autograder)
# NNGRADE_PYTHON   the Python to grade with (default {VENV}/bin/python,
#                  else python3 on PATH)
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
PYTHON="${{NNGRADE_PYTHON:-${{NNGRADE_VENV:-{VENV}}}/bin/python}}"
if [ ! -x "$PYTHON" ]; then
    PYTHON="$(command -v python3 || echo python3)"
fi
cd "$ROOT/source" || exit 1
# The assignment graded is the one in source/, whatever the environment says.
unset NNGRADE_ROOT
# Only the grader below writes the results.
rm -f "$ROOT/results/results.json"
"$PYTHON" -m autograder.gradescope run --root "$ROOT" --assignment {assignment}
status=$?
if [ ! -s "$ROOT/results/results.json" ]; then
    # The grader did not even start: still give Gradescope a result.
    mkdir -p "$ROOT/results"
    {{
        printf '{{"score": 0, "execution_time": 0, "stdout_visibility": "hidden", "tests": [],\\n'
        printf ' "output": "%s %s"}}\\n' \\
            "채점기를 시작하지 못했습니다; 담당 교수에게 알려 주세요." \\
            "(The autograder could not start, so this submission was not graded.)"
    }} > "$ROOT/results/results.json"
fi
exit $status
"""


def _add(zf: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    zf.writestr(info, data)


def write_zip(spec: assignments.Assignment, target: Path) -> Path:
    """Write the Gradescope autograder zip of ``spec`` to ``target``.

    The zip's root holds ``setup.sh``, ``run_autograder``, ``constraints.txt``
    and what grading needs of the source tree: the packages, ``pyproject.toml``,
    the master notebook and the assignment's data files.

    Raises :class:`BuildError` if this package is not installed from its source tree.
    """
    # The code is this package's own tree; the assignment comes from its spec.
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise BuildError(
            f"{root} has no pyproject.toml, so the Gradescope zip cannot carry the package; "
            "install nngrade from its source tree (pip install -e .) and build again"
        )
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    members: dict[str, Path] = {}
    for name in _TOP_FILES:
        members[name] = root / name
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                members[path.relative_to(root).as_posix()] = path
    members[f"assignments/{spec.name}/{spec.master.name}"] = spec.master
    for name in spec.suite.data_files:
        members[f"data/{name}"] = spec.data_dir / name

    with zipfile.ZipFile(target, "w") as zf:
        _add(zf, "setup.sh", setup_script().encode(), executable=True)
        _add(zf, "run_autograder", run_script(spec.name).encode(), executable=True)
        _add(zf, "constraints.txt", constraints_text().encode())
        for name, path in sorted(members.items()):
            _add(zf, name, path.read_bytes())
    logger.info("wrote the Gradescope autograder %s", target)
    return target


# Grading in the container


class SubmissionEmpty(Exception):
    """The upload holds no file to grade."""


@dataclass
class Chosen:
    """The file to grade in ``submission/``, and what to tell the student about it."""

    path: Path | None
    note: str = ""


def _is_litter(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") or part == "__MACOSX" for part in rel.parts)


def _is_otter_zip(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return OTTER_ZIP_MARKER in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def choose_submission(folder: Path, assignment: str) -> Chosen:
    """The one file to grade among what the student uploaded.

    A notebook (``.ipynb``, any name) is preferred to an Otter export zip, and
    either to any other file (graded too, so that the student is told why it
    scores 0). Among several notebooks: ``<assignment>.ipynb`` first, then the
    one nearest the top of the upload, then the largest, then by name.
    """
    files = sorted(
        p
        for p in Path(folder).rglob("*")
        if p.is_file() and not _is_litter(PurePosixPath(p.relative_to(folder).as_posix()))
    )
    if not files:
        return Chosen(None, "제출된 파일이 없습니다 (nothing was submitted)")

    def rank(path: Path) -> tuple:
        rel = path.relative_to(folder)
        if path.suffix.lower() == ".ipynb":
            kind = 0
        elif path.suffix.lower() == ".zip" and _is_otter_zip(path):
            kind = 1
        else:
            kind = 2
        return (
            kind,
            path.name != f"{assignment}.ipynb",
            len(rel.parts),
            -path.stat().st_size,
            rel.as_posix(),
        )

    ranked = sorted(files, key=rank)
    chosen = ranked[0]
    note = ""
    others = [p for p in ranked[1:] if rank(p)[0] < 2]
    if rank(chosen)[0] == 2:
        note = (
            f"노트북(.ipynb)이 없습니다; {assignment}.ipynb 를 제출하세요 "
            "(no notebook in the upload)"
        )
    elif others:
        names = ", ".join(p.relative_to(folder).as_posix() for p in others)
        note = (
            f"{chosen.relative_to(folder).as_posix()} 을(를) 채점했습니다; 다른 노트북은 채점하지 "
            f"않았습니다: {names} (graded one notebook: {assignment}.ipynb if present, else "
            "the one nearest the top of the upload, else the largest)"
        )
    return Chosen(chosen, note)


def _test_entry(test: TestResult) -> dict:
    mark = "통과 (pass)" if test.passed else "실패 (fail)"
    points = f"{test.points:g}/{test.max_points:g}"
    if test.hidden:
        # Hidden tests tell only whether they passed, and the points.
        output = f"{mark}, {points}"
    else:
        lines = [f"{mark}, {points}"]
        if not test.passed:
            lines += [line for line in (test.message, test.detail) if line]
        output = "\n".join(lines)
    return {
        "name": f"{test.question} {test.name}" + (" (비공개 hidden)" if test.hidden else ""),
        "score": test.points,
        "max_score": test.max_points,
        "status": "passed" if test.passed else "failed",
        "visibility": HIDDEN_VISIBILITY if test.hidden else "visible",
        "output": output,
    }


def results_json(
    result: SubmissionResult,
    *,
    seconds: float,
    isolation: sandbox.Isolation,
    notes: list[str],
    manual_questions: list[str],
) -> dict:
    """Gradescope's ``results.json`` for one graded submission."""
    lines = [f"점수 (score): {result.total:g} / {result.total_possible:g}"]
    if result.status != "ok":
        lines.append(f"상태 (status): {result.status} — {result.message}")
    lines += notes
    if manual_questions:
        lines.append(
            f"{', '.join(manual_questions)}: 교수자가 직접 채점합니다; 이 점수에 포함되지 "
            "않았습니다 (graded by hand, not in this score)"
        )
    if not isolation.sandboxed:
        lines.append(
            f"주의 (note): the notebook ran WITHOUT the bubblewrap sandbox: {isolation.reason}"
        )
    return {
        "score": result.total,
        "execution_time": round(seconds, 3),
        "output": "\n".join(lines),
        "stdout_visibility": "hidden",
        "tests": [_test_entry(test) for test in result.tests],
    }


def _failure_json(message: str, seconds: float) -> dict:
    return {
        "score": 0,
        "execution_time": round(seconds, 3),
        "output": message,
        "stdout_visibility": "hidden",
        "tests": [],
    }


def _lock_down(root: Path) -> None:
    """As root, keep the autograder's files from an unsandboxed kernel user."""
    if os.geteuid() != 0:
        return
    # nobody (the kernel's user without bubblewrap) may neither read the
    # reference solutions nor write the results folder.
    (root / "source").chmod(0o700)
    (root / "results").chmod(0o755)


def run(
    *,
    root: Path,
    assignment: str,
    limits: Limits = Limits(),
) -> dict:
    """Grade the submission in ``root/submission`` and write ``root/results/results.json``.

    Never raises for a bad submission or a failure of the grader: the file is
    always written, and returned as a dict.
    """
    started = time.monotonic()
    root = Path(root)
    target = root / "results" / "results.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _lock_down(root)
        spec = assignments.get(assignment)
        chosen = choose_submission(root / "submission", assignment)
        if chosen.path is None:
            data = _failure_json(
                f"점수 (score): 0\n{chosen.note}; {assignment}.ipynb 를 제출하세요 "
                f"(submit your {assignment}.ipynb)",
                time.monotonic() - started,
            )
        else:
            with tempfile.TemporaryDirectory(prefix="nngrade-gradescope-") as out:
                batch = grade(
                    chosen.path, assignment=assignment, out=Path(out), workers=1, limits=limits
                )
            notes = [f"채점한 파일 (graded): {chosen.path.relative_to(root / 'submission')}"]
            if chosen.note:
                notes.append(chosen.note)
            if not batch.results:
                raise SubmissionEmpty(f"{chosen.path.name} holds nothing to grade")
            # A plain zip (not an Otter export) may hold several files; the best counts.
            result = max(batch.results, key=lambda r: (r.total, r.status == "ok"))
            if len(batch.results) > 1:
                notes.append(
                    f"{chosen.path.name} 안의 {len(batch.results)} 개 파일 중 "
                    f"{result.submission} 의 점수입니다 (best of the files in the zip)"
                )
            data = results_json(
                result,
                seconds=time.monotonic() - started,
                isolation=batch.isolation,
                notes=notes,
                manual_questions=manual.manual_names(spec.suite),
            )
    except SubmissionEmpty as exc:
        data = _failure_json(
            f"점수 (score): 0\n{exc}; {assignment}.ipynb 를 제출하세요 "
            f"(submit your {assignment}.ipynb)",
            time.monotonic() - started,
        )
    except Exception as exc:
        logger.error("grading failed in the grader:\n%s", traceback.format_exc())
        data = _failure_json(
            "채점기 오류로 채점하지 못했습니다; 담당 교수에게 알려 주세요 "
            f"(grader error, not your fault: {exc!r})",
            time.monotonic() - started,
        )
    results.write_atomic(target, json.dumps(data, ensure_ascii=False, indent=1))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder.gradescope",
        description="Grade one Gradescope submission (run by run_autograder).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = commands.add_parser("run", help="grade ROOT/submission into ROOT/results/results.json")
    p.add_argument(
        "--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    )
    p.add_argument("--assignment", required=True)
    p.add_argument("-v", "--verbose", action="store_true", help="log each step")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    data = run(root=args.root, assignment=args.assignment)
    # Gradescope shows this only to instructors (stdout_visibility is hidden).
    print(data["output"])
    print(f"results: {args.root / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
