"""Small helpers shared by the tests (importable: pytest puts tests/ on sys.path)."""

from __future__ import annotations

import subprocess
import sys


def nngrade(*args, **kwargs) -> subprocess.CompletedProcess:
    """Run the ``nngrade`` command as a user runs it; capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "autograder.cli", *args],
        capture_output=True,
        text=True,
        timeout=600,
        **kwargs,
    )
