"""Kernels started ahead of need, so that start-up overlaps grading.

Starting a sandboxed kernel takes most of a second. A :class:`KernelPool`
keeps a few started kernels ready, each in its own fresh working directory
holding the assignment's data files, and starts the next one in the
background while the current ones grade. Each kernel is used for exactly one
submission and then thrown away; nothing carries over between students.
"""

from __future__ import annotations

import logging
import queue
import shutil
import threading
from pathlib import Path

from .errors import KernelError
from .grader import Limits, prepare_workdir
from .kernel import KernelSession
from .sandbox import Isolation
from .spec import Suite

logger = logging.getLogger(__name__)

#: Imported in every kernel before it is handed out: the assignments' first
#: cell imports numpy, and the grader's probes use IPython.display.
WARM_UP = "import numpy\nimport IPython.display\n"


class KernelPool:
    """Up to ``size`` started kernels waiting for a submission; use as a
    context manager, and :meth:`take` one kernel per submission. With
    ``total``, no more than that many kernels are started ahead."""

    def __init__(
        self,
        *,
        size: int,
        suite: Suite,
        data_dir: Path,
        workroot: Path,
        isolation: Isolation,
        limits: Limits,
        total: int | None = None,
    ):
        self._left = total
        self._count_lock = threading.Lock()
        self._suite = suite
        self._data_dir = data_dir
        self._workroot = workroot
        self._isolation = isolation
        self._limits = limits
        self._ready: queue.Queue[KernelSession | KernelError] = queue.Queue()
        self._room = threading.Semaphore(max(1, size))
        self._closed = threading.Event()
        self._threads = [
            threading.Thread(target=self._fill, name=f"nngrade-kernels-{i}", daemon=True)
            for i in range(max(1, min(size, 2)))
        ]

    def __enter__(self) -> KernelPool:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._closed.set()
        for _ in self._threads:
            self._room.release()
        for thread in self._threads:
            thread.join(timeout=120)
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, KernelSession):
                self._discard(item)

    def _start_one(self) -> KernelSession:
        session = KernelSession(
            prepare_workdir(self._workroot, self._suite, self._data_dir),
            isolation=self._isolation,
            startup_timeout=self._limits.startup_timeout,
            resources=self._limits.resources(),
            max_output_chars=self._limits.max_output_chars,
        )
        try:
            session.start()
            session.run_cell(WARM_UP, timeout=self._limits.startup_timeout)
        except KernelError:
            self._discard(session)
            raise
        return session

    def _fill(self) -> None:
        while True:
            self._room.acquire()
            if self._closed.is_set():
                return
            with self._count_lock:
                exhausted = self._left is not None and self._left <= 0
                if not exhausted and self._left is not None:
                    self._left -= 1
            if exhausted:
                # Stay alive: bubblewrap's --die-with-parent ends a kernel when
                # the thread that started it exits.
                self._closed.wait()
                return
            try:
                self._ready.put(self._start_one())
            except KernelError as exc:
                self._ready.put(exc)

    def take(self) -> KernelSession:
        """The next started kernel; raises KernelError if it could not start."""
        item = self._ready.get()
        self._room.release()
        if isinstance(item, KernelError):
            raise item
        if not item.alive:
            self._discard(item)
            return self._start_one()
        return item

    @staticmethod
    def _discard(session: KernelSession) -> None:
        session.shutdown()
        shutil.rmtree(session.workdir, ignore_errors=True)
