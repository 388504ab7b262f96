"""The backpropagation assignment: reference solution, data, and grading tests.

The grading tests of :mod:`reference.grading.backprop` are also run here in
this process, against the reference solution, through a stand-in for the
kernel that passes the same plain data; the bundled samples are graded with
real kernels by ``test_samples.py``.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose

from autograder import protocol
from reference import activations as act
from reference import mlp as ref
from reference.grading import backprop as grading

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


class LocalRemote:
    """Answers a grading test's calls from Python functions, as a kernel would.

    Arguments and results go through the same encoding as a real probe, so a
    test sees exactly the plain data it would see from a kernel.
    """

    def __init__(self, namespace: dict):
        self.namespace = namespace
        self.last_warnings: list[str] = []

    def _decode_argument(self, value):
        if isinstance(value, list):
            return [self._decode_argument(v) for v in value]
        if isinstance(value, dict):
            if "__code__" in value:
                return eval(value["__code__"], {"np": np})
            if "__ndarray__" in value:
                return np.array(value["__ndarray__"], dtype=value["dtype"]).reshape(value["shape"])
            return {k: self._decode_argument(v) for k, v in value.items()}
        return value

    def _encode_result(self, value):
        if isinstance(value, tuple):
            return {"__tuple__": [self._encode_result(v) for v in value]}
        if isinstance(value, list):
            return [self._encode_result(v) for v in value]
        if isinstance(value, dict):
            return {k: self._encode_result(v) for k, v in value.items()}
        return protocol.encode_argument(value)

    def call(self, name, *args, **kwargs):
        args = self._decode_argument(protocol.encode_argument(list(args)))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            value = self.namespace[name](*args, **kwargs)
        self.last_warnings = [f"{type(w.message).__name__}: {w.message}" for w in caught]
        return protocol.decode_result(self._encode_result(value))

    def get(self, name):
        self.last_warnings = []
        return protocol.decode_result(self._encode_result(self.namespace[name]))


def reference_namespace(**answers) -> dict:
    """What the solution notebook defines, from the reference modules.

    ``answers`` replaces some of the functions; the variables the notebook
    computes from them (``derivative_gap``, ``params_fit``) are computed
    with the replacements, as running the notebook would.
    """
    namespace = {
        "sigmoid": act.sigmoid,
        "sigmoid_derivative": act.sigmoid_derivative,
        "numerical_derivative": act.numerical_derivative,
        "forward": ref.forward,
        "backward": ref.backward,
        "train_xor": ref.train_xor,
        "predict_regression": ref.predict_regression,
        "fit_regression": ref.fit_regression,
        **answers,
    }
    xs = np.linspace(-6, 6, 121)
    numeric = namespace["numerical_derivative"](namespace["sigmoid"], xs, 1e-5)
    namespace["derivative_gap"] = float(
        np.max(np.abs(numeric - namespace["sigmoid_derivative"](xs)))
    )
    X, T = grading._regression_data()
    train, _ = grading._split(len(X), 0)
    namespace["params_fit"], _ = namespace["fit_regression"](
        X[train],
        T[train],
        ref.init_regression(grading.REGRESSION_SEED),
        grading.REGRESSION_LEARNING_RATE,
        grading.REGRESSION_EPOCHS,
    )
    return namespace


def run_suite(namespace: dict, questions=None) -> dict[str, str]:
    """``{test name: failure detail}`` of the tests that fail on ``namespace``."""
    remote = LocalRemote(namespace)
    failed = {}
    for question in grading.suite.autograded:
        if questions and question.name not in questions:
            continue
        for test in question.tests:
            try:
                test.check(remote)
            except (grading.Failure, AssertionError) as failure:
                failed[test.name] = str(failure)
    return failed


# Reference: activations


def test_sigmoid_is_stable_and_warning_free_for_large_inputs():
    x = np.array([-1000.0, -745.0, -50.0, 0.0, 50.0, 745.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = act.sigmoid(x)
        d = act.sigmoid_derivative(x)
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(d))
    assert_allclose(s, [0, 0, 0, 0.5, 1, 1, 1], atol=1e-15)
    assert_allclose(d, [0, 0, 0, 0.25, 0, 0, 0], atol=1e-15)


def test_sigmoid_matches_the_textbook_formula_and_keeps_shape():
    x = np.random.default_rng(1).normal(scale=5.0, size=(3, 4))
    assert_allclose(act.sigmoid(x), 1.0 / (1.0 + np.exp(-x)), rtol=1e-13, atol=1e-15)
    assert act.sigmoid(x).shape == (3, 4)
    assert isinstance(act.sigmoid(0.0), float)
    assert act.sigmoid(0.0) == 0.5


def test_sigmoid_derivative_matches_finite_differences():
    x = np.linspace(-8, 8, 161)
    numeric = act.numerical_derivative(act.sigmoid, x, 1e-5)
    assert_allclose(act.sigmoid_derivative(x), numeric, rtol=1e-8, atol=1e-11)


@pytest.mark.parametrize(
    ("f", "derivative"),
    [(np.sin, np.cos), (np.exp, np.exp), (lambda x: x**3, lambda x: 3 * x**2)],
)
def test_numerical_derivative_is_second_order(f, derivative):
    x = np.linspace(-2, 2, 9)
    errors = [
        np.max(np.abs(act.numerical_derivative(f, x, h) - derivative(x))) for h in (1e-2, 1e-3)
    ]
    # Central differences: ten times smaller h, about a hundred times smaller error.
    assert errors[1] < errors[0] / 50


# Reference: XOR network


def _loss_of(X, T, params):
    _, Y = ref.forward(X, params["W1"], params["b1"], params["W2"], params["b2"])
    return ref.loss(Y, T)


def test_forward_shapes_and_zero_weights():
    zeros = {"W1": np.zeros((2, 3)), "b1": np.zeros(3), "W2": np.zeros((3, 2)), "b2": np.zeros(2)}
    H, Y = ref.forward(ref.XOR_INPUTS, **zeros)
    assert H.shape == (4, 3) and Y.shape == (4, 2)
    assert_allclose(H, 0.5, atol=1e-15)
    assert_allclose(Y, 0.5, atol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_backward_matches_finite_differences_of_the_loss(seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(6, 2))
    T = rng.uniform(size=(6, 2))
    params = {k: rng.normal(size=s) for k, s in grading.XOR_SHAPES.items()}
    grads = ref.backward(X, T, **params)
    for name in grading.XOR_NAMES:
        numeric = grading._finite_difference(lambda p: _loss_of(X, T, p), params, name)
        assert grads[f"grad_{name}"].shape == params[name].shape
        assert_allclose(grads[f"grad_{name}"], numeric, rtol=1e-6, atol=1e-9)
    assert grads["delta_out"].shape == (6, 2)
    assert grads["delta_hidden"].shape == (6, 3)


def test_deltas_are_derivatives_with_respect_to_the_weighted_sums():
    # A bias is added to its layer's weighted sum, so for a batch of one input
    # dE/db of a layer equals that layer's delta.
    rng = np.random.default_rng(3)
    params = {k: rng.normal(size=s) for k, s in grading.XOR_SHAPES.items()}
    X = rng.normal(size=(1, 2))
    T = np.array([[1.0, 0.0]])
    grads = ref.backward(X, T, **params)
    for layer, delta in (("b1", "delta_hidden"), ("b2", "delta_out")):
        numeric = grading._finite_difference(lambda p: _loss_of(X, T, p), params, layer)
        assert_allclose(grads[delta][0], numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("seed", [1, 2, 3, 5])
def test_train_xor_solves_xor_for_the_graded_seeds(seed):
    params, losses = ref.train_xor(
        ref.XOR_INPUTS,
        ref.XOR_TARGETS,
        ref.init_xor(seed),
        grading.XOR_LEARNING_RATE,
        grading.XOR_EPOCHS,
    )
    _, Y = ref.forward(ref.XOR_INPUTS, **params)
    assert list(ref.classify(Y)) == [0, 1, 1, 0]
    assert len(losses) == grading.XOR_EPOCHS
    assert losses[-1] < 0.1 * losses[0]


def test_train_xor_leaves_the_initial_parameters_alone():
    initial = ref.init_xor(4)
    copy = {k: v.copy() for k, v in initial.items()}
    ref.train_xor(ref.XOR_INPUTS, ref.XOR_TARGETS, initial, 1.0, 5)
    for name in copy:
        assert_allclose(initial[name], copy[name], rtol=0, atol=0)


def test_train_xor_that_gets_one_input_wrong_fails_the_grading_test():
    # A run stopped too early, like a saved run with one input misclassified.
    params, _ = ref.train_xor(
        ref.XOR_INPUTS,
        ref.XOR_TARGETS,
        ref.init_xor(0),
        grading.XOR_LEARNING_RATE,
        grading.XOR_EPOCHS,
    )
    _, Y = ref.forward(ref.XOR_INPUTS, **params)
    assert np.sum(ref.classify(Y) != [0, 1, 1, 0]) >= 1
    with pytest.raises(grading.Failure, match="잘못 분류"):
        grading._classifies_xor(params, "train_xor")


# Reference: regression network


def test_regression_gradients_match_finite_differences():
    rng = np.random.default_rng(7)
    sizes = (1, 4, 3, 1)
    params = ref.init_regression(2, sizes)
    X = rng.uniform(size=(15, 1))
    T = rng.normal(size=(15, 1))
    grads = ref.regression_gradients(X, T, params)

    def loss(p):
        return ref.regression_loss(ref.predict_regression(X, p), T)

    for name in ref.REGRESSION_NAMES:
        numeric = grading._finite_difference(loss, params, name)
        assert_allclose(grads[f"grad_{name}"], numeric, rtol=1e-5, atol=1e-9)


def test_regression_output_is_linear_and_can_be_negative():
    params = ref.init_regression(0)
    params["b3"] = np.array([-5.0])
    Y = ref.predict_regression(np.linspace(0, 1, 11)[:, None], params)
    assert Y.shape == (11, 1)
    assert np.all(Y < params["W3"].clip(min=0).sum() - 5.0 + 1e-12)


def test_line_fit_mse_is_zero_on_a_line():
    x = np.linspace(0, 1, 20)
    assert ref.line_fit_mse(x, 3 * x - 1, x, 3 * x - 1) == pytest.approx(0.0, abs=1e-20)


# Data


def _make_data():
    spec = importlib.util.spec_from_file_location("make_data", REPO / "data" / "make_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_data_files_equal_the_scripts_output():
    make_data = _make_data()
    for name, make in make_data.FILES.items():
        assert (REPO / "data" / name).read_text(encoding="utf-8") == make(), (
            f"data/{name} is out of date: run python data/make_data.py"
        )


def test_nonlinear_csv_has_the_documented_form():
    text = (REPO / "data" / "nonlinear.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "x,y"
    data = np.loadtxt(REPO / "data" / "nonlinear.csv", delimiter=",", skiprows=1)
    assert data.shape == (1000, 2)
    assert 0 <= data[:, 0].min() and data[:, 0].max() <= 1
    assert (data[:, 1] < 0).mean() > 0.2, "a sigmoid output must not be able to fit it"


# Grading tests, run on the reference solution and on wrong answers


def test_reference_solution_passes_every_grading_test():
    assert run_suite(reference_namespace()) == {}


def test_grading_tests_fail_a_sigmoid_that_overflows():
    def sigmoid(x):
        return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))

    namespace = reference_namespace(sigmoid=sigmoid)
    assert set(run_suite(namespace, ["q1"])) == {"activations_for_large_inputs"}


def test_grading_tests_fail_a_forward_difference():
    def numerical_derivative(f, x, h):
        return (f(np.asarray(x) + h) - f(np.asarray(x))) / h

    namespace = reference_namespace(numerical_derivative=numerical_derivative)
    assert "numerical_derivative_on_arrays" in run_suite(namespace, ["q2"])


def test_grading_tests_fail_a_backward_pass_without_the_hidden_derivative():
    def backward(X, T, W1, b1, W2, b2):
        grads = ref.backward(X, T, W1, b1, W2, b2)
        H, _ = ref.forward(X, W1, b1, W2, b2)
        hidden = grads["delta_out"] @ np.asarray(W2).T
        return dict(
            grads, delta_hidden=hidden, grad_W1=np.asarray(X).T @ hidden, grad_b1=hidden.sum(axis=0)
        )

    namespace = reference_namespace(backward=backward)
    assert set(run_suite(namespace, ["q4"])) == {
        "backward_matches_reference",
        "backward_matches_finite_differences",
    }


def test_grading_tests_fail_a_regression_whose_first_layer_never_learns():
    def fit_regression(X, T, params, learning_rate, epochs):
        trained, losses = ref.fit_regression(X, T, params, learning_rate, epochs)
        return dict(trained, W1=np.asarray(params["W1"]), b1=np.asarray(params["b1"])), losses

    failed = run_suite(reference_namespace(fit_regression=fit_regression), ["q6"])
    assert "W1" in failed["fit_regression_beats_line"]
    assert "W1" in failed["fit_regression_other_splits"]


def test_grading_tests_fail_a_sigmoid_output_layer():
    def predict_regression(X, params):
        return act.sigmoid(ref.predict_regression(X, params))

    failed = run_suite(reference_namespace(predict_regression=predict_regression), ["q6"])
    # The fit itself is judged by the reference network on the returned
    # parameters; a sigmoid output in training is caught by the
    # "sigmoid-output" sample below.
    assert {"predict_regression_example", "predict_regression_random"} <= set(failed)


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="the course's shared data folder is absent")
def test_regression_grading_tests_pass_on_the_textbook_data(monkeypatch):
    path = SHARED_DATA / "nonlinear.csv"
    monkeypatch.setattr(grading, "DATA_PATH", path)
    assert grading._regression_data()[0].shape == (1000, 1)
    assert run_suite(reference_namespace(), ["q6"]) == {}


# The bundled samples (graded once per session with real kernels)


@pytest.mark.parametrize(
    ("sample", "failing"),
    [
        ("correct", set()),
        (
            "derivative-one-plus",
            {
                "derivative_values",
                "activations_on_arrays",
                "activations_for_large_inputs",
                "derivative_check_passes",
            },
        ),
        (
            "hidden-derivative-forgotten",
            {
                "backward_matches_reference",
                "backward_matches_finite_differences",
                "train_xor_solves_xor",
                "train_xor_from_several_seeds",
                "train_xor_is_gradient_descent",
            },
        ),
        (
            "update-sign-flipped",
            {
                "train_xor_solves_xor",
                "train_xor_from_several_seeds",
                "train_xor_is_gradient_descent",
            },
        ),
        (
            "sigmoid-output",
            {
                "predict_regression_example",
                "predict_regression_random",
                "fit_regression_beats_line",
                "fit_regression_other_splits",
                "fit_regression_is_gradient_descent",
            },
        ),
    ],
)
def test_samples_fail_exactly_the_tests_of_their_mistake(graded_samples, sample, failing):
    results = {r.submission: r for r in graded_samples("backprop").results}
    result = results[sample]
    assert result.status == "ok", result.message
    assert {t.name for t in result.tests if not t.passed} == failing


def test_sigmoid_output_sample_is_told_about_the_straight_line(graded_samples):
    results = {r.submission: r for r in graded_samples("backprop").results}
    detail = next(
        t.detail for t in results["sigmoid-output"].tests if t.name == "fit_regression_beats_line"
    )
    assert "직선 회귀" in detail
