"""Submissions made from code: the reference solution with some answers swapped.

A student notebook built by ``otter assign`` tags every cell a student writes
in (``otter_answer_cell``); the solution notebook has the same cells, in the
same places, with the answers filled in. :func:`make_submission` starts from
the student notebook, puts the reference answer in every answer cell, and
replaces the answers of chosen questions with other code. Sample submissions
and the variants that ``nngrade verify`` grades are made this way.
"""

from __future__ import annotations

import copy
import re

import nbformat

ANSWER_TAG = "otter_answer_cell"
_CHECK = re.compile(r"""grader\.check\(\s*['"]([\w.-]+)['"]\s*\)""")


def answer_cells(nb: nbformat.NotebookNode) -> dict[str, list[int]]:
    """``{question: [cell index, ...]}`` of the answer cells of each question.

    An answer cell belongs to the question whose check cell comes next; for
    manual questions (no check cell) to the name in the preceding
    ``BEGIN QUESTION`` block, which otter records in the cell metadata.
    """
    found: dict[str, list[int]] = {}
    pending: list[int] = []
    for index, cell in enumerate(nb.cells):
        if ANSWER_TAG in cell.get("metadata", {}).get("tags", []):
            pending.append(index)
            continue
        if cell.cell_type == "code":
            match = _CHECK.search(cell.source)
            if match and pending:
                found.setdefault(match[1], []).extend(pending)
                pending = []
    if pending:
        found.setdefault("", []).extend(pending)
    return found


def make_submission(
    student: nbformat.NotebookNode,
    solution: nbformat.NotebookNode,
    answers: dict[str, str | list[str]] | None = None,
    *,
    untouched: tuple[str, ...] = (),
) -> nbformat.NotebookNode:
    """A student notebook with reference answers, except where ``answers`` says.

    ``answers`` maps a question to the code of its answer cell (or a list, one
    per answer cell). Questions in ``untouched`` keep the blank template.
    """
    if len(student.cells) != len(solution.cells):
        raise ValueError("the student and solution notebooks do not have the same cells")
    nb = copy.deepcopy(student)
    answers = answers or {}
    for question, indices in answer_cells(student).items():
        if question in untouched:
            continue
        given = answers.get(question)
        if isinstance(given, str):
            given = [given]
        if given is not None and len(given) != len(indices):
            raise ValueError(f"{question} has {len(indices)} answer cells; {len(given)} given")
        for n, index in enumerate(indices):
            source = given[n] if given is not None else solution.cells[index].source
            nb.cells[index].source = source.strip("\n")
            if nb.cells[index].cell_type == "code":
                nb.cells[index].outputs = []
                nb.cells[index].execution_count = None
    return nb
