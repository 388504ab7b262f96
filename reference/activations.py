"""The sigmoid activation of the lecture's MLP section, and a numerical check.

The sigmoid squashes a weighted sum into (0, 1)::

    sigmoid(x) = 1 / (1 + exp(-x))
    sigmoid'(x) = sigmoid(x) * (1 - sigmoid(x))

Written as above, ``exp(-x)`` overflows for ``x < -709``. Using
``z = exp(-|x|)``, which never exceeds 1, the same function is ``1 / (1 + z)``
for ``x >= 0`` and ``z / (1 + z)`` for ``x < 0``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def sigmoid(x):
    """Logistic sigmoid, elementwise, without overflow for any finite ``x``.

    Parameters
    ----------
    x : float or array_like
        Weighted sums.

    Returns
    -------
    float or ndarray
        Same shape as ``x``, every value in [0, 1].
    """
    x = np.asarray(x, dtype=float)

    # exp(-|x|) is in (0, 1], so neither branch can overflow.
    z = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z))
    return float(out) if out.ndim == 0 else out


def sigmoid_derivative(x):
    """Derivative of :func:`sigmoid` at ``x``, elementwise.

    Parameters
    ----------
    x : float or array_like
        Weighted sums (not sigmoid outputs).

    Returns
    -------
    float or ndarray
        Same shape as ``x``.
    """
    s = sigmoid(x)

    # d/dx (1 + e^-x)^-1 = e^-x / (1 + e^-x)^2 = s * (1 - s).
    return s * (1.0 - s)


def numerical_derivative(f: Callable, x, h: float = 1e-5):
    """Central-difference estimate of ``f'(x)``, elementwise.

    Parameters
    ----------
    f : callable
        A function applied elementwise to arrays.
    x : float or array_like
        Points at which to estimate the derivative.
    h : float
        Step; the error of the estimate is of order ``h**2``.

    Returns
    -------
    float or ndarray
        Same shape as ``x``.
    """
    x = np.asarray(x, dtype=float)

    # (f(x+h) - f(x-h)) / 2h: the h**1 terms of the two Taylor series cancel.
    out = (np.asarray(f(x + h)) - np.asarray(f(x - h))) / (2.0 * h)
    return float(out) if out.ndim == 0 else out
