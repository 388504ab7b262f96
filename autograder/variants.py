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
from collections.abc import Sequence

import nbformat

from . import manual

ANSWER_TAG = "otter_answer_cell"
SOLUTION_TAG = "otter_assign_solution_cell"
_CHECK = re.compile(r"""grader\.check\(\s*['"]([\w.-]+)['"]\s*\)""")


_PROMPT_BLOCK = re.compile(
    r'\n?[ \t]*"""\s*#\s*BEGIN\s+PROMPT.*?"""\s*#\s*END\s+PROMPT[ \t]*\n?', re.DOTALL
)


def _without_prompt(source: str) -> str:
    """A solution cell without Otter's prompt block (a bare string that would print)."""
    return _PROMPT_BLOCK.sub("\n", source)


def answer_cells(
    nb: nbformat.NotebookNode, manual_questions: Sequence[str] | None = None
) -> dict[str, list[int]]:
    """``{question: [cell index, ...]}`` of the answer cells of each question.

    An answer cell belongs to the question whose check cell comes next. A
    manual question has no check cell; otter marks its cells with
    ``BEGIN QUESTION`` / ``END QUESTION`` comments, and the k-th marked block
    belongs to the k-th name in ``manual_questions`` (by default the manual
    questions of the assignment named in the notebook's metadata).
    """
    if manual_questions is None:
        manual_questions = manual.names_for(nb)
    names = iter(manual_questions)
    found: dict[str, list[int]] = {}
    pending: list[int] = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and manual.END_MARK in cell.source:
            if pending:
                found.setdefault(next(names, ""), []).extend(pending)
                pending = []
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


def _tags(cell) -> list:
    return cell.get("metadata", {}).get("tags", [])


def _without_written_prompts(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The solution notebook without the placeholder cell that otter puts before
    each written (markdown) solution; the student notebook has that placeholder
    where the solution is, so the cells then line up one to one."""
    cells = solution.cells
    keep = [
        cell
        for n, cell in enumerate(cells)
        if not (
            cell.cell_type == "markdown"
            and ANSWER_TAG in _tags(cell)
            and n + 1 < len(cells)
            and cells[n + 1].cell_type == "markdown"
            and SOLUTION_TAG in _tags(cells[n + 1])
        )
    ]
    if len(keep) == len(cells):
        return solution
    aligned = copy.copy(solution)
    aligned.cells = keep
    return aligned


def make_submission(
    student: nbformat.NotebookNode,
    solution: nbformat.NotebookNode,
    answers: dict[str, str | list[str]] | None = None,
    *,
    untouched: tuple[str, ...] = (),
) -> nbformat.NotebookNode:
    """A student notebook with reference answers, except where ``answers`` says.

    ``answers`` maps a question to the code of its answer cell (or a list, one
    per answer cell; ``None`` in the list keeps that cell's reference answer).
    Questions in ``untouched`` keep the blank template.
    """
    solution = _without_written_prompts(solution)
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
            source = _without_prompt(solution.cells[index].source)
            if given is not None and given[n] is not None:
                source = given[n]
            nb.cells[index].source = source.strip("\n")
            if nb.cells[index].cell_type == "code":
                nb.cells[index].outputs = []
                nb.cells[index].execution_count = None
    return nb
