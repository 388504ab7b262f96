"""Multilayer perceptrons trained by error backpropagation (LAB 7-5, LAB 7-6).

XOR (LAB 7-5) is learned by a 2-3-2 network of sigmoid units with biases.
Inputs are 0/1; output ``y1`` is on for true and ``y2`` for false::

    H = sigmoid(X @ W1 + b1)        X (n, 2), W1 (2, 3), b1 (3,)  -> H (n, 3)
    Y = sigmoid(H @ W2 + b2)        W2 (3, 2), b2 (2,)            -> Y (n, 2)
    E = 1/2 * sum((Y - T)**2)

The regression network (LAB 7-6) has two hidden sigmoid layers and a linear
output, and is trained on the mean of the squared error over the batch::

    H1 = sigmoid(X @ W1 + b1)       X (n, 1), W1 (1, h1)
    H2 = sigmoid(H1 @ W2 + b2)      W2 (h1, h2)
    Y  = H2 @ W3 + b3               W3 (h2, 1), b3 (1,)           -> Y (n, 1)
    E  = 1/(2n) * sum((Y - T)**2)

Both are trained by full-batch gradient descent, one update per epoch:
``parameter <- parameter - learning_rate * dE/dparameter``.
Parameters travel as dicts of arrays (``"W1"``, ``"b1"``, ...).
"""

from __future__ import annotations

import numpy as np

from .activations import sigmoid

#: The four 0/1 inputs of the truth table.
XOR_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)

#: XOR targets as (y1, y2): (1, 0) for true, (0, 1) for false.
XOR_TARGETS = np.array([[0, 1], [1, 0], [1, 0], [0, 1]], dtype=float)

#: Layer sizes of the XOR network.
XOR_SIZES = (2, 3, 2)

#: Layer sizes of the regression network of LAB 7-6.
REGRESSION_SIZES = (1, 10, 10, 1)


def _params(params, names):
    return {name: np.asarray(params[name], dtype=float) for name in names}


# XOR network (LAB 7-5)


def init_xor(seed: int) -> dict[str, np.ndarray]:
    """Initial parameters of the 2-3-2 network: N(0, 1) weights, zero biases.

    Returns
    -------
    dict
        ``W1`` (2, 3), ``b1`` (3,), ``W2`` (3, 2), ``b2`` (2,).
    """
    rng = np.random.default_rng(seed)
    return {
        "W1": rng.normal(size=(2, 3)),
        "b1": np.zeros(3),
        "W2": rng.normal(size=(3, 2)),
        "b2": np.zeros(2),
    }


def forward(X, W1, b1, W2, b2):
    """Hidden and output activations of the 2-3-2 network for a batch.

    Parameters
    ----------
    X : array_like, shape (n, 2)
    W1 : array_like, shape (2, 3)
    b1 : array_like, shape (3,)
    W2 : array_like, shape (3, 2)
    b2 : array_like, shape (2,)

    Returns
    -------
    H : ndarray, shape (n, 3)
        Hidden activations.
    Y : ndarray, shape (n, 2)
        Output activations.
    """
    X = np.asarray(X, dtype=float)
    H = sigmoid(X @ np.asarray(W1, dtype=float) + np.asarray(b1, dtype=float))
    Y = sigmoid(H @ np.asarray(W2, dtype=float) + np.asarray(b2, dtype=float))
    return H, Y


def loss(Y, T) -> float:
    """``E = 1/2 * sum((Y - T)**2)`` over the batch and the outputs."""
    return float(0.5 * np.sum((np.asarray(Y, dtype=float) - np.asarray(T, dtype=float)) ** 2))


def backward(X, T, W1, b1, W2, b2) -> dict[str, np.ndarray]:
    """Deltas and gradients of ``E = 1/2 * sum((Y - T)**2)`` for a batch.

    Parameters
    ----------
    X : array_like, shape (n, 2)
    T : array_like, shape (n, 2)
        Targets.
    W1, b1, W2, b2 : array_like
        As in :func:`forward`.

    Returns
    -------
    dict
        ``delta_out`` (n, 2) and ``delta_hidden`` (n, 3), the derivatives of E
        with respect to the weighted sums of the output and hidden layers, and
        ``grad_W1`` (2, 3), ``grad_b1`` (3,), ``grad_W2`` (3, 2), ``grad_b2`` (2,).
    """
    X = np.asarray(X, dtype=float)
    T = np.asarray(T, dtype=float)
    W2 = np.asarray(W2, dtype=float)
    H, Y = forward(X, W1, b1, W2, b2)

    # Output layer: dE/dY = Y - T, and dY/dS2 = Y (1 - Y) for Y = sigmoid(S2).
    delta_out = (Y - T) * Y * (1.0 - Y)

    # Hidden layer (chain rule): dE/dH = delta_out @ W2.T, and dH/dS1 = H (1 - H).
    delta_hidden = (delta_out @ W2.T) * H * (1.0 - H)

    # S = A @ W + b, so dE/dW = A.T @ delta and dE/db sums delta over the batch.
    return {
        "delta_out": delta_out,
        "delta_hidden": delta_hidden,
        "grad_W1": X.T @ delta_hidden,
        "grad_b1": delta_hidden.sum(axis=0),
        "grad_W2": H.T @ delta_out,
        "grad_b2": delta_out.sum(axis=0),
    }


