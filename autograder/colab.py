"""One notebook for Colab and for a local Jupyter: the set-up cell and the
submission note that ``nngrade build`` adds to every built notebook.

In Colab the notebook is all a student has: the set-up cell installs the
pinned Otter quietly and puts the public test files and data files in place
when they are missing, fetched from the course URL (``nngrade build
--data-url URL``, or ``data_url:`` in ``course.yml``) or, without one,
written out from copies packed into the cell itself. Elsewhere it only checks
that Otter can be imported and says how to install it. Under ``nngrade
grade`` it does nothing (the grader sets ``NNGRADE_GRADING``, and provides
the data files itself).
"""

from __future__ import annotations

import base64
import re
import zlib
from pathlib import Path

import nbformat
import yaml

from . import assignments

#: The Otter version students install; it must match what grading pins.
OTTER_VERSION = "7.0.0"

#: Marks the set-up cell, so that tools can find it.
SETUP_TAG = "nngrade_setup"

COURSE_CONFIG = "course.yml"

_SETUP_TEMPLATE = """\
# 과제 준비: 이 셀을 가장 먼저 한 번 실행하세요. (Setup: run this cell first.)
# Colab: installs Otter and fetches the test and data files; elsewhere: checks Otter.
import importlib.util as _util, os as _os, sys as _sys

_NNGRADE_ASSIGNMENT = {assignment!r}
_NNGRADE_URL = {url!r}
_NNGRADE_FILES = {files!r}
_NNGRADE_PACKED = {packed!r}


def _nngrade_in_colab():
    try:
        if _util.find_spec("google.colab") is None:
            return False
    except ImportError:  # no "google" package at all
        return False
    import google.colab  # noqa: F401 (Colab has it loaded; later cells look for it)
    return True


def _nngrade_setup():
    if _os.environ.get("NNGRADE_GRADING"):
        return  # under nngrade grade the grader provides everything
    if not _nngrade_in_colab():
        if _util.find_spec("otter") is None:
            print("Otter 가 설치되어 있지 않습니다. 터미널에서 다음을 실행한 뒤 커널을 다시 "
                  "시작하세요:\\n    python -m pip install otter-grader=={otter}")
        return
    import base64, subprocess, urllib.request, zlib
    subprocess.run([_sys.executable, "-m", "pip", "install", "-q", "otter-grader=={otter}"],
                   check=False)
    for path in _NNGRADE_FILES:
        if _os.path.exists(path):
            continue
        _os.makedirs(_os.path.dirname(path) or ".", exist_ok=True)
        if _NNGRADE_URL:
            url = _NNGRADE_URL.rstrip("/") + "/" + _NNGRADE_ASSIGNMENT + "/" + path
            urllib.request.urlretrieve(url, path)
        else:
            with open(path, "wb") as f:
                f.write(zlib.decompress(base64.b64decode(_NNGRADE_PACKED[path])))
    print("Colab 준비가 끝났습니다: 테스트와 데이터 파일이 있습니다.")


_nngrade_setup()
"""

_SUBMIT_NOTE = """\
## 제출 방법 (How to submit)

- **Colab**: `grader.export` 는 Colab 에서 동작하지 않습니다. 메뉴의 **파일 → 다운로드 →
  .ipynb 다운로드** 로 이 노트북을 내려받아, 그 `.ipynb` 파일을 제출하세요.
- **내 컴퓨터의 Jupyter**: 위의 `grader.export` 셀이 만든 zip 파일, 또는 저장한 `.ipynb`
  파일을 제출하세요.

제출하기 전에 커널을 다시 시작하고 모든 셀을 처음부터 실행해, 오류 없이 끝나는지 확인하세요.
"""


def course_data_url(root: Path | None = None) -> str:
    """The ``data_url`` of the course config file, or ``""``."""
    path = (root or assignments.project_root()) / COURSE_CONFIG
    if not path.exists():
        return ""
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return str(config.get("data_url", "") or "")


def student_files(student_dir: Path) -> list[str]:
    """The files beside the student notebook that grader.check and the notebook need."""
    return sorted(
        p.relative_to(student_dir).as_posix()
        for p in student_dir.rglob("*")
        if p.is_file()
        and p.suffix != ".ipynb"
        and "__pycache__" not in p.parts
        and p.relative_to(student_dir).parts[0] in ("tests", "data")
    )


def setup_source(assignment: str, student_dir: Path, url: str) -> str:
    files = student_files(student_dir)
    packed = {}
    if not url:
        packed = {
            path: base64.b64encode(zlib.compress((student_dir / path).read_bytes(), 9)).decode()
            for path in files
        }
    return _SETUP_TEMPLATE.format(
        assignment=assignment, url=url, files=files, packed=packed, otter=OTTER_VERSION
    )


_INIT = re.compile(r"^grader\s*=\s*otter\.Notebook\((?P<args>.*)\)\s*$", re.MULTILINE)
_EXPORT = re.compile(r"^grader\.export\(.*\)\s*$", re.MULTILINE)


def _portable_otter_cells(nb: nbformat.NotebookNode, assignment: str) -> None:
    """Make Otter's own cells work where the notebook file is not on disk.

    Otter reads the notebook named in ``otter.Notebook(...)``, which Colab does
    not have on its disk; and ``grader.export`` raises in Colab.
    """
    name = f"{assignment}.ipynb"
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if _INIT.search(cell.source):
            cell.source = _INIT.sub(
                f'import os\ngrader = otter.Notebook("{name}" if os.path.isfile("{name}") '
                "else None)",
                cell.source,
            )
        elif _EXPORT.search(cell.source):
            call = _EXPORT.search(cell.source)[0]
            cell.source = _EXPORT.sub(
                "import sys\n"
                'if "google.colab" not in sys.modules:\n'
                f"    {call}\n"
                "else:\n"
                '    print("Colab 에서는 파일 → 다운로드 → .ipynb 다운로드 로 노트북을 내려받아 '
                '제출하세요.")',
                cell.source,
            )


def add_setup(notebook: Path, assignment: str, student_dir: Path, url: str) -> None:
    """Open ``notebook`` with the set-up cell, make Otter's cells work in Colab,
    and close it with the submission note."""
    nb = nbformat.read(notebook, as_version=4)
    _portable_otter_cells(nb, assignment)
    cell = nbformat.v4.new_code_cell(setup_source(assignment, student_dir, url))
    cell.metadata["tags"] = [SETUP_TAG]
    cell.metadata["editable"] = False
    cell.metadata["deletable"] = False
    nb.cells.insert(0, cell)
    nb.cells.append(nbformat.v4.new_markdown_cell(_SUBMIT_NOTE))
    nbformat.write(nb, notebook)
