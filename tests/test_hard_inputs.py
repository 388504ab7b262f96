"""Whatever students hand in: every awkward case graded in one batch.

Each case is a real file on disk, made from the perceptron notebooks, with the
points per question it must get. The batch must finish and write every row.
"""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from autograder import assignments
from autograder.batch import grade
from autograder.grader import Limits, grade_notebook
from autograder.variants import make_submission

FULL = {"q1": 2, "q2": 2, "q3": 2, "q4": 4, "q5": 2}
LIMITS = Limits(cell_timeout=6, call_timeout=6, timeout=120, memory=1024**3)

UNBOUNDED_TRAIN = '''
def train(X, t, learning_rate, max_epochs):
    """Trains until there are no errors, whatever max_epochs says."""
    X = np.asarray(X, dtype=float)
    w = np.zeros(X.shape[1])
    b = 0.0
    corrections = []
    while True:
        count = 0
        for x, target in zip(X, t):
            if step(x @ w + b) != target:
                w = w + learning_rate * target * x
                b = b + learning_rate * target
                count += 1
        corrections.append(count)
        if count == 0:
            return w, b, corrections
'''

MAGICS_Q2 = """%%writefile perceptron_helpers.py
import numpy as np

def weighted_sum(X, w, b):
    return np.asarray(X) @ np.asarray(w) + b
"""


def _cells(nb, *extra, after=None):
    """A copy of nb with code cells inserted after cell index ``after`` (or at the end)."""
    nb = copy.deepcopy(nb)
    new = [nbformat.v4.new_code_cell(source) for source in extra]
    at = len(nb.cells) if after is None else after + 1
    nb.cells[at:at] = new
    return nb


def _answer_index(nb, question):
    from autograder.variants import answer_cells

    return answer_cells(nb)[question][-1]


@pytest.fixture(scope="module")
def cases(built_dir, tmp_path_factory):
    """``{file name: expected}`` written into one folder; expected is a dict of
    per-question points plus optional ``status`` and ``message`` (a substring)."""
    base = built_dir / "perceptron"
    student = nbformat.read(base / "student" / "perceptron.ipynb", as_version=4)
    solution = nbformat.read(base / "autograder" / "perceptron.ipynb", as_version=4)
    correct = make_submission(student, solution)
    folder = tmp_path_factory.mktemp("hard-inputs")
    expected: dict[str, dict] = {}

    def add(name, nb_or_bytes, **want):
        path = folder / name
        if isinstance(nb_or_bytes, bytes):
            path.write_bytes(nb_or_bytes)
        else:
            nbformat.write(nb_or_bytes, path)
        expected[Path(name).stem] = {**FULL, **want}

    q2 = _answer_index(correct, "q2")
    q5 = _answer_index(correct, "q5")

    add(
        "never-stops.ipynb",
        make_submission(student, solution, {"q4": UNBOUNDED_TRAIN}),
        q4=3,
        status="ok",
    )
    add(
        "xor-until-no-errors.ipynb",
        _cells(
            correct,
            "w, b = np.zeros(2), 0.0\n"
            "while not np.array_equal(predict(X, w, b), [-1, 1, 1, -1]):\n"
            "    w, b, _ = train(X, np.array([-1, 1, 1, -1]), 0.1, 1000)",
        ),
        status="timeout",
        message="ran over 6 s",
    )
    add(
        "grows-memory.ipynb",
        _cells(correct, "hoard = []\nwhile True:\n    hoard.append(np.ones(10**7))", after=q2),
        status="memory",
        message="ran out of memory (limit 1 GiB)",
    )
    learning_rate_from_input = correct.cells[q5].source.replace(
        "learning_rate = 0.1", "learning_rate = float(input('learning rate: '))"
    )
    add(
        "asks-for-input.ipynb",
        make_submission(student, solution, {"q5": learning_rate_from_input}),
        q5=0,
        status="error",
        message="StdinNotImplementedError",
    )
    magics = _cells(
        correct,
        "%timeit -n 20 -r 3 step(0.5)",
        MAGICS_Q2,
        "from perceptron_helpers import weighted_sum\n"
        "def predict(X, w, b):\n    return step(weighted_sum(X, w, b))",
        "!pip install --quiet perceptron-helpers",
        "%debug",
        after=q2,
    )
    add("magics.ipynb", magics, status="ok")
    add(
        "sys-exit.ipynb",
        _cells(correct, "import sys\nsys.exit(0)", after=q2),
        status="error",
        message="SystemExit",
    )
    add(
        "os-exit.ipynb",
        _cells(correct, "import os\nos._exit(1)", after=q2),
        status="kernel-died",
        message="kernel stopped in cell",
    )
    raises = make_submission(student, solution, {"q2": "raise ValueError('predict: not done yet')"})
    add("raises.ipynb", raises, q2=0, status="error", message="ValueError: predict: not done")

    missing_env = copy.deepcopy(correct)
    missing_env.metadata["kernelspec"] = {
        "name": "conda-env-ml2024-py",
        "display_name": "Python (ml2024)",
        "language": "python",
    }
    add("kernelspec-missing-env.ipynb", missing_env, status="ok")
    r_kernel = copy.deepcopy(correct)
    r_kernel.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    r_kernel.metadata["language_info"] = {"name": "R"}
    add("kernelspec-r.ipynb", r_kernel, status="ok", message="kernel is r")

    v3 = nbformat.convert(copy.deepcopy(correct), 3)
    add("nbformat-3.ipynb", nbformat.writes(v3, version=3).encode(), status="ok")
    no_ids = json.loads(nbformat.writes(correct))
    no_ids["nbformat_minor"] = 4
    for cell in no_ids["cells"]:
        cell.pop("id", None)
    add("no-cell-ids.ipynb", json.dumps(no_ids).encode(), status="ok")

    duplicated = copy.deepcopy(correct)
    q4 = _answer_index(duplicated, "q4")
    first_try = copy.deepcopy(duplicated.cells[q4])
    first_try.source = first_try.source.replace("b = b + learning_rate * target", "b = b")
    duplicated.cells.insert(q4, first_try)
    add("duplicated-cell.ipynb", duplicated, status="ok")

    text = nbformat.writes(correct).encode()
    add(
        "cut-off.ipynb",
        text[: len(text) // 2],
        **dict.fromkeys(FULL, 0),
        status="not-a-notebook",
        message="cut off",
    )
    add("empty.ipynb", b"", **dict.fromkeys(FULL, 0), status="empty")
    add(
        "my_code.py",
        b"import numpy as np\n\ndef step(s):\n    return 1\n",
        **dict.fromkeys(FULL, 0),
        status="not-a-notebook",
        message=".ipynb",
    )

    with zipfile.ZipFile(folder / "template-and-work.zip", "w") as zf:
        zf.writestr("perceptron.ipynb", nbformat.writes(student))
        zf.writestr("perceptron-done.ipynb", nbformat.writes(correct))
    expected["template-and-work"] = {**FULL, "status": "ok", "message": "perceptron-done.ipynb"}

    bad_bytes = _cells(correct, "print('ok')")
    bad_bytes.cells[-1].outputs = [nbformat.v4.new_output("stream", name="stdout", text="@@@")]
    raw = nbformat.writes(bad_bytes).encode().replace(b"@@@", b"caf\xe9 \xff\xfe")
    add("non-utf8-outputs.ipynb", raw, status="ok")

    huge = _cells(correct, "print('big')")
    huge.cells[-1].outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="x" * (50 * 1024 * 1024))
    ]
    add("huge-outputs.ipynb", huge, status="ok")

    plots = _cells(
        correct,
        "%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([0, 1], [1, 0])\nplt.show()",
        "import matplotlib\nmatplotlib.use('TkAgg', force=False)\n"
        "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\n"
        "ax.scatter(X[:, 0], X[:, 1])\nplt.show()\nfrom IPython.display import display\n"
        "display(fig)",
    )
    add("plots.ipynb", plots, status="ok")
    return folder, expected


