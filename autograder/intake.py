"""Turning what an instructor downloaded into a list of submissions.

SUBMISSIONS is a folder or a .zip (a zip is unpacked into a private temporary
folder first), in one of three shapes:

- **Notebooks, one per student.** Each file is a submission, named by its
  stem. A ``.zip`` inside is one student's submission (the zip that Otter's
  ``grader.export()`` makes, or any zip of a notebook); when it holds several
  notebooks, the one with the most work in it is graded.
- **A Gradescope "Export Submissions" download**: ``submission_metadata.yml``
  maps each ``submission_<id>`` folder to its submitters (name, sid, email).
  The row is the submission; ``student`` names every submitter.
- **An LMS download** whose file names carry the student, Canvas style
  (``kimminsu_12345_67890_perceptron.ipynb``, ``kimminsu_LATE_12345_...``), or
  any convention given as a regular expression with a ``student`` group (and
  optionally ``sid``).

When one student (or one Gradescope submission) has several notebooks, the
one named like the assignment is graded, else the newest; the message says
which and why. Files that are not notebooks still become submissions, so that
they get a row saying why they could not be graded instead of vanishing.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import yaml

from .errors import NngradeError

logger = logging.getLogger(__name__)

#: Otter writes this member into every zip made by ``grader.export()``.
OTTER_ZIP_MARKER = "__zip_filename__"

#: Largest notebook read out of a zip, in bytes.
MAX_MEMBER_BYTES = 100 * 1024 * 1024

#: Largest class download unpacked, in bytes.
MAX_UNPACKED_BYTES = 4 * 1024**3

#: Files that are never submissions (operating-system litter, our own files).
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini", "submission_metadata.yml"}

GRADESCOPE_METADATA = "submission_metadata.yml"

#: Canvas: ``{name}[_LATE]_{user id}_{submission id}_{original file name}``.
CANVAS_PATTERN = r"^(?P<student>[^_]+)(?:_late)?_(?P<sid>\d+)_\d+_(?P<file>.+)$"


@dataclass(frozen=True)
class Student:
    name: str
    sid: str = ""
    email: str = ""

    @property
    def label(self) -> str:
        return self.name or self.sid or self.email


@dataclass(frozen=True)
class Submission:
    """One thing to grade. ``content`` is set when it came out of a zip."""

    name: str
    students: tuple[Student, ...]
    path: Path
    content: bytes | None = None
    note: str = ""
    created: float = 0.0
    #: Why it cannot be graded at all, found while reading it (else "").
    problem: str = ""

    @property
    def student(self) -> str:
        return "; ".join(s.label for s in self.students)


def _is_litter(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return (
        any(p.startswith(".") or p == "__MACOSX" for p in parts)
        or PurePosixPath(name).name in IGNORED_NAMES
    )


def _work(content: bytes) -> int:
    """How much code a notebook holds, leaving out blanks and ``...`` placeholders."""
    try:
        cells = json.loads(content.decode("utf-8", errors="replace")).get("cells", [])
    except (ValueError, AttributeError):
        return -1
    total = 0
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        total += sum(
            len(line.strip())
            for line in source.splitlines()
            if line.strip() and not line.strip().endswith("...")
        )
    return total


def _read_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, label: str) -> bytes:
    if member.file_size > MAX_MEMBER_BYTES:
        raise NngradeError(
            f"{label}: {member.filename} is {member.file_size} bytes, over the "
            f"{MAX_MEMBER_BYTES} byte limit; remove its saved outputs and resubmit"
        )
    return zf.read(member)


def _from_student_zip(path: Path, name: str, students: tuple[Student, ...]) -> Submission:
    """One student's zip: grade the notebook in it with the most work."""
    try:
        return _read_student_zip(path, name, students)
    except (NngradeError, zipfile.BadZipFile, OSError, RuntimeError) as exc:
        return Submission(name, students, path, b"", problem=str(exc))


