"""Watching a batch: a progress bar on a terminal, a line per submission elsewhere."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from .batch import Progress
from .grader import SubmissionResult

_PROBLEMS = ("ok", "error", "missing")


class TerminalProgress(Progress):
    """done/total, failures so far and an ETA, redrawn in place."""

    def __init__(self, console: Console):
        self.console = console
        self.failed = 0
        self.bar = RichProgress(
            TextColumn("grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task = None

    def start(self, total: int, reused: int) -> None:
        self.bar.start()
        self.task = self.bar.add_task("grading", total=total, failed=0)
        if reused:
            self.console.print(f"{reused} of {total} kept from an earlier run")

    def advance(self, result: SubmissionResult) -> None:
        if result.status not in _PROBLEMS:
            self.failed += 1
        self.bar.update(self.task, advance=1, failed=self.failed)

    def finish(self) -> None:
        self.bar.stop()


class LineProgress(Progress):
    """One plain line per finished submission, for logs and pipes."""

    def __init__(self, console: Console):
        self.console = console
        self.total = 0
        self.done = 0
        self.started = time.monotonic()

    def start(self, total: int, reused: int) -> None:
        self.total = total
        note = f" ({reused} kept from an earlier run)" if reused else ""
        self.console.print(f"grading {total} submissions{note}", highlight=False)

    def advance(self, result: SubmissionResult) -> None:
        self.done += 1
        self.console.print(
            f"[{self.done}/{self.total}] {result.submission}: "
            f"{result.total:g}/{result.total_possible:g} {result.status}",
            highlight=False,
            markup=False,
        )
