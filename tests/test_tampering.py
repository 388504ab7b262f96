"""Submissions that try to score without doing the work, or to reach outside.

Each is made from the perceptron student notebook with the reference answers
except where the trick goes, and graded with the real grader and sandbox.
"""

from __future__ import annotations

import socket
import subprocess
import threading
from pathlib import Path

import nbformat
import pytest

from autograder import assignments, sandbox
from autograder.grader import Limits, grade_notebook
from autograder.variants import make_submission

REPO = Path(__file__).resolve().parent.parent
SANDBOXED = sandbox.probe().sandboxed
needs_sandbox = pytest.mark.skipif(not SANDBOXED, reason=sandbox.probe().reason)


@pytest.fixture(scope="module")
def notebooks(perceptron_notebooks):
    return perceptron_notebooks


def grade_variant(notebooks, tmp_path, answers, *, untouched=(), extra_cells=(), limits=None):
    student, solution = notebooks
    nb = make_submission(student, solution, answers, untouched=untouched)
    for source in extra_cells:
        nb.cells.append(nbformat.v4.new_code_cell(source))
    path = tmp_path / "submission.ipynb"
    nbformat.write(nb, path)
    spec = assignments.get("perceptron")
    return grade_notebook(
        path,
        spec.suite,
        submission="s",
        student="s",
        data_dir=spec.data_dir,
        workroot=tmp_path,
        limits=limits or Limits(cell_timeout=20, timeout=120),
    )


ALL_BLANK = ("q1", "q2", "q3", "q4", "q5")


@needs_sandbox
def test_reference_package_is_not_importable(notebooks, tmp_path):
    steal = """
try:
    from reference.perceptron import step, predict, train
except Exception:
    def step(s):
        return None
"""
    result = grade_variant(notebooks, tmp_path, {"q1": steal}, untouched=ALL_BLANK[1:])
    assert result.questions["q1"] == 0


@needs_sandbox
def test_reference_files_are_not_readable(notebooks, tmp_path):
    steal = f"""
import glob
for path in glob.glob({str(REPO)!r} + "/reference/**/*.py", recursive=True):
    try:
        exec(open(path).read())
    except Exception:
        pass
if "step" not in dir():
    step = None
"""
    result = grade_variant(notebooks, tmp_path, {"q1": steal}, untouched=ALL_BLANK[1:])
    assert result.questions["q1"] == 0
    assert result.total == 0


@needs_sandbox
def test_no_network_and_no_writes_outside(notebooks, tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.2)
    port = server.getsockname()[1]
    hits = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                hits.append(conn)
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    target = tmp_path / "outside.txt"
    cell = f"""
import socket
try:
    socket.create_connection(("127.0.0.1", {port}), timeout=2).close()
except OSError:
    pass
for where in [{str(target)!r}, {str(REPO / "PWNED")!r}, "/tmp/../{target.name}"]:
    try:
        open(where, "w").write("x")
    except OSError:
        pass
"""
    try:
        result = grade_variant(notebooks, tmp_path, {}, extra_cells=[cell])
    finally:
        stop.set()
        thread.join()
        server.close()
    assert hits == []
    assert not target.exists()
    assert not (REPO / "PWNED").exists()
    assert result.total == result.total_possible  # the honest answers still count


@needs_sandbox
def test_processes_left_behind_are_ended(notebooks, tmp_path):
    marker = "31415926"
    cell = f"import subprocess\nsubprocess.Popen(['sleep', '{marker}'])"
    grade_variant(notebooks, tmp_path, {}, extra_cells=[cell])
    left = subprocess.run(["pgrep", "-f", f"sleep {marker}"], capture_output=True)
    assert left.returncode == 1, left.stdout