def _read_student_zip(path: Path, name: str, students: tuple[Student, ...]) -> Submission:
    created = path.stat().st_mtime
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return Submission(name, students, path, created=created)
    with zf:
        notebooks = [
            m for m in zf.infolist() if m.filename.endswith(".ipynb") and not _is_litter(m.filename)
        ]
        if not notebooks:
            return Submission(
                name, students, path, b"", note=f"{path.name} holds no .ipynb", created=created
            )
        if len(notebooks) == 1:
            return Submission(
                name, students, path, _read_member(zf, notebooks[0], path.name), created=created
            )
        # One notebook in memory at a time, besides the best so far.
        best, best_key, best_data = None, None, b""
        for member in notebooks:
            data = _read_member(zf, member, path.name)
            key = (_work(data), -member.filename.count("/"))
            if best_key is None or key > best_key:
                best, best_key, best_data = member, key, data
            del data
    note = (
        f"graded {best.filename}, the notebook with the most code of the "
        f"{len(notebooks)} in {path.name}"
    )
    return Submission(name, students, path, best_data, note, created)


def _candidate(path: Path, name: str, students: tuple[Student, ...]) -> Submission:
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        return _from_student_zip(path, name, students)
    return Submission(name, students, path, created=path.stat().st_mtime)


def _choose(candidates: list[Submission], assignment: str, whose: str) -> Submission:
    """One submission out of several from the same student or group."""
    if len(candidates) == 1:
        return candidates[0]

    def named_like(sub: Submission) -> bool:
        return assignment.lower() in sub.path.stem.lower()

    def readable(sub: Submission) -> bool:
        return sub.path.suffix.lower() in (".ipynb", ".zip")

    named = [c for c in candidates if named_like(c) and readable(c)]
    pool = named or [c for c in candidates if readable(c)] or candidates
    chosen = max(pool, key=lambda c: c.created)
    why = "named like the assignment" if named and len(named) == 1 else "the newest"
    others = ", ".join(sorted(c.path.name for c in candidates if c is not chosen))
    note = (
        f"graded {chosen.path.name} ({why}) of {len(candidates)} files from {whose}; not {others}"
    )
    return replace(chosen, note="; ".join(n for n in (note, chosen.note) if n))


def _files(folder: Path) -> list[Path]:
    return [
        p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not _is_litter(str(p.relative_to(folder)))
    ]


