"""XOR and the perceptron (challenge 7.1 and LAB 7-4), with -1/1 for false/true.

No single perceptron computes XOR: on the truth table the weighted sum
``s = w1*x1 + w2*x2 + b`` would need

    row (-1, -1): s <= 0      row (-1,  1): s > 0
    row ( 1, -1): s > 0       row ( 1,  1): s <= 0

Adding the two middle rows gives ``2b > 0``; adding the outer rows gives
``2b <= 0``. Mapping each input to polynomial features
``(x1^2, x1, x1*x2, x2, x2^2)`` makes the table separable: the cross term
``x1*x2`` alone is ``-t``.

Training and prediction are those of :mod:`reference.perceptron`.
"""

from __future__ import annotations

import numpy as np

from .perceptron import GATE_TARGETS, TRUTH_TABLE_INPUTS, predict, step, train

__all__ = [
    "GATE_TARGETS",
    "NONPOSITIVE_PAIR",
    "POSITIVE_PAIR",
    "TRUTH_TABLE_INPUTS",
    "grid_search",
    "polynomial_features",
    "predict",
    "required_signs",
    "separates",
    "step",
    "train",
]

#: Rows of :data:`TRUTH_TABLE_INPUTS` whose XOR inequalities, added, give 2b > 0.
POSITIVE_PAIR = (1, 2)

#: Rows of :data:`TRUTH_TABLE_INPUTS` whose XOR inequalities, added, give 2b <= 0.
NONPOSITIVE_PAIR = (0, 3)


def separates(weights, bias, X, t):
    """Whether a linear unit classifies every row of ``X`` as ``t``.

    Parameters
    ----------
    weights : array_like, shape (d,)
    bias : float
    X : array_like, shape (n, d)
    t : array_like, shape (n,)
        Targets, -1 or 1.

    Returns
    -------
    bool
        True when ``step(X @ weights + bias)`` equals ``t`` on every row.
    """
    return bool(np.array_equal(predict(X, weights, bias), np.asarray(t).reshape(-1)))


def required_signs(t):
    """The sign each row's weighted sum must have for the output to be ``t``.

    With the step activation, output 1 needs ``s > 0`` (sign 1) and output -1
    needs ``s <= 0`` (sign -1), so the signs are the targets themselves.

    Parameters
    ----------
    t : array_like, shape (n,)
        Targets, -1 or 1.

    Returns
    -------
    ndarray of int, shape (n,)
        1 for "s > 0", -1 for "s <= 0".
    """
    return np.where(np.asarray(t) > 0, 1, -1)


def grid_search(X, t, values):
    """Every ``(w1, w2, b)`` on a grid whose linear unit separates ``(X, t)``.

    Parameters
    ----------
    X : array_like, shape (n, 2)
    t : array_like, shape (n,)
    values : array_like, shape (m,)
        The grid values tried for each of w1, w2 and b.

    Returns
    -------
    ndarray, shape (k, 3)
        One separating ``(w1, w2, b)`` per row, w1 varying slowest; ``k`` may be 0.
    """
    values = np.asarray(values, dtype=float).reshape(-1)
    found = [
        (w1, w2, b)
        for w1 in values
        for w2 in values
        for b in values
        if separates(np.array([w1, w2]), b, X, t)
    ]
    return np.array(found, dtype=float).reshape(-1, 3)


def polynomial_features(X):
    """The lecture's feature map ``(x1, x2) -> (x1^2, x1, x1*x2, x2, x2^2)``.

    Parameters
    ----------
    X : array_like, shape (n, 2)

    Returns
    -------
    ndarray, shape (n, 5)
    """
    X = np.asarray(X, dtype=float)
    x1, x2 = X[:, 0], X[:, 1]
    return np.column_stack([x1**2, x1, x1 * x2, x2, x2**2])