def train_xor(X, T, params, learning_rate: float, epochs: int):
    """Full-batch gradient descent on the 2-3-2 network.

    Parameters
    ----------
    X : array_like, shape (n, 2)
    T : array_like, shape (n, 2)
    params : dict
        Initial ``W1``, ``b1``, ``W2``, ``b2`` (left unchanged).
    learning_rate : float
    epochs : int
        Number of updates; each uses the gradient of the whole batch.

    Returns
    -------
    params : dict
        Trained parameters, same keys and shapes.
    losses : list of float
        E of each epoch, computed before that epoch's update.
    """
    names = ("W1", "b1", "W2", "b2")
    params = _params(params, names)
    losses = []

    for _ in range(epochs):
        _, Y = forward(X, *(params[n] for n in names))
        losses.append(loss(Y, T))
        grads = backward(X, T, *(params[n] for n in names))

        # Step against the gradient: E decreases for a small enough rate.
        params = {n: params[n] - learning_rate * grads[f"grad_{n}"] for n in names}

    return params, losses


def classify(Y):
    """XOR outputs as 1 (true, y1 larger) or 0 (false), shape (n,)."""
    Y = np.asarray(Y, dtype=float)
    return np.where(Y[:, 0] > Y[:, 1], 1, 0)


# Regression network (LAB 7-6)

REGRESSION_NAMES = ("W1", "b1", "W2", "b2", "W3", "b3")


def init_regression(seed: int, sizes=REGRESSION_SIZES) -> dict[str, np.ndarray]:
    """Initial parameters of the regression network.

    First-layer weights are N(0, 10**2) and each first-layer bias puts that
    unit's bend at a uniform point of [0, 1], so that the first layer starts
    with steep sigmoids spread over the inputs; later weights are N(0, 1) and
    their biases zero.

    Returns
    -------
    dict
        ``W1`` (1, h1), ``b1`` (h1,), ``W2`` (h1, h2), ``b2`` (h2,),
        ``W3`` (h2, 1), ``b3`` (1,).
    """
    rng = np.random.default_rng(seed)
    n_in, h1, h2, n_out = sizes
    W1 = rng.normal(scale=10.0, size=(n_in, h1))
    centres = rng.uniform(0.0, 1.0, size=h1)
    return {
        "W1": W1,
        "b1": -W1[0] * centres,
        "W2": rng.normal(size=(h1, h2)),
        "b2": np.zeros(h2),
        "W3": rng.normal(size=(h2, n_out)),
        "b3": np.zeros(n_out),
    }


def predict_regression(X, params):
    """Output of the regression network, linear in the last layer.

    Parameters
    ----------
    X : array_like, shape (n, 1)
    params : dict
        As returned by :func:`init_regression`.

    Returns
    -------
    ndarray, shape (n, 1)
    """
    return _regression_forward(X, _params(params, REGRESSION_NAMES))[-1]


def _regression_forward(X, p):
    X = np.asarray(X, dtype=float)
    H1 = sigmoid(X @ p["W1"] + p["b1"])
    H2 = sigmoid(H1 @ p["W2"] + p["b2"])
    return X, H1, H2, H2 @ p["W3"] + p["b3"]


def regression_loss(Y, T) -> float:
    """``E = 1/(2n) * sum((Y - T)**2)``, half the mean squared error."""
    Y = np.asarray(Y, dtype=float)
    return float(0.5 * np.mean((Y - np.asarray(T, dtype=float).reshape(Y.shape)) ** 2))


def regression_gradients(X, T, params) -> dict[str, np.ndarray]:
    """Gradients of :func:`regression_loss` for every weight and bias.

    Returns
    -------
    dict
        ``grad_W1`` ... ``grad_b3``, each of the shape of its parameter.
    """
    p = _params(params, REGRESSION_NAMES)
    X, H1, H2, Y = _regression_forward(X, p)
    T = np.asarray(T, dtype=float).reshape(Y.shape)

    # Linear output: dE/dY = (Y - T) / n and dY/dS3 = 1.
    delta3 = (Y - T) / len(Y)

    # Each sigmoid layer: back through the next layer's weights, times H (1 - H).
    delta2 = (delta3 @ p["W3"].T) * H2 * (1.0 - H2)
    delta1 = (delta2 @ p["W2"].T) * H1 * (1.0 - H1)

    return {
        "grad_W1": X.T @ delta1,
        "grad_b1": delta1.sum(axis=0),
        "grad_W2": H1.T @ delta2,
        "grad_b2": delta2.sum(axis=0),
        "grad_W3": H2.T @ delta3,
        "grad_b3": delta3.sum(axis=0),
    }


def fit_regression(X, T, params, learning_rate: float, epochs: int):
    """Full-batch gradient descent on the regression network, every layer updated.

    Parameters
    ----------
    X : array_like, shape (n, 1)
    T : array_like, shape (n, 1)
    params : dict
        Initial parameters (left unchanged).
    learning_rate : float
    epochs : int

    Returns
    -------
    params : dict
        Trained parameters.
    losses : list of float
        E of each epoch, computed before that epoch's update.
    """
    params = _params(params, REGRESSION_NAMES)
    losses = []

    for _ in range(epochs):
        losses.append(regression_loss(predict_regression(X, params), T))
        grads = regression_gradients(X, T, params)
        params = {n: params[n] - learning_rate * grads[f"grad_{n}"] for n in REGRESSION_NAMES}

    return params, losses


def line_fit_mse(x_train, t_train, x_test, t_test) -> float:
    """Held-out mean squared error of the least-squares straight line."""
    x_train = np.asarray(x_train, dtype=float).reshape(-1)
    A = np.column_stack([x_train, np.ones_like(x_train)])
    coef, *_ = np.linalg.lstsq(A, np.asarray(t_train, dtype=float).reshape(-1), rcond=None)
    x_test = np.asarray(x_test, dtype=float).reshape(-1)
    prediction = coef[0] * x_test + coef[1]
    return float(np.mean((prediction - np.asarray(t_test, dtype=float).reshape(-1)) ** 2))