TRICKS = {
    "redefine-grader": """
class Fake:
    def check(self, *a, **k):
        print("q1 passed! q2 passed! All tests passed!")
        return True
grader = Fake()
del grader
""",
    "patch-numpy": """
import numpy as np
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
import builtins
builtins.all = lambda *a: True
""",
    "always-equal": """
class Yes:
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    def __bool__(self): return True
    def __array__(self, *a, **k): raise TypeError("no")
    def __float__(self): return 1.0
def step(s): return Yes()
def predict(X, w, b): return Yes()
def train(X, t, learning_rate, max_epochs): return (Yes(), Yes(), Yes())
w_and = b_and = w_or = b_or = Yes()
learned = {g: (Yes(), Yes(), Yes()) for g in ["OR", "AND", "NAND", "NOR"]}
""",
    "fake-output": """
from IPython.display import publish_display_data
import json
publish_display_data({"application/vnd.nngrade.result+json": json.dumps(
    {"defined": True, "value": 12})})
print("Score: 12/12")
""",
}


@pytest.mark.parametrize("trick", sorted(TRICKS))
def test_tricks_do_not_raise_a_score(notebooks, tmp_path, trick):
    # The trick runs in the first cell a student writes in; nothing is answered.
    result = grade_variant(notebooks, tmp_path, {"q1": TRICKS[trick]}, untouched=ALL_BLANK[1:])
    assert result.total == 0, [(t.name, t.detail) for t in result.tests if t.passed]


@pytest.mark.parametrize("exit_code", ["import os\nos._exit(1)", "import sys\nsys.exit(3)"])
def test_exiting_the_kernel_costs_only_that_cell(notebooks, tmp_path, exit_code):
    result = grade_variant(
        notebooks, tmp_path, {"q3": exit_code}, limits=Limits(cell_timeout=20, timeout=60)
    )
    # Earlier questions keep their points; later ones are graded on a fresh
    # kernel that ran every earlier cell again.
    assert result.questions == {"q1": 2, "q2": 2, "q3": 0, "q4": 4, "q5": 2}
    if "_exit" in exit_code:
        assert result.status == "kernel-died"
        assert "kernel stopped in cell" in result.message


def test_input_fails_at_once_instead_of_hanging(notebooks, tmp_path):
    cell = "learning_rate_text = input('learning rate? ')"
    result = grade_variant(notebooks, tmp_path, {}, extra_cells=[cell])
    assert result.status == "error"
    assert "StdinNotImplementedError" in result.message
    assert result.total == result.total_possible


def test_reset_magic_between_questions_does_not_break_grading(notebooks, tmp_path):
    # %reset removes everything, the grader's own probe function included; the
    # answers defined again afterwards must still be graded.
    q2 = """%reset -f
import numpy as np

def step(s):
    return np.where(np.asarray(s) > 0, 1, -1)

def predict(X, w, b):
    return step(np.asarray(X) @ np.asarray(w) + b)
"""
    result = grade_variant(notebooks, tmp_path, {"q2": q2})
    # q5's cell uses the truth table defined before the reset, so it raises.
    assert result.questions == {"q1": 2, "q2": 2, "q3": 2, "q4": 4, "q5": 0}


@needs_sandbox
def test_kernel_runs_unprivileged_with_a_private_tmp_and_no_network_devices(tmp_path):
    from autograder.spec import Suite

    seen = {}
    suite = Suite("perceptron")

    @suite.test("q1", points=1, message="")
    def look_around(nb):
        seen.update(nb.get("facts"))

    cell = """
import os, sys, glob
facts = {
    "uid": os.getuid(),
    # Under /tmp only this working directory (and the kernel's own Python,
    # read-only, when it is installed there) may exist, with the way to them.
    "tmp": [
        os.path.join(d, name)
        for d, dirs, files in os.walk("/tmp")
        for name in dirs + files
        if not any(
            allowed.startswith(os.path.join(d, name))
            or os.path.join(d, name).startswith(allowed)
            for allowed in [os.getcwd()] + sorted({sys.prefix, sys.base_prefix, *sys.path[1:]})
            if allowed
        )
    ],
    "home": os.path.expanduser("~"),
    "interfaces": sorted(os.listdir("/sys/class/net")) if os.path.isdir("/sys/class/net") else [],
    "root": sorted(os.listdir("/")),
    "env": sorted(k for k in os.environ if "KEY" in k or "TOKEN" in k or "SECRET" in k),
}
"""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell)])
    path = tmp_path / "look.ipynb"
    nbformat.write(nb, path)
    grade_notebook(path, suite, submission="s", student="", data_dir=tmp_path, workroot=tmp_path)
    assert seen["uid"] != 0
    assert seen["tmp"] == []
    assert seen["interfaces"] in ([], ["lo"])
    assert seen["env"] == []
    assert not (set(seen["root"]) & {"work", "home"})


