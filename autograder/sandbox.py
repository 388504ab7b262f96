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

Either way, a grader running as root never gives the kernel root: the kernel
runs as the real unprivileged user ``nobody`` (uid 65534) with no
capabilities, who cannot read a reference tree or autograder folder that only
root can read.

Resource limits (:class:`ResourceLimits`) apply in both cases, through
``prlimit``: address space (memory), file size, and number of processes.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
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


#: ``nobody``: the unprivileged uid used to check what such a user may read.
KERNEL_UID = 65534

#: A root grader runs each kernel as its own unprivileged uid from this range,
#: so that per-user limits (the process cap) are per kernel, not shared.
KERNEL_UIDS = range(200_000, 260_000)


def kernel_uid() -> int:
    """A fresh unprivileged uid for one kernel."""
    return secrets.choice(KERNEL_UIDS)


@dataclass(frozen=True)
class Isolation:
    """What isolation a kernel gets: ``"bubblewrap"`` or ``"none"``, and why.

    ``drop_to_nobody`` is set when the grader is root and the kernel is
    started as uid 65534 outside any sandbox.
    """

    kind: str
    reason: str = ""
    drop_to_nobody: bool = False

    @property
    def sandboxed(self) -> bool:
        return self.kind == "bubblewrap"

    def describe(self) -> str:
        if self.sandboxed:
            return "bubblewrap sandbox (no network, private /tmp, only data files visible)"
        user = "as nobody (uid 65534)" if self.drop_to_nobody else "as the grading user"
        return f"NO sandbox: {self.reason}; kernels ran {user} with resource limits only"


@dataclass(frozen=True)
class ResourceLimits:
    """Per-kernel limits; ``None`` leaves one unset."""

    memory_bytes: int | None = 2 * 1024**3
    file_bytes: int | None = 512 * 1024**2
    processes: int | None = 256
    #: Size of each private temporary folder (/tmp, /var/tmp, /dev/shm).
    tmp_bytes: int = 256 * 1024**2

    def prlimit_command(self) -> list[str]:
        """A ``prlimit`` prefix applying these limits to the command after it."""
        tool = shutil.which("prlimit")
        if tool is None:
            return []
        cmd = [tool]
        if self.memory_bytes:
            cmd.append(f"--as={self.memory_bytes}")
        if self.file_bytes:
            cmd.append(f"--fsize={self.file_bytes}")
        if self.processes:
            cmd.append(f"--nproc={self.processes}")
        return cmd + ["--"] if len(cmd) > 1 else []


def parse_size(text: str) -> int:
    """``"1G"``, ``"512M"``, ``"2048K"`` or a number of bytes, as bytes."""
    units = {"K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    factor = units.get(cleaned[-1:], 1)
    number = cleaned[:-1] if cleaned[-1:] in units else cleaned
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r}; write e.g. 1G or 512M") from None
    if value <= 0:
        raise ValueError(f"a size must be more than 0, got {text!r}")
    return int(value * factor)


def format_size(n: int) -> str:
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= factor:
            return f"{n / factor:g} {unit}"
    return f"{n} bytes"


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


