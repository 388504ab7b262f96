"""Grade one submission: run it in a fresh sandboxed kernel, and score each
question from the plain data its functions return.

The notebook runs top to bottom. When execution reaches a question's
``grader.check`` cell, that question's tests run against the kernel as it is
at that moment; questions whose check cell was deleted are graded after the
last cell. Scores are computed here, in the grading process.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from . import manual, protocol, sandbox
from .errors import KernelError, SubmissionError
from .kernel import KernelSession
from .notebook import GRADER_STUB, first_line, plan, read_submission
from .spec import Failure, Question, Suite, Test

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """Limits for one submission: times in seconds, sizes in bytes or characters."""

    cell_timeout: float = 60.0
    call_timeout: float = 60.0
    timeout: float = 900.0
    startup_timeout: float = 60.0
    memory: int = 2 * 1024**3
    max_output_chars: int = 10_000_000
    processes: int = 256

    def resources(self) -> sandbox.ResourceLimits:
        return sandbox.ResourceLimits(memory_bytes=self.memory, processes=self.processes)


#: Submission statuses from best to worst; a submission keeps its worst.
_SEVERITY = ("ok", "error", "output-limit", "memory", "timeout", "kernel-died")
_FATAL = ("dead", "timeout", "output")


def _size(resources: sandbox.ResourceLimits) -> str:
    return sandbox.format_size(resources.memory_bytes) if resources.memory_bytes else "none"


def _notebook_language(nb) -> str:
    meta = nb.get("metadata", {})
    language = meta.get("kernelspec", {}).get("language") or meta.get("language_info", {}).get(
        "name"
    )
    return str(language).lower() if language else ""


def _missing_file_hint(outcome, workdir: Path) -> str:
    """For a FileNotFoundError, name the file that exists under another case."""
    if outcome.error_name != "FileNotFoundError":
        return ""
    match = re.search(r"'([^']+)'", outcome.error_value)
    if not match:
        return ""
    wanted = match[1].replace("\\", "/").lstrip("./").lower()
    for path in workdir.rglob("*"):
        rel = path.relative_to(workdir).as_posix()
        if path.is_file() and rel.lower() == wanted and rel != match[1]:
            return f" (the file that exists is {rel}: file names are case-sensitive)"
    return ""


@dataclass
class TestResult:
    name: str
    question: str
    points: float
    max_points: float
    hidden: bool
    passed: bool
    message: str = ""
    detail: str = ""


@dataclass
class SubmissionResult:
    """Everything known about one graded submission."""

    submission: str
    student: str
    path: str
    status: str
    message: str
    tests: list[TestResult] = field(default_factory=list)
    questions: dict[str, float] = field(default_factory=dict)
    possible: dict[str, float] = field(default_factory=dict)
    isolation: str = ""
    seconds: float = 0.0
    #: Answer text of each manually graded question, as the student wrote it.
    manual_answers: dict[str, str] = field(default_factory=dict)
    #: The submitters, as ``{"name", "sid", "email"}`` records.
    students: list[dict] = field(default_factory=list)
    #: What was graded and how, so that a later run can tell what changed.
    content_hash: str = ""
    config_hash: str = ""

    @property
    def total(self) -> float:
        return round(sum(self.questions.values()), 6)

    @property
    def total_possible(self) -> float:
        return round(sum(self.possible.values()), 6)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["total"] = self.total
        data["total_possible"] = self.total_possible
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SubmissionResult:
        fields = {k: v for k, v in data.items() if k not in ("total", "total_possible")}
        fields["tests"] = [TestResult(**t) for t in fields.get("tests", [])]
        return cls(**fields)


class KernelSource(Protocol):
    """Hands out started kernels, each for one submission (see :mod:`.pool`)."""

    def take(self) -> KernelSession:
        """A started kernel in a fresh working directory; raises KernelError."""


class _OutOfTime(Exception):
    """The submission's whole time limit ran out while it was being graded."""


class _KernelGone(Exception):
    """The kernel stopped while a test was asking it something."""


