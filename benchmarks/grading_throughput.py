"""How fast nngrade grades a class, against Otter and against doing nothing.

    python benchmarks/grading_throughput.py -n 100 [--assignment perceptron]
    python benchmarks/grading_throughput.py -n 20 --sizes 20,100,500

Makes N submissions of one assignment (a mix of its bundled notebook samples,
correct and faulty), then, in the same run, grades them

- with ``nngrade grade`` on all cores, and with one worker;
- with ``otter run``, one submission after another, using an Otter autograder
  zip built from the same master (how Otter grades without Docker);
- by only executing each notebook's cells in a bare kernel (nbclient), with no
  grading at all: the floor that any grader pays.

and prints submissions per minute for each, our overhead per submission over
the floor, the peak memory of the grading process tree, and last a line
``speedup vs otter run: X.XX`` (our all-core throughput over Otter's).
With ``--sizes`` it also prints how our time per submission changes with N
(Otter and the floor are measured at the first size only).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from autograder import assignments  # noqa: E402
from autograder.build import build  # noqa: E402


def tree_rss_bytes(pid: int) -> int:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ppid = int(fields.get("PPid", "0").strip() or 0)
        children.setdefault(ppid, []).append(int(entry.name))
        rss[int(entry.name)] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def timed(cmd: list[str], **kwargs) -> tuple[float, int]:
    """Run a command; return its wall time and the peak RSS of its process tree."""
    started = time.monotonic()
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    peak = 0
    while process.poll() is None:
        peak = max(peak, tree_rss_bytes(process.pid))
        time.sleep(0.2)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{process.stderr.read().decode()[-2000:]}")
    return time.monotonic() - started, peak


def make_submissions(name: str, n: int, folder: Path) -> list[Path]:
    samples = sorted(
        p
        for p in assignments.get(name).samples_dir.glob("*.ipynb")
        if p.stat().st_size and p.read_bytes().lstrip().startswith(b"{")
    )
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    for i in range(n):
        target = folder / f"student{i:04d}.ipynb"
        shutil.copyfile(samples[i % len(samples)], target)
        made.append(target)
    return made


def otter_autograder(name: str, work: Path) -> Path:
    """An Otter autograder zip from the same master, with Otter's own generate step."""
    master = nbformat.read(assignments.get(name).master, as_version=4)
    config = master.cells[0]
    config.source = config.source.replace(
        "generate: false", "generate:\n  pdf: false\n  show_stdout: false"
    )
    copy = work / "otter-master" / f"{name}.ipynb"
    copy.parent.mkdir(parents=True)
    nbformat.write(master, copy)
    spec = assignments.get(name)
    for data in spec.suite.data_files:
        (copy.parent / "data").mkdir(exist_ok=True)
        shutil.copyfile(spec.data_dir / data, copy.parent / "data" / data)
    out = work / "otter-build"
    subprocess.run(
        [sys.executable, "-m", "otter", "assign", "--no-run-tests", str(copy), str(out)],
        check=True,
        capture_output=True,
        cwd=copy.parent,
    )
    return next((out / "autograder").glob("*-autograder_*.zip"))


def run_otter(zip_path: Path, notebooks: list[Path], work: Path) -> float:
    started = time.monotonic()
    for i, notebook in enumerate(notebooks):
        out = work / "otter-results" / str(i)
        out.mkdir(parents=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "otter",
                "run",
                "-a",
                str(zip_path),
                "-o",
                str(out),
                str(notebook),
            ],
            check=True,
            capture_output=True,
        )
    return time.monotonic() - started


def run_floor(notebooks: list[Path], data_dir: Path, data_files: tuple[str, ...]) -> float:
    """Only execute each notebook's cells, in a fresh bare kernel each."""
    started = time.monotonic()
    for notebook in notebooks:
        with tempfile.TemporaryDirectory() as tmp:
            for name in data_files:
                (Path(tmp) / "data").mkdir(exist_ok=True)
                shutil.copyfile(data_dir / name, Path(tmp) / "data" / name)
            nb = nbformat.read(notebook, as_version=4)
            for cell in nb.cells:
                if cell.cell_type == "code" and (
                    "otter" in cell.source or "grader." in cell.source
                ):
                    cell.source = ""
            client = NotebookClient(
                nb,
                timeout=120,
                allow_errors=True,
                kernel_name="python3",
                resources={"metadata": {"path": tmp}},
            )
            client.execute()
    return time.monotonic() - started


def run_ours(name: str, folder: Path, out: Path, workers: int) -> tuple[float, int]:
    cmd = [sys.executable, "-m", "autograder.cli", "-q", "grade", str(folder)]
    cmd += ["--assignment", name, "--out", str(out), "--workers", str(workers)]
    return timed(cmd, cwd=REPO)


def per_minute(n: int, seconds: float) -> float:
    return 60.0 * n / seconds if seconds > 0 else float("inf")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=50, help="submissions (default 50)")
    parser.add_argument("--assignment", default="perceptron")
    parser.add_argument(
        "--sizes", default="", help="comma-separated N values for the scaling table"
    )
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()] or [args.n]
    name = args.assignment
    spec = assignments.get(name)
    print(f"machine: {os.cpu_count()} cores; assignment {name}; sizes {sizes}", flush=True)

    with tempfile.TemporaryDirectory(prefix="nngrade-bench-") as tmp:
        work = Path(tmp)
        build(out=work / "dist", names=[name], check=False)
        first = sizes[0]
        notebooks = make_submissions(name, first, work / f"in-{first}")

        all_cores, peak = run_ours(name, work / f"in-{first}", work / "ours-all", args.workers)
        one, _ = run_ours(name, work / f"in-{first}", work / "ours-one", 1)
        zip_path = otter_autograder(name, work)
        otter = run_otter(zip_path, notebooks, work)
        floor = run_floor(notebooks, spec.data_dir, spec.suite.data_files)

        print(f"\nN = {first} submissions")
        rows = [
            (f"nngrade grade, {args.workers} workers", all_cores),
            ("nngrade grade, 1 worker", one),
            ("otter run, one after another", otter),
            ("floor: cells in a bare kernel, 1 at a time", floor),
        ]
        for label, seconds in rows:
            print(
                f"  {label:45s} {seconds:8.1f} s  {per_minute(first, seconds):8.1f} /min  "
                f"{seconds / first:6.2f} s each"
            )
        print(
            f"  overhead per submission over the floor (1 worker): {(one - floor) / first:+.2f} s"
        )
        print(f"  peak memory, {args.workers} workers: {peak / 1024**3:.2f} GiB")

        if len(sizes) > 1:
            print("\ntime per submission by N (all workers)")
            for n in sizes:
                folder = work / f"in-{n}"
                if not folder.exists():
                    make_submissions(name, n, folder)
                seconds, peak_n = run_ours(name, folder, work / f"ours-{n}", args.workers)
                print(
                    f"  N = {n:5d}: {seconds / n:6.3f} s each, {per_minute(n, seconds):7.1f} /min,"
                    f" peak {peak_n / 1024**3:.2f} GiB"
                )

        print(
            f"speedup vs otter run: {per_minute(first, all_cores) / per_minute(first, otter):.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
