"""The ``nngrade`` command: a thin layer over :mod:`autograder`'s API."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from . import __version__, assignments
from .batch import default_workers, grade
from .build import build
from .errors import NngradeError
from .grader import Limits, SubmissionResult

logger = logging.getLogger("autograder")


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {text}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nngrade",
        description="Build and grade the neural-network-basics assignments.",
    )
    parser.add_argument("--version", action="version", version=f"nngrade {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="more log output (-vv for debug)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="errors only")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = commands.add_parser("build", help="make student and solution notebooks")
    p.add_argument(
        "names",
        nargs="*",
        metavar="ASSIGNMENT",
        help=f"which to build (default: all of {', '.join(assignments.ORDER)})",
    )
    p.add_argument("--out", type=Path, default=Path("dist"), help="output folder (default: dist)")
    p.add_argument(
        "--no-check",
        action="store_true",
        help="skip grading each master's own solution",
    )

    p = commands.add_parser("grade", help="grade a folder or .zip of submissions")
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    p.add_argument("--assignment", required=True, help="assignment name, e.g. perceptron")
    p.add_argument("--out", type=Path, required=True, help="folder for scores and feedback")
    _add_grading_options(p)

    p = commands.add_parser("demo", help="build, then grade the bundled samples")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="keep everything in this folder (default: a temporary one)",
    )
    _add_grading_options(p)
    return parser


def _add_grading_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help=f"submissions graded at once (default: {default_workers()})",
    )
    p.add_argument(
        "--cell-timeout",
        type=_positive,
        default=Limits.cell_timeout,
        metavar="SECONDS",
        help="time limit per cell (default: %(default)s)",
    )
    p.add_argument(
        "--timeout",
        type=_positive,
        default=Limits.timeout,
        metavar="SECONDS",
        help="time limit per notebook (default: %(default)s)",
    )


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(
        cell_timeout=args.cell_timeout,
        call_timeout=args.cell_timeout,
        timeout=args.timeout,
    )


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = (
        logging.ERROR
        if quiet
        else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("traitlets", "asyncio"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def scores_table(title: str, rows: list[SubmissionResult]) -> Table:
    """A rich table: one row per submission, points per question and total."""
    questions = list(rows[0].possible) if rows else []
    table = Table(title=title, title_justify="left")
    table.add_column("submission")
    for q in questions:
        table.add_column(q, justify="right")
    table.add_column("total", justify="right")
    table.add_column("status")
    table.add_column("message", overflow="ellipsis", no_wrap=True, max_width=48)
    for r in sorted(rows, key=lambda r: r.submission):
        table.add_row(
            r.submission,
            *(f"{r.questions.get(q, 0):g}/{r.possible[q]:g}" for q in questions),
            f"{r.total:g}/{r.total_possible:g}",
            r.status,
            r.message,
        )
    return table


def _cmd_build(args, console: Console) -> int:
    built = build(out=args.out, names=args.names or None, check=not args.no_check)
    for item in built:
        console.print(
            f"[bold]{item.name}[/]: hand out {item.student_zip} "
            f"(or {item.student_notebook.parent}/); solutions in "
            f"{item.solution_notebook}"
        )
    return 0


def _cmd_grade(args, console: Console) -> int:
    batch = grade(
        args.submissions,
        assignment=args.assignment,
        out=args.out,
        workers=args.workers,
        limits=_limits(args),
    )
    console.print(scores_table(f"{args.assignment}: {args.submissions}", batch.results))
    console.print(f"scores: {batch.scores_csv}; feedback: {args.out / 'feedback'}")
    if not batch.isolation.sandboxed:
        console.print(f"[yellow]graded without a sandbox: {batch.isolation.reason}[/]")
    return 0


def _cmd_demo(args, console: Console) -> int:
    from .demo import run_demo

    with tempfile.TemporaryDirectory(prefix="nngrade-demo-") as tmp:
        out = args.out or Path(tmp)
        outcome = run_demo(out=out, workers=args.workers, limits=_limits(args))
        for name, batch in outcome.items():
            console.print(scores_table(f"{name}: bundled samples", batch.results))
        if args.out:
            console.print(f"built notebooks and scores are in {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    console = Console()
    command = {"build": _cmd_build, "grade": _cmd_grade, "demo": _cmd_demo}[args.command]
    try:
        return command(args, console)
    except NngradeError as exc:
        console.print(f"[red]error:[/] {exc}", highlight=False)
        return 2
    except KeyboardInterrupt:
        console.print("[red]stopped[/]; finished submissions are saved in the output folder")
        return 130


if __name__ == "__main__":
    sys.exit(main())
