"""Turning what an instructor downloaded into a list of submissions.

SUBMISSIONS may be a folder or a .zip. In either, each ``.ipynb`` is one
submission, named by its file stem. In a folder, each ``.zip`` is one student's
submission too (the zip that Otter's ``grader.export()`` makes, or any zip of a
notebook): when it holds several notebooks, the one with the most work in it
is graded and the message says which. Any other file in a folder is also a
submission, so that it gets a row saying why it could not be graded, instead
of vanishing.
"""

from __future__ import annotations

import io
import json
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import NngradeError

logger = logging.getLogger(__name__)

#: Otter writes this member into every zip made by ``grader.export()``.
OTTER_ZIP_MARKER = "__zip_filename__"

#: Largest notebook read out of a zip, in bytes.
MAX_MEMBER_BYTES = 200 * 1024 * 1024

#: Files that are never submissions (operating-system litter).
IGNORED_NAMES = {".DS_Store", "Thumbs.db", "desktop.ini"}


@dataclass(frozen=True)
class Submission:
    """One thing to grade. ``content`` is set when it came out of a zip."""

    name: str
    student: str
    path: Path
    content: bytes | None = None
    note: str = ""


def _is_litter(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return (
        any(p.startswith(".") or p == "__MACOSX" for p in parts)
        or PurePosixPath(name).name in IGNORED_NAMES
    )


def _notebook_in_otter_zip(path: Path, zf: zipfile.ZipFile, label: str) -> Submission:
    notebooks = [
        m for m in zf.infolist() if m.filename.endswith(".ipynb") and not _is_litter(m.filename)
    ]
    stem = Path(label).stem
    if not notebooks:
        return Submission(stem, stem, path, b"", note=f"{label}: the zip holds no .ipynb")
    if len(notebooks) == 1:
        return Submission(stem, stem, path, _read_member(zf, notebooks[0], label))
    contents = {m.filename: _read_member(zf, m, label) for m in notebooks}
    # The notebook with the most work: most code, then nearest the top.
    chosen = max(notebooks, key=lambda m: (_work(contents[m.filename]), -m.filename.count("/")))
    note = (
        f"graded {chosen.filename}, the notebook with the most code of the "
        f"{len(notebooks)} in {label}"
    )
    return Submission(stem, stem, path, contents[chosen.filename], note=note)


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


def _from_zip(path: Path) -> list[Submission]:
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise NngradeError(f"{path}: not a readable zip file ({exc})") from exc
    with zf:
        names = zf.namelist()
        if OTTER_ZIP_MARKER in names:
            return [_notebook_in_otter_zip(path, zf, path.name)]
        found = []
        for member in zf.infolist():
            if member.is_dir() or _is_litter(member.filename):
                continue
            inner = PurePosixPath(member.filename)
            data = _read_member(zf, member, path.name)
            if inner.suffix == ".zip":
                with zipfile.ZipFile(io.BytesIO(data)) as inner_zip:
                    if OTTER_ZIP_MARKER in inner_zip.namelist():
                        found.append(_notebook_in_otter_zip(path, inner_zip, inner.name))
                        continue
            found.append(Submission(inner.stem, inner.stem, path / inner, data))
        return found


def _from_folder(folder: Path) -> list[Submission]:
    found = []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if not path.is_file() or _is_litter(str(rel)):
            continue
        if path.suffix == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                found.append(_notebook_in_otter_zip(path, zf, path.name))
            continue
        found.append(Submission(path.stem, path.stem, path))
    return found


def collect(source: Path) -> list[Submission]:
    """The submissions in ``source`` (a folder or a .zip), with unique names."""
    source = Path(source)
    if not source.exists():
        raise NngradeError(
            f"{source}: no such file or folder; give the folder or .zip of submissions"
        )
    if source.is_dir():
        found = _from_folder(source)
    elif zipfile.is_zipfile(source):
        found = _from_zip(source)
    else:
        found = [Submission(source.stem, source.stem, source)]
    return _unique(found)


def _unique(found: list[Submission]) -> list[Submission]:
    seen: dict[str, int] = {}
    unique = []
    for sub in found:
        count = seen.get(sub.name, 0)
        seen[sub.name] = count + 1
        if count:
            renamed = f"{sub.name}-{count + 1}"
            logger.warning("two submissions named %s; calling the second %s", sub.name, renamed)
            sub = Submission(renamed, sub.student, sub.path, sub.content, sub.note)
        unique.append(sub)
    return unique