class _Remote:
    """The :class:`~autograder.spec.Remote` that tests use, over a kernel."""

    def __init__(self, session: KernelSession, timeout: float, deadline: float):
        self._session = session
        self._timeout = timeout
        #: time.monotonic() by which the whole submission must be done.
        self.deadline = deadline
        self.last_warnings: list[str] = []

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return self._ask("call", name, args, kwargs)

    def get(self, name: str) -> Any:
        return self._ask("get", name, (), {})

    def _ask(self, kind: str, name: str, args: tuple, kwargs: dict) -> Any:
        self.last_warnings = []
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _OutOfTime()
        timeout = min(self._timeout, max(left, 1.0))
        request = protocol.request_text(kind, name, args, kwargs)
        if self._session.probe_ready:
            outcome, text = self._session.probe(protocol.call_source(request), timeout=timeout)
            if text is None and outcome.error_name == "NameError":
                self._session.probe_ready = False  # removed by the student's code
        if not self._session.probe_ready:
            outcome, text = self._session.probe(
                protocol.helper_source() + "\n" + protocol.call_source(request),
                timeout=timeout,
            )
            self._session.probe_ready = text is not None
        if outcome.status == "timeout":
            raise Failure(f"{name}: {timeout:g} 초 안에 끝나지 않았습니다 (무한 반복?)")
        if outcome.status == "dead":
            raise _KernelGone(f"the kernel stopped while calling {name}")
        if text is None:
            raise Failure(f"{name}: 결과를 돌려받지 못했습니다")
        try:
            payload = protocol.parse_payload(text)
        except ValueError as exc:
            raise Failure(f"{name}: {exc}") from None
        if not payload["defined"]:
            raise Failure(
                f"`{name}` 이(가) 정의되어 있지 않습니다. 이름을 바꾸지 않았는지, "
                "해당 셀이 오류 없이 실행되는지 확인하세요"
            )
        warnings = payload.get("warnings", [])
        self.last_warnings = [str(w) for w in warnings] if isinstance(warnings, list) else []
        if "error" in payload:
            raise Failure(
                f"{name} 실행 중 오류: {payload.get('error')}: {payload.get('message', '')}"
            )
        return protocol.decode_result(payload.get("value"))


def _run_test(test: Test, remote: _Remote) -> TestResult:
    result = TestResult(
        test.name, test.question, 0.0, test.points, test.hidden, False, test.message
    )
    try:
        test.check(remote)
    except (Failure, AssertionError) as failure:
        result.detail = str(failure)
    except (_KernelGone, _OutOfTime):
        raise
    except Exception as exc:
        # Student data of a shape no helper expected: a wrong answer, but also
        # worth a look, since it may be a gap in the test.
        logger.warning("test %s could not check a value: %r", test.name, exc)
        result.detail = f"반환값을 확인할 수 없습니다 ({type(exc).__name__})"
    else:
        result.passed = True
        result.points = test.points
    return result


def _failed(test: Test, detail: str) -> TestResult:
    return TestResult(
        test.name,
        test.question,
        0.0,
        test.points,
        test.hidden,
        False,
        test.message,
        detail,
    )


def blank_result(
    suite: Suite,
    *,
    submission: str,
    student: str,
    path: Path,
    status: str,
    message: str,
) -> SubmissionResult:
    """A result with every question at 0, for submissions that could not run."""
    result = SubmissionResult(submission, student, str(path), status, message)
    for question in suite.autograded:
        result.possible[question.name] = question.points
        result.questions[question.name] = 0.0
        for test in question.tests:
            result.tests.append(_failed(test, message))
    return result


def prepare_workdir(workroot: Path, suite: Suite, data_dir: Path) -> Path:
    """A new working directory holding only the assignment's data files."""
    workdir = Path(tempfile.mkdtemp(prefix="sub-", dir=workroot))
    for name in suite.data_files:
        source = data_dir / name
        target = workdir / "data" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    return workdir


