"""The perceptron of the lecture (LAB 7-1 to 7-3), with -1/1 for false/true.

A perceptron computes ``step(X @ weights + bias)``. The learning rule visits the
samples in order and corrects the weights only where the output is wrong::

    weights <- weights + learning_rate * t * x
    bias    <- bias    + learning_rate * t

It stops after an epoch with no correction, or after ``max_epochs`` epochs.
"""

from __future__ import annotations

import numpy as np

#: The four inputs of a two-input truth table, in the order the lecture uses.
TRUTH_TABLE_INPUTS = np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]])

#: Targets of the logic gates on :data:`TRUTH_TABLE_INPUTS`.
GATE_TARGETS = {
    "AND": np.array([-1, -1, -1, 1]),
    "OR": np.array([-1, 1, 1, 1]),
    "NAND": np.array([1, 1, 1, -1]),
    "NOR": np.array([1, -1, -1, -1]),
    "XOR": np.array([-1, 1, 1, -1]),
}


def step(s):
    """Step activation: 1 where ``s > 0``, else -1.

    Parameters
    ----------
    s : float or array_like
        Weighted sums.

    Returns
    -------
    int or ndarray of int
        Same shape as ``s``; a plain int for a scalar input.
    """
    out = np.where(np.asarray(s) > 0, 1, -1)
    return int(out) if out.ndim == 0 else out


def predict(X, weights, bias):
    """Outputs of one perceptron for a batch of inputs.

    Parameters
    ----------
    X : array_like, shape (n, d)
        One input per row.
    weights : array_like, shape (d,)
    bias : float

    Returns
    -------
    ndarray of int, shape (n,)
        -1 or 1 for each row.
    """
    X = np.asarray(X, dtype=float)
    return np.asarray(step(X @ np.asarray(weights, dtype=float) + bias)).reshape(X.shape[0])


def train(X, t, learning_rate=0.1, max_epochs=100):
    """Train a perceptron with the lecture's rule, from zero weights and bias.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Training inputs, visited row by row in this order every epoch.
    t : array_like, shape (n,)
        Targets, -1 or 1.
    learning_rate : float
    max_epochs : int
        Upper bound on the number of passes over the data.

    Returns
    -------
    weights : ndarray, shape (d,)
    bias : float
    corrections : list of int
        Number of corrected samples in each epoch that was run; the last entry
        is 0 exactly when training converged.
    """
    X = np.asarray(X, dtype=float)
    t = np.asarray(t, dtype=float)
    weights = np.zeros(X.shape[1])
    bias = 0.0
    corrections = []

    for _ in range(max_epochs):
        count = 0
        for x, target in zip(X, t):
            if step(x @ weights + bias) != target:
                # The rule moves the separating line toward the misclassified x.
                weights = weights + learning_rate * target * x
                bias = bias + learning_rate * target
                count += 1
        corrections.append(count)
        if count == 0:
            break

    return weights, bias, corrections


def reproduces(weights, bias, gate):
    """Whether ``(weights, bias)`` computes ``gate`` on the two-input truth table."""
    outputs = predict(TRUTH_TABLE_INPUTS, weights, bias)
    return bool(np.array_equal(outputs, GATE_TARGETS[gate]))