def bwrap_command(
    workdir: Path, uid: int = KERNEL_UID, tmp_bytes: int = 256 * 1024**2
) -> list[str]:
    """The bubblewrap prefix that runs a command sandboxed in ``workdir``.

    For a root grader bubblewrap sets the sandbox up with root's rights and
    then starts the command as the real, unprivileged uid 65534 with no
    capabilities (so that per-user limits such as the process cap hold);
    otherwise it runs in a user namespace as the grading user.
    """
    workdir = Path(os.path.realpath(workdir))
    as_root = os.geteuid() == 0
    cmd = [shutil.which("bwrap") or "bwrap"]
    if as_root:
        cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
        cmd += ["--unshare-cgroup-try", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID"]
    else:
        cmd += ["--unshare-all", "--cap-drop", "ALL"]
    cmd += [
        "--die-with-parent",
        "--new-session",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        # Private temporary folders, each of bounded size: a tmpfs lives in
        # memory, outside the kernel's own memory limit.
        "--perms",
        "1777",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/tmp",
        "--perms",
        "0755",
        "--dir",
        "/var",
        "--perms",
        "1777",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/var/tmp",
        "--perms",
        "1777",
        "--size",
        str(tmp_bytes),
        "--tmpfs",
        "/dev/shm",
        # ipykernel exits when its parent seems gone; inside a new PID
        # namespace the parent pid it is given is not visible, so drop it
        # (--die-with-parent already ends the kernel with the grader).
        "--unsetenv",
        "JPY_PARENT_PID",
    ]
    made: set[str] = {"/", "/tmp", "/var", "/var/tmp", "/proc", "/dev"}

    def mount_point(path: Path) -> list[str]:
        # Directories bubblewrap creates on the way to a mount point would be
        # 0700 when it runs as root; make them passable for the kernel user.
        args = []
        for parent in reversed(path.parents):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        made.add(str(path))
        return args

    for name in SYSTEM_DIRS:
        if os.path.islink(name):
            cmd += ["--symlink", os.readlink(name), name]
        elif os.path.isdir(name):
            cmd += mount_point(Path(name)) + ["--ro-bind", name, name]
    project = _project_root()
    for path in _python_dirs():
        if path == project or project.is_relative_to(path):
            # A Python installed around the project tree would expose it.
            logger.debug("not binding %s: it contains the project", path)
            continue
        cmd += mount_point(path) + ["--ro-bind", str(path), str(path)]
    for path in _private_dirs():
        cmd += ["--tmpfs", str(path)]
    cmd += mount_point(workdir) + ["--bind", str(workdir), str(workdir), "--chdir", str(workdir)]
    if as_root:
        cmd += drop_privileges_command(uid)
    return cmd


def drop_privileges_command(uid: int = KERNEL_UID) -> list[str]:
    """Prefix that starts a command as the unprivileged ``uid`` (root graders)."""
    return [
        shutil.which("setpriv") or "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


def _nobody_can_run_python() -> bool:
    cmd = drop_privileges_command() + [sys.executable, "-c", "import ipykernel"]
    try:
        return subprocess.run(cmd, capture_output=True, timeout=60, cwd="/").returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _unsandboxed(reason: str) -> Isolation:
    if os.geteuid() != 0:
        return Isolation("none", reason)
    if _nobody_can_run_python():
        return Isolation("none", reason, drop_to_nobody=True)
    logger.warning("the kernel's Python is not readable by nobody; kernels will run as root")
    return Isolation("none", reason + "; and the kernel's Python is not readable by nobody")


@functools.cache
def probe() -> Isolation:
    """Find out once whether bubblewrap works here (``NNGRADE_SANDBOX=none``
    turns it off, to see how grading behaves without it)."""
    if os.environ.get("NNGRADE_SANDBOX", "").lower() == "none":
        return _unsandboxed("the sandbox was turned off (NNGRADE_SANDBOX=none)")
    if not sys.platform.startswith("linux"):
        return _unsandboxed(f"bubblewrap needs Linux; this is {sys.platform}")
    if shutil.which("bwrap") is None:
        return _unsandboxed(
            "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
        )
    probe_dir = Path(os.path.realpath(os.environ.get("TMPDIR", "/tmp")))
    cmd = bwrap_command(probe_dir) + [sys.executable, "-c", "import numpy"]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return _unsandboxed(f"bubblewrap did not start ({exc})")
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return _unsandboxed(f"bubblewrap cannot run here: {detail}")
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
        # No network in the sandbox: make `!pip install` fail at once, not retry.
        "PIP_NO_INDEX": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    # Some processors need these for a correct OpenBLAS; keep them as given.
    for name in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env
