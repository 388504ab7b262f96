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
from .sandbox import parse_size

logger = logging.getLogger("autograder")


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    p.add_argument(
        "--data-url",
        default=None,
        metavar="URL",
        help="where Colab notebooks fetch tests/ and data/ (URL/<assignment>/...); "
        "default: data_url in course.yml, else the files are packed into the notebook",
    )

    p = commands.add_parser("grade", help="grade a folder or .zip of submissions")
    p.add_argument("submissions", type=Path, metavar="SUBMISSIONS")
    p.add_argument("--assignment", required=True, help="assignment name, e.g. perceptron")
    p.add_argument("--out", type=Path, required=True, help="folder for scores and feedback")
    p.add_argument(
        "--manual-scores",
        type=Path,
        default=None,
        metavar="FILE",
        help="merge hand-graded points: the manual_review.csv of a previous run, filled in",
    )
    p.add_argument(
        "--roster",
        type=Path,
        default=None,
        metavar="CSV",
        help="class list (columns name, sid and/or email): adds a 'missing' row for "
        "each student without a submission",
    )
    p.add_argument(
        "--name-pattern",
        default=None,
        metavar="REGEX",
        help="how file names carry the student, as a regular expression with a "
        "(?P<student>...) group (default: Canvas style name_userid_subid_file)",
    )
    p.add_argument(
        "--regrade",
        action="store_true",
        help="grade everything again, even submissions unchanged since the last run",
    )
    _add_grading_options(p)

    p = commands.add_parser("demo", help="build, then grade the bundled samples")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="keep everything in this folder (default: a temporary one)",
    )
    _add_grading_options(p)

    p = commands.add_parser(
        "verify", help="check the grading tests against the catalogues of code variants"
    )
    p.add_argument(
        "names",
        nargs="*",
        metavar="ASSIGNMENT",
        help="which to verify (default: every assignment with a catalogue)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="keep the variant notebooks and their results here (default: a temporary folder)",
    )
    p.add_argument(
        "--catalogues",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the ASSIGNMENT.yml catalogues (default: reference/variants)",
    )
    p.add_argument(
        "--built",
        type=Path,
        default=None,
        metavar="DIR",
        help="use the notebooks of an earlier 'nngrade build --out DIR' instead of building",
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
        "--memory",
        type=_size,
        default=Limits.memory,
        metavar="SIZE",
        help="memory limit per kernel, e.g. 1G or 512M (default: 2G)",
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
        memory=args.memory,
    )


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = (
        logging.ERROR
        if quiet
        else {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    )
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    # The batch log file may lower a package logger's level; the console keeps its own.
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)
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
    built = build(
        out=args.out,
        names=args.names or None,
        check=not args.no_check,
        data_url=args.data_url,
    )
    for item in built:
        console.print(
            f"[bold]{item.name}[/]: hand out {item.student_zip} "
            f"(or {item.student_notebook.parent}/); solutions in "
            f"{item.solution_notebook}"
        )
        if item.gradescope_zip is not None:
            console.print(f"  Gradescope autograder: {item.gradescope_zip}")
    return 0


def _progress(console: Console, args: argparse.Namespace):
    from .progress import LineProgress, TerminalProgress

    if args.quiet:
        return None
    return TerminalProgress(console) if console.is_terminal else LineProgress(console)


def _cmd_grade(args, console: Console) -> int:
    batch = grade(
        args.submissions,
        assignment=args.assignment,
        out=args.out,
        workers=args.workers,
        limits=_limits(args),
        manual_scores=args.manual_scores,
        roster=args.roster,
        name_pattern=args.name_pattern,
        regrade=args.regrade,
        progress=_progress(console, args),
    )
    console.print(scores_table(f"{args.assignment}: {args.submissions}", batch.results))
    console.print(
        f"scores: {batch.scores_csv}; report: {args.out / 'report.html'}; "
        f"gradebook: {args.out / 'grades.csv'}; feedback: {args.out / 'feedback'}/"
    )
    if batch.manual_review is not None:
        merged = "merged into scores.csv" if args.manual_scores else "not in the totals yet"
        console.print(
            f"answers to grade by hand: {batch.manual_review} (fill in 'points', then "
            f"rerun with --manual-scores; hand-graded points are {merged})"
        )
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


def _cmd_verify(args, console: Console) -> int:
    from .verify import verify

    report = verify(
        names=args.names or None,
        workers=args.workers,
        out=args.out,
        catalogue_dir=args.catalogues,
        built_dir=args.built,
        limits=_limits(args),
    )
    for name in dict.fromkeys(o.assignment for o in report.outcomes):
        table = Table(title=f"{name}: variants", title_justify="left")
        for column in ("variant", "kind", "question(s)", "expected", "got", ""):
            table.add_column(column)
        for o in (o for o in report.outcomes if o.assignment == name):
            style = "green" if o.passed else "bold red"
            table.add_row(
                o.variant.name,
                o.variant.kind,
                ", ".join(o.variant.questions),
                o.variant.expected,
                o.got,
                f"[{style}]{o.verdict}[/]",
            )
        console.print(table)

    table = Table(title="mutants killed per question", title_justify="left")
    for column in ("assignment", "question", "mutants", "killed", ""):
        table.add_column(column, justify="right" if column in ("mutants", "killed") else "left")
    for q in report.questions:
        note = (
            "[yellow]no mutant aims here[/]"
            if q.mutants == 0
            else ("[bold red]weak: mutants survive[/]" if q.killed < q.mutants else "")
        )
        table.add_row(q.assignment, q.question, str(q.mutants), str(q.killed), note)
    console.print(table)
    for name, reason in report.skipped.items():
        console.print(f"[yellow]skipped {name}[/]: {reason}", highlight=False)
    if report.out is not None:
        console.print(f"variant notebooks and their results are in {report.out}")
    console.print(report.summary, highlight=False, markup=False, soft_wrap=True)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    # Off a terminal (CI logs, pipes) rich would wrap tables at 80 columns.
    console = Console() if sys.stdout.isatty() else Console(width=160)
    command = {
        "build": _cmd_build,
        "grade": _cmd_grade,
        "demo": _cmd_demo,
        "verify": _cmd_verify,
    }[args.command]
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
