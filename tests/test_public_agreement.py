"""Students' own grader.check and our public grading tests agree on every sample.

The sample runs in a plain kernel in a copy of the student folder, with Otter
itself answering grader.check; our grader's public tests must pass or fail the
same questions.
"""

from __future__ import annotations

import json
import shutil

import nbformat
from nbclient import NotebookClient

from autograder import assignments, samples
from autograder.notebook import read_submission

OTTER_PROBE = """
import json as _json
_agreement = {}
for _q in %r:
    try:
        _agreement[_q] = bool(grader.check(_q).passed_all_public)
    except Exception:
        _agreement[_q] = False
print("OTTER-AGREEMENT" + _json.dumps(_agreement))
"""


def otter_public_results(student_dir, sample_path, questions, tmp_path):
    work = tmp_path / sample_path.stem
    shutil.copytree(student_dir, work)
    nb = read_submission(sample_path)
    nb.cells.append(nbformat.v4.new_code_cell(OTTER_PROBE % (questions,)))
    notebook = work / student_dir.joinpath("x").parent.name
    client = NotebookClient(
        nb,
        timeout=120,
        allow_errors=True,
        kernel_name="python3",
        resources={"metadata": {"path": str(work)}},
    )
    client.execute()
    for output in nb.cells[-1].outputs:
        text = output.get("text", "")
        if "OTTER-AGREEMENT" in text:
            return json.loads(text.split("OTTER-AGREEMENT", 1)[1])
    raise AssertionError(f"Otter did not answer for {sample_path.name}: {notebook}")


def test_otter_public_checks_agree_with_our_public_tests(
    assignment_name, built_dir, graded_samples, tmp_path
):
    spec = assignments.get(assignment_name)
    questions = [q.name for q in spec.suite.autograded]
    batch = graded_samples(assignment_name)
    ours = {}
    for result in batch.results:
        ours[result.submission] = {
            q: all(t.passed for t in result.tests if t.question == q and not t.hidden)
            for q in questions
        }
    disagreements = []
    for name, entry in samples.catalogue(spec).items():
        if "text" in entry:
            continue
        path = samples.sample_file(spec, name, entry)
        theirs = otter_public_results(built_dir / spec.name / "student", path, questions, tmp_path)
        for q in questions:
            if theirs[q] != ours[name][q]:
                disagreements.append(f"{name} {q}: otter {theirs[q]}, nngrade {ours[name][q]}")
    assert not disagreements, "\n".join(disagreements)