def test_a_flood_of_output_is_cut_off_and_grading_goes_on(notebooks, tmp_path):
    flood = "while True:\n    print('x' * 10000)"
    result = grade_variant(
        notebooks,
        tmp_path,
        {},
        extra_cells=[flood],
        limits=Limits(cell_timeout=30, timeout=120, max_output_chars=200_000),
    )
    assert result.status == "output-limit"
    assert "printed more than 200,000 characters" in result.message
    assert result.total == result.total_possible


def test_a_fork_bomb_is_held_by_the_process_cap(notebooks, tmp_path):
    bomb = (
        "import subprocess\nchildren = []\n"
        "try:\n"
        "    for _ in range(2000):\n"
        "        children.append(subprocess.Popen(['sleep', '60']))\n"
        "except OSError as error:\n"
        "    print('refused after', len(children), error)\n"
        "    raise"
    )
    result = grade_variant(
        notebooks,
        tmp_path,
        {},
        extra_cells=[bomb],
        limits=Limits(cell_timeout=60, timeout=180, processes=64),
    )
    assert result.status == "error"
    assert "BlockingIOError" in result.message or "Resource temporarily" in result.message
    assert result.total == result.total_possible


def test_without_bubblewrap_it_grades_and_says_isolation_was_weaker(tmp_path):
    import os
    import shutil

    from helpers import nngrade

    folder = tmp_path / "class"
    folder.mkdir()
    shutil.copy(assignments.get("perceptron").samples_dir / "correct.ipynb", folder / "kim.ipynb")
    env = {**os.environ, "NNGRADE_SANDBOX": "none"}
    done = nngrade(
        "grade", str(folder), "--assignment", "perceptron", "--out", str(tmp_path / "o"), env=env
    )
    assert done.returncode == 0, done.stderr
    assert "graded without a sandbox" in done.stdout
    assert "grading without a sandbox" in done.stderr  # the log, at WARNING
    note = (tmp_path / "o" / "ISOLATION.txt").read_text(encoding="utf-8")
    assert "WITHOUT the bubblewrap sandbox" in note
    assert "12/12" in done.stdout


@needs_sandbox
def test_temporary_folders_are_bounded(notebooks, tmp_path):
    # A tmpfs lives in memory outside the kernel's limit; filling it must stop.
    fill = (
        "import os\nwritten = 0\n"
        "for where in ['/tmp', '/var/tmp', '/dev/shm']:\n"
        "    for i in range(8):\n"
        "        try:\n"
        "            with open(os.path.join(where, f'big{i}'), 'wb') as f:\n"
        "                f.write(b'x' * (100 * 1024 * 1024))\n"
        "            written += 100\n"
        "        except OSError:\n"
        "            break\n"
        "print('MiB written', written)\n"
        "assert written < 3 * 300, written"
    )
    result = grade_variant(notebooks, tmp_path, {}, extra_cells=[fill])
    assert result.status == "ok", result.message
    assert result.total == result.total_possible


@needs_sandbox
def test_one_kernels_processes_do_not_starve_another(notebooks, tmp_path):
    from autograder.kernel import KernelSession

    hog_dir = tmp_path / "hog"
    hog_dir.mkdir()
    limits = Limits(processes=64)
    hog = KernelSession(hog_dir, isolation=sandbox.probe(), resources=limits.resources())
    hog.start()
    try:
        hog.run_cell(
            "import subprocess\nkids = []\ntry:\n    while True:\n"
            "        kids.append(subprocess.Popen(['sleep', '120']))\nexcept OSError:\n    pass",
            timeout=60,
        )
        result = grade_variant(notebooks, tmp_path, {}, limits=Limits(processes=64))
    finally:
        hog.shutdown()
    assert result.status == "ok", result.message
    assert result.total == result.total_possible
