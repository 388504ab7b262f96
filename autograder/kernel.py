"""A fresh Jupyter kernel for one submission, and the two things we ask of it.

:meth:`KernelSession.run_cell` executes a student's cell and reports how it
ended. :meth:`KernelSession.probe` runs one of the grader's probes (see
:mod:`autograder.protocol`) and returns the decoded payload. Both watch the
clock and the kernel process, so a cell that never ends or a kernel that exits
becomes an outcome, not a hang.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

from . import protocol, sandbox
from .errors import KernelError

logger = logging.getLogger(__name__)

#: How much of a cell's output is kept for messages, per cell.
MAX_KEPT_OUTPUT_CHARS = 20_000


def _give_to(workdir: Path, uid: int) -> None:
    """Let the unprivileged kernel user write its working directory."""
    for path in [workdir, *workdir.rglob("*")]:
        os.chown(path, uid, uid, follow_symlinks=False)


@dataclass
class CellOutcome:
    """How one execution ended: ``"ok"``, ``"error"``, ``"timeout"``, ``"output"``
    (printed more than the output cap) or ``"dead"``."""

    status: str
    error_name: str = ""
    error_value: str = ""
    stdout: str = ""
    displays: list[dict] = field(default_factory=list)
    seconds: float = 0.0


class KernelSession:
    """One kernel in one working directory; use as a context manager."""

    def __init__(
        self,
        workdir: Path,
        *,
        isolation: sandbox.Isolation,
        startup_timeout: float = 60.0,
        resources: sandbox.ResourceLimits | None = None,
        max_output_chars: int = 10_000_000,
    ):
        self.workdir = Path(os.path.realpath(workdir))
        self.isolation = isolation
        self.startup_timeout = startup_timeout
        self.resources = resources or sandbox.ResourceLimits()
        self.max_output_chars = max_output_chars
        self.km: KernelManager | None = None
        self.kc = None
        #: Whether the grader's probe function is defined in this kernel.
        self.probe_ready = False
        #: The uid a root grader runs this kernel as.
        self.uid = sandbox.kernel_uid()

    # lifecycle

    def start(self) -> None:
        argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        if self.isolation.sandboxed:
            argv = sandbox.bwrap_command(self.workdir, self.uid, self.resources.tmp_bytes) + argv
        elif self.isolation.drop_to_nobody:
            argv = sandbox.drop_privileges_command(self.uid) + argv
        argv = self.resources.prlimit_command() + argv
        km = KernelManager(
            transport="ipc",
            ip=str(self.workdir / ".kernel"),
            connection_file=str(self.workdir / ".kernel.json"),
        )
        # Our own spec: whatever kernelspec the notebook names is ignored.
        km._kernel_spec = KernelSpec(
            argv=argv,
            display_name="nngrade",
            language="python",
            interrupt_mode="message",
        )
        started = time.monotonic()
        if os.geteuid() == 0 and (self.isolation.sandboxed or self.isolation.drop_to_nobody):
            # The kernel runs unprivileged: it must read its connection file and
            # write its own working directory.
            km.write_connection_file()
            _give_to(self.workdir, self.uid)
        try:
            km.start_kernel(
                cwd=str(self.workdir),
                env=sandbox.kernel_environment(self.workdir),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            kc = km.client()
            kc.start_channels()
            kc.wait_for_ready(timeout=self.startup_timeout)
        except Exception as exc:
            self._kill(km)
            raise KernelError(f"the grading kernel did not start: {exc}") from exc
        self.km, self.kc = km, kc
        self.probe_ready = False
        logger.debug("kernel ready in %.2f s", time.monotonic() - started)

    def shutdown(self) -> None:
        if self.kc is not None:
            self.kc.stop_channels()
        if self.km is not None:
            self._kill(self.km)
        self.km = self.kc = None

    @staticmethod
    def _kill(km: KernelManager) -> None:
        try:
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        except Exception:  # the kernel may already be gone; nothing to save
            logger.debug("kernel shutdown failed", exc_info=True)
        finally:
            km.cleanup_resources()

    def __enter__(self) -> KernelSession:
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.shutdown()

    @property
    def alive(self) -> bool:
        return self.km is not None and self.km.is_alive()

    # execution

    def run_cell(self, source: str, *, timeout: float) -> CellOutcome:
        """Execute a student's cell, keeping its history like Jupyter does."""
        return self._execute(source, timeout=timeout, store_history=True)

    def probe(self, source: str, *, timeout: float) -> tuple[CellOutcome, Any]:
        """Run a probe; return its outcome and its payload (None if none came)."""
        outcome = self._execute(source, timeout=timeout, store_history=False)
        payload = None
        for bundle in outcome.displays:
            if protocol.MIME_TYPE in bundle:
                payload = bundle[protocol.MIME_TYPE]
        return outcome, payload

    def _execute(self, source: str, *, timeout: float, store_history: bool):
        if not self.alive:
            return CellOutcome("dead", error_value="the kernel is not running")
        kc = self.kc
        started = time.monotonic()
        msg_id = kc.execute(
            source, store_history=store_history, allow_stdin=False, stop_on_error=False
        )
        outcome = CellOutcome("ok")
        stdout: list[str] = []
        kept = 0
        printed = 0
        reply = None
        idle = False
        last_alive_check = started
        while reply is None or not idle:
            now = time.monotonic()
            if now - started > timeout:
                outcome.status = "timeout"
                self._interrupt()
                break
            if now - last_alive_check > 0.5:
                last_alive_check = now
                if not self.km.is_alive():
                    outcome.status = "dead"
                    break
            if idle:
                # Everything is published; only the reply is missing.
                msg = None
                wait_shell = 0.05
            else:
                wait_shell = 0
                try:
                    msg = kc.get_iopub_msg(timeout=0.05)
                except Empty:
                    msg = None
            if printed > self.max_output_chars:
                outcome.status = "output"
                self._interrupt()
                break
            if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
                kind, content = msg["msg_type"], msg["content"]
                if kind == "status" and content.get("execution_state") == "idle":
                    idle = True
                elif kind == "stream":
                    text = content.get("text", "")
                    printed += len(text)
                    if content.get("name") == "stdout" and kept < MAX_KEPT_OUTPUT_CHARS:
                        stdout.append(text)
                        kept += len(text)
                elif kind in ("display_data", "execute_result"):
                    data = content.get("data", {})
                    printed += sum(len(str(v)) for v in data.values())
                    if printed <= self.max_output_chars:
                        outcome.displays.append(data)
                elif kind == "error":
                    outcome.status = "error"
                    outcome.error_name = content.get("ename", "")
                    outcome.error_value = content.get("evalue", "")
            if reply is None:
                try:
                    shell = kc.get_shell_msg(timeout=wait_shell)
                except Empty:
                    shell = None
                if shell is not None and shell["parent_header"].get("msg_id") == msg_id:
                    reply = shell
                    if shell["content"].get("status") == "error" and outcome.status == "ok":
                        outcome.status = "error"
                        outcome.error_name = shell["content"].get("ename", "")
                        outcome.error_value = shell["content"].get("evalue", "")
        outcome.stdout = "".join(stdout)[:MAX_KEPT_OUTPUT_CHARS]
        outcome.seconds = time.monotonic() - started
        return outcome

    def _interrupt(self) -> None:
        """Interrupt a cell that ran over; if the kernel does not come back, kill it."""
        try:
            self.km.interrupt_kernel()
            reply = self.kc.execute_interactive(
                "pass", store_history=False, timeout=5, output_hook=lambda msg: None
            )
            if reply["content"].get("status") == "ok":
                return
        except Exception:
            logger.debug("interrupt did not bring the kernel back", exc_info=True)
        logger.info("kernel did not answer an interrupt; stopping it")
        self._kill(self.km)