def grade_notebook(
    path: Path,
    suite: Suite,
    *,
    submission: str,
    student: str,
    data_dir: Path,
    workroot: Path,
    limits: Limits = Limits(),
    isolation: sandbox.Isolation | None = None,
    content: bytes | None = None,
    kernels: KernelSource | None = None,
) -> SubmissionResult:
    """Grade one notebook file against ``suite``; never raises for bad input.

    ``content`` overrides the bytes read from ``path`` (for notebooks taken
    out of a zip).
    """
    started = time.monotonic()
    isolation = isolation or sandbox.probe()
    try:
        nb = read_submission(path, content)
    except SubmissionError as exc:
        result = blank_result(
            suite,
            submission=submission,
            student=student,
            path=path,
            status=exc.status,
            message=str(exc),
        )
        result.isolation = isolation.kind
        return result

    result = SubmissionResult(submission, student, str(path), "ok", "")
    result.isolation = isolation.kind
    result.manual_answers = manual.collect_answers(nb, manual.manual_names(suite))
    for question in suite.autograded:
        result.possible[question.name] = question.points
        result.questions[question.name] = 0.0

    problems: list[str] = []
    graded: set[str] = set()
    known = {q.name: q for q in suite.autograded}
    resources = limits.resources()
    try:
        if kernels is not None:
            session = kernels.take()
        else:
            session = KernelSession(
                prepare_workdir(workroot, suite, data_dir),
                isolation=isolation,
                startup_timeout=limits.startup_timeout,
                resources=resources,
                max_output_chars=limits.max_output_chars,
            )
            try:
                session.start()
            except KernelError:
                shutil.rmtree(session.workdir, ignore_errors=True)
                raise
    except KernelError as exc:
        logger.error("%s: %s", submission, exc)
        failed = blank_result(
            suite,
            submission=submission,
            student=student,
            path=path,
            status="grader-error",
            message=str(exc),
        )
        failed.isolation = isolation.kind
        return failed
    workdir = session.workdir
    remote = _Remote(session, limits.call_timeout, started + limits.timeout)
    stopped = ""

    language = _notebook_language(nb)
    if language and language != "python":
        problems.append(f"the notebook's kernel is {language}; it was run as Python")

    steps = plan(nb)
    ran: list[str] = []
    restarts_left = [1]

    def raise_status(status: str) -> None:
        if _SEVERITY.index(status) > _SEVERITY.index(result.status):
            result.status = status

    def restart() -> bool:
        """A fresh kernel with every cell that ran so far run again, so that the
        rest of the notebook can still earn its points. Done at most once."""
        if restarts_left[0] == 0 or time.monotonic() - started > limits.timeout:
            return False
        restarts_left[0] -= 1
        session.shutdown()
        try:
            session.start()
        except KernelError:
            return False
        for source in [GRADER_STUB, *ran]:
            if session.run_cell(source, timeout=limits.cell_timeout).status in _FATAL:
                return False
        logger.info("%s: continuing on a fresh kernel", submission)
        return True

    def grade(question: Question) -> None:
        nonlocal stopped
        graded.add(question.name)
        for test in question.tests:
            if stopped:
                result.tests.append(_failed(test, stopped))
                continue
            try:
                test_result = _run_test(test, remote)
            except _OutOfTime:
                stopped = f"제출물 전체 시간 제한 {limits.timeout:g} 초를 넘었습니다"
                problems.append(
                    f"the notebook ran over {limits.timeout:g} s while {question.name} was graded"
                )
                raise_status("timeout")
                test_result = _failed(test, stopped)
            except _KernelGone:
                problems.append(f"the kernel stopped while grading {question.name}")
                raise_status("kernel-died")
                test_result = _failed(test, "커널이 중지되었습니다 (kernel stopped)")
                if not restart():
                    stopped = "커널이 중지되어 채점할 수 없었습니다 (kernel stopped)"
            result.tests.append(test_result)
            result.questions[question.name] += test_result.points

    try:
        for step in steps:
            if stopped:
                break
            if time.monotonic() - started > limits.timeout:
                stopped = f"제출물 전체 시간 제한 {limits.timeout:g} 초를 넘었습니다"
                problems.append(
                    f"the notebook ran over {limits.timeout:g} s; stopped before cell {step.cell}"
                )
                raise_status("timeout")
                break
            if step.kind == "check" and step.question in known:
                if step.question not in graded:
                    grade(known[step.question])
                continue
            if step.kind != "run":
                continue
            left = started + limits.timeout - time.monotonic()
            outcome = session.run_cell(step.source, timeout=min(limits.cell_timeout, left))
            where = f"cell {step.cell} ({first_line(step.source)})"
            if outcome.status == "ok":
                ran.append(step.source)
                continue
            if outcome.status == "error" and outcome.error_name == "MemoryError":
                problems.append(f"{where} ran out of memory (limit {_size(resources)})")
                raise_status("memory")
            elif outcome.status == "error":
                hint = _missing_file_hint(outcome, workdir)
                problems.append(
                    f"{where} raised {outcome.error_name}: "
                    f"{first_line(outcome.error_value, 120)}{hint}"
                )
                raise_status("error")
            elif outcome.status == "timeout":
                problems.append(f"{where} ran over {limits.cell_timeout:g} s")
                raise_status("timeout")
            elif outcome.status == "output":
                problems.append(f"{where} printed more than {limits.max_output_chars:,} characters")
                raise_status("output-limit")
            else:
                problems.append(
                    f"the kernel stopped in {where}: the cell exited Python, crashed, "
                    f"or went over the memory limit ({_size(resources)}) and was killed"
                )
                raise_status("kernel-died")
            if outcome.status == "error":
                # Replayed after a restart too: it may define names before it raises.
                ran.append(step.source)
            if not session.alive and not restart():
                stopped = f"커널이 {step.cell}번째 셀에서 중지되었습니다 (kernel stopped)"
        for question in suite.autograded:
            if question.name not in graded:
                grade(question)
    finally:
        session.shutdown()
        shutil.rmtree(workdir, ignore_errors=True)

    if problems:
        more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
        result.message = "; ".join(problems[:3]) + more
    result.seconds = round(time.monotonic() - started, 3)
    logger.info(
        "%s: %s/%s (%s) in %.1f s",
        submission,
        result.total,
        result.total_possible,
        result.status,
        result.seconds,
    )
    return result


def default_workroot() -> Path:
    """Where working directories go: a private folder under the system temp."""
    root = Path(tempfile.gettempdir()) / f"nngrade-{os.getuid()}"
    root.mkdir(exist_ok=True)
    # Others may pass through (a kernel run as nobody must reach its own
    # directory) but not list it: working directories have random names.
    root.chmod(0o711)
    return root
