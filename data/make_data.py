"""Make the data files that the assignments read; ``python data/make_data.py``.

Each file comes from a fixed seed, so running this again gives the same bytes;
a test checks that the files in this folder equal this script's output.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent

#: Seed of :func:`nonlinear_csv`.
NONLINEAR_SEED = 7506


def nonlinear_csv(seed: int = NONLINEAR_SEED, n: int = 1000) -> str:
    """Text of ``nonlinear.csv``: header ``x,y``, then ``n`` rows.

    ``x`` is uniform in [0, 1]; ``y`` is one period of a sine wave plus a
    linear trend, ``sin(2 pi x) + 0.6 x - 0.3``, plus Gaussian noise with
    standard deviation 0.3.
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 1.0, size=n)
    y = np.sin(2.0 * np.pi * x) + 0.6 * x - 0.3 + rng.normal(scale=0.3, size=n)
    out = io.StringIO()
    out.write("x,y\n")
    for xi, yi in zip(x, y):
        out.write(f"{xi:.6f},{yi:.6f}\n")
    return out.getvalue()


#: Every data file, by name, with the function that writes its text.
FILES = {"nonlinear.csv": nonlinear_csv}


def main() -> None:
    for name, make in FILES.items():
        (HERE / name).write_text(make(), encoding="utf-8", newline="\n")


if __name__ == "__main__":
    main()
