"""The sandbox each student kernel runs in.

On Linux with bubblewrap the kernel sees a new, mostly empty root: the system
directories and the Python installation read-only, a private /tmp, its own
working directory (the only writable place), no network, and its own process
and IPC namespaces. The project's source tree, the reference solutions, the
output folder and the instructor's home are simply not there. The grader talks
to the kernel over Unix sockets inside the working directory, which is mounted
at the same path on both sides.

Where bubblewrap cannot run, the kernel runs unsandboxed in its working
directory with a clean environment, and :func:`probe` says why, so the grader
can report the weaker isolation.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import site
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

#: System directories the kernel may read.
SYSTEM_DIRS = (
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/etc",
    "/opt/conda",
)

#: Our own import packages, never visible to a kernel even when installed.
PRIVATE_PACKAGES = ("reference", "autograder")


@dataclass(frozen=True)
class Isolation:
    """What isolation a kernel gets: ``"bubblewrap"`` or ``"none"``, and why."""

    kind: str
    reason: str = ""

    @property
    def sandboxed(self) -> bool:
        return self.kind == "bubblewrap"


def _python_dirs() -> list[Path]:
    """Directories the kernel's Python needs to import the standard library,
    numpy, ipykernel and the other installed packages."""
    candidates = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
    candidates.update(site.getsitepackages())
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        candidates.add(site.getusersitepackages())
    dirs = sorted({Path(os.path.realpath(p)) for p in candidates if os.path.isdir(p)})
    # Keep only the outermost of nested directories.
    outer: list[Path] = []
    for d in dirs:
        if not any(d.is_relative_to(o) for o in outer):
            outer.append(d)
    return outer


def _private_dirs() -> list[Path]:
    """Installed copies of our own packages, to be hidden inside the sandbox."""
    hidden = []
    for d in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}:
        for name in PRIVATE_PACKAGES:
            path = Path(os.path.realpath(d)) / name
            if path.is_dir():
                hidden.append(path)
    return hidden


def _project_root() -> Path:
    return Path(__file__).resolve().parent.parent


def bwrap_command(workdir: Path) -> list[str]:
    """The bubblewrap prefix that runs a command sandboxed in ``workdir``."""
    workdir = Path(os.path.realpath(workdir))
    cmd = [
        shutil.which("bwrap") or "bwrap",
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "--dir",
        "/var/tmp",
        # ipykernel exits when its parent seems gone; inside a new PID
        # namespace the parent pid it is given is not visible, so drop it
        # (--die-with-parent already ends the kernel with the grader).
        "--unsetenv",
        "JPY_PARENT_PID",
    ]
    for name in SYSTEM_DIRS:
        if os.path.islink(name):
            cmd += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            cmd += ["--ro-bind", name, name]
    project = _project_root()
    for path in _python_dirs():
        if path == project or project.is_relative_to(path):
            # A Python installed around the project tree would expose it.
            logger.debug("not binding %s: it contains the project", path)
            continue
        cmd += ["--ro-bind", str(path), str(path)]
    for path in _private_dirs():
        cmd += ["--tmpfs", str(path)]
    cmd += ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    return cmd


@functools.cache
def probe() -> Isolation:
    """Find out once whether bubblewrap works here."""
    if not sys.platform.startswith("linux"):
        return Isolation("none", f"bubblewrap needs Linux; this is {sys.platform}")
    if shutil.which("bwrap") is None:
        return Isolation(
            "none",
            "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)",
        )
    probe_dir = Path(os.path.realpath(os.environ.get("TMPDIR", "/tmp")))
    cmd = bwrap_command(probe_dir) + [sys.executable, "-c", "import numpy"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Isolation("none", f"bubblewrap did not start ({exc})")
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return Isolation("none", f"bubblewrap cannot run here: {detail}")
    return Isolation("bubblewrap")


def kernel_environment(workdir: Path) -> dict[str, str]:
    """A clean environment for a student kernel: nothing of the grader's."""
    env = {
        "PATH": os.pathsep.join(
            [os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"]
        ),
        "HOME": str(workdir),
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": str(workdir / ".config" / "matplotlib"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(workdir / ".ipython"),
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "NNGRADE_GRADING": "1",
    }
    # Some processors need these for a correct OpenBLAS; keep them as given.
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env