@pytest.fixture(scope="module")
def batch(cases, tmp_path_factory):
    folder, _ = cases
    return grade(folder, assignment="perceptron", out=tmp_path_factory.mktemp("out"), limits=LIMITS)


@pytest.mark.slow
def test_every_case_gets_a_row(cases, batch):
    _, expected = cases
    frame = pd.read_csv(batch.scores_csv, keep_default_na=False)
    assert sorted(frame["submission"]) == sorted(expected)


@pytest.mark.slow
def test_each_case_scores_what_its_work_earns(cases, batch):
    _, expected = cases
    by_name = {r.submission: r for r in batch.results}
    wrong = []
    for name, want in expected.items():
        result = by_name[name]
        for q in FULL:
            if result.questions[q] != want[q]:
                wrong.append(f"{name}: {q} = {result.questions[q]}, expected {want[q]}")
        if "status" in want and result.status != want["status"]:
            wrong.append(f"{name}: status {result.status}, expected {want['status']}")
        if "message" in want and want["message"].lower() not in result.message.lower():
            wrong.append(f"{name}: message {result.message!r} lacks {want['message']!r}")
    assert not wrong, "\n".join(wrong)


def test_a_data_path_in_the_wrong_case_names_the_file_that_exists(built_dir, tmp_path):
    spec = assignments.get("perceptron")
    suite = copy.copy(spec.suite)
    suite.data_files = ("points.csv",)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "points.csv").write_text("x,y\n0,1\n", encoding="utf-8")
    base = built_dir / "perceptron"
    student = nbformat.read(base / "student" / "perceptron.ipynb", as_version=4)
    solution = nbformat.read(base / "autograder" / "perceptron.ipynb", as_version=4)
    nb = _cells(make_submission(student, solution), "points = open('Data/Points.csv').read()")
    path = tmp_path / "case.ipynb"
    nbformat.write(nb, path)
    result = grade_notebook(
        path,
        suite,
        submission="case",
        student="",
        data_dir=data_dir,
        workroot=tmp_path,
        limits=LIMITS,
    )
    assert result.status == "error"
    assert "the file that exists is data/points.csv" in result.message