def _gradescope(folder: Path, metadata: Path, assignment: str) -> list[Submission]:
    try:
        entries = yaml.safe_load(metadata.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise NngradeError(
            f"{metadata}: cannot read the Gradescope metadata ({exc}); download the export again"
        ) from exc
    if not isinstance(entries, dict):
        raise NngradeError(f"{metadata}: expected a mapping of submission folders")
    found = []
    for key, entry in entries.items():
        entry = entry if isinstance(entry, dict) else {}
        students = tuple(
            Student(
                str(s.get(":name", "") or ""),
                str(s.get(":sid", "") or ""),
                str(s.get(":email", "") or ""),
            )
            for s in entry.get(":submitters", []) or []
            if isinstance(s, dict)
        )
        sub_folder = metadata.parent / str(key)
        files = _files(sub_folder) if sub_folder.is_dir() else []
        if not files:
            found.append(
                Submission(
                    str(key),
                    students,
                    sub_folder,
                    b"",
                    note=f"{key}: the Gradescope submission holds no files",
                )
            )
            continue
        candidates = [_candidate(p, str(key), students) for p in files]
        chosen = _choose(candidates, assignment, str(key))
        found.append(chosen)
    return found


def _by_file_name(folder: Path, assignment: str, pattern: str | None) -> list[Submission]:
    regex = re.compile(pattern or CANVAS_PATTERN, re.IGNORECASE)
    if "student" not in regex.groupindex:
        raise NngradeError(
            f"--name-pattern {pattern!r} has no (?P<student>...) group; add one that "
            "matches the part of the file name naming the student"
        )
    groups: dict[str, list[Submission]] = {}
    for path in _files(folder):
        match = regex.match(path.name)
        if match:
            key = match["student"]
            sid = match.groupdict().get("sid") or ""
            students = (Student(key, sid),)
        elif pattern:
            logger.warning("%s does not match --name-pattern; named by its file name", path.name)
            key, students = path.stem, (Student(path.stem),)
        else:
            key, students = path.stem, (Student(path.stem),)
        groups.setdefault(key, []).append(_candidate(path, key, students))
    return [_choose(subs, assignment, name) for name, subs in sorted(groups.items())]


def _find_metadata(folder: Path) -> Path | None:
    found = sorted(folder.rglob(GRADESCOPE_METADATA), key=lambda p: len(p.parts))
    return found[0] if found else None


def _unpack(source: Path, into: Path) -> None:
    try:
        zf = zipfile.ZipFile(source)
    except zipfile.BadZipFile as exc:
        raise NngradeError(f"{source}: not a readable zip file ({exc})") from exc
    with zf:
        size = sum(m.file_size for m in zf.infolist())
        if size > MAX_UNPACKED_BYTES:
            raise NngradeError(
                f"{source}: unpacks to {size} bytes, over the {MAX_UNPACKED_BYTES} byte "
                "limit; unpack it yourself and pass the folder"
            )
        zf.extractall(into)


@contextlib.contextmanager
def open_submissions(
    source: Path, *, assignment: str, name_pattern: str | None = None
) -> Iterator[list[Submission]]:
    """The submissions in ``source``, with unique names, while the context lasts."""
    source = Path(source)
    if not source.exists():
        raise NngradeError(
            f"{source}: no such file or folder; give the folder or .zip of submissions"
        )
    with contextlib.ExitStack() as stack:
        folder = source
        if source.is_file() and zipfile.is_zipfile(source):
            with zipfile.ZipFile(source) as zf:
                otter_export = OTTER_ZIP_MARKER in zf.namelist()
            if otter_export:
                yield [_from_student_zip(source, source.stem, (Student(source.stem),))]
                return
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nngrade-in-")))
            _unpack(source, folder)
        elif source.is_file():
            yield [Submission(source.stem, (Student(source.stem),), source)]
            return
        metadata = _find_metadata(folder)
        if metadata is not None:
            found = _gradescope(folder, metadata, assignment)
        else:
            found = _by_file_name(folder, assignment, name_pattern)
        yield _unique(found)


def _unique(found: list[Submission]) -> list[Submission]:
    seen: dict[str, int] = {}
    unique = []
    for sub in found:
        count = seen.get(sub.name, 0)
        seen[sub.name] = count + 1
        if count:
            renamed = f"{sub.name}-{count + 1}"
            logger.warning("two submissions named %s; calling the second %s", sub.name, renamed)
            sub = replace(sub, name=renamed)
        unique.append(sub)
    return unique


def read_roster(path: Path) -> list[Student]:
    """Students from a roster CSV with a ``name`` (or ``student``) column and
    optionally ``sid`` (or ``id``) and ``email``."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise NngradeError(f"{path}: cannot read the roster ({exc})") from exc
    columns = {c.strip().lower(): c for c in frame.columns}
    name_col = columns.get("name") or columns.get("student")
    sid_col = columns.get("sid") or columns.get("id") or columns.get("student id")
    email_col = columns.get("email")
    if not (name_col or sid_col or email_col):
        raise NngradeError(
            f"{path}: a roster needs a 'name', 'sid' or 'email' column; found "
            f"{', '.join(frame.columns)}"
        )
    return [
        Student(
            row[name_col].strip() if name_col else "",
            row[sid_col].strip() if sid_col else "",
            row[email_col].strip() if email_col else "",
        )
        for _, row in frame.iterrows()
    ]


def same_student(a: Student, b: Student) -> bool:
    """Whether two records name the same person: the same sid, email or name.

    Any one agreeing is enough, since an LMS file name may carry an LMS user
    number where the roster has the university's student number.
    """
    if a.sid and b.sid and a.sid == b.sid:
        return True
    if a.email and b.email and a.email.lower() == b.email.lower():
        return True
    return bool(a.name) and bool(b.name) and _fold(a.name) == _fold(b.name)


def merged(found: Student, listed: Student) -> Student:
    """A submitter's record completed from the roster's (the roster wins)."""
    return Student(listed.name or found.name, listed.sid or found.sid, listed.email or found.email)


def _fold(name: str) -> str:
    return re.sub(r"[\s_.-]+", "", name).lower()
