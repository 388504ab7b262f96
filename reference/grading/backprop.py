"""Grading tests of the backpropagation assignment (LAB 7-5, LAB 7-6).

Public tests mirror the checks in the student notebook; hidden tests use
seeded random weights and inputs, compare with :mod:`reference.activations`
and :mod:`reference.mlp`, and check gradients against finite differences of
the loss. The regression tests read ``DATA_PATH`` and compare the student's
network with a straight line fitted by least squares on the same split.
"""

from __future__ import annotations

import numpy as np

from autograder.assignments import project_root
from autograder.protocol import Code
from autograder.spec import (
    Failure,
    Suite,
    as_array,
    as_number,
    assert_close,
    assert_no_warnings,
)
from reference import activations as act
from reference import mlp as ref

suite = Suite("backprop", data_files=["nonlinear.csv"])

#: The data set of q6; tests may point this at another copy of the same format.
DATA_PATH = project_root() / "data" / "nonlinear.csv"

X_XOR = ref.XOR_INPUTS
T_XOR = ref.XOR_TARGETS
XOR_NAMES = ("W1", "b1", "W2", "b2")
XOR_SHAPES = {"W1": (2, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)}
GRADIENT_SHAPES = {
    "delta_out": None,
    "delta_hidden": None,
    "grad_W1": (2, 3),
    "grad_b1": (3,),
    "grad_W2": (3, 2),
    "grad_b2": (2,),
}

#: The settings the notebook gives for q5 and q6.
XOR_SEED = 1
XOR_LEARNING_RATE = 2.0
XOR_EPOCHS = 1000
REGRESSION_SEED = 0
REGRESSION_LEARNING_RATE = 0.5
REGRESSION_EPOCHS = 500

#: Largest held-out MSE allowed, as a fraction of the straight line's.
MSE_RATIO = 0.8

#: A parameter "changed" when some entry moved by more than this.
CHANGED = 1e-6


def _split(n: int, seed: int):
    """Row indices of an 80/20 train/test split, as the notebook makes it."""
    order = np.random.default_rng(seed).permutation(n)
    cut = int(0.8 * n)
    return order[:cut], order[cut:]


def _regression_data():
    """``(X, T)``, each of shape (n, 1), from :data:`DATA_PATH`."""
    data = np.loadtxt(DATA_PATH, delimiter=",", skiprows=1, ndmin=2)
    return data[:, :1], data[:, 1:2]


def _xor_params(rng, scale=1.0):
    return {name: rng.normal(scale=scale, size=shape) for name, shape in XOR_SHAPES.items()}


def _pair(value, what, shapes):
    """Unpack a returned pair of arrays of the given shapes."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Failure(f"{what}: 두 값을 튜플로 돌려주어야 합니다")
    return tuple(
        as_array(v, f"{what}의 {i + 1}번째 값", shape=s)
        for i, (v, s) in enumerate(zip(value, shapes))
    )


def _params_dict(value, what, shapes):
    """A dict of parameter arrays with exactly the given shapes."""
    if not isinstance(value, dict):
        raise Failure(f"{what}: 매개변수 이름을 키로 하는 딕셔너리여야 합니다")
    missing = [name for name in shapes if name not in value]
    if missing:
        raise Failure(f"{what}: {', '.join(missing)} 이(가) 없습니다")
    return {name: as_array(value[name], f"{what}['{name}']", shape=s) for name, s in shapes.items()}


def _training_result(value, what, shapes, epochs):
    """Unpack ``(params, losses)`` as returned by the training functions."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise Failure(f"{what}: (params, losses) 두 값을 돌려주어야 합니다")
    params = _params_dict(value[0], f"{what}의 params", shapes)
    losses = as_array(value[1], f"{what}의 losses").reshape(-1)
    if losses.size != epochs:
        raise Failure(
            f"{what}의 losses: 길이가 {losses.size} 입니다. 에포크 수 {epochs} 여야 합니다"
        )
    return params, losses


def _gradients(value, what, n):
    if not isinstance(value, dict):
        raise Failure(f"{what}: 딕셔너리를 돌려주어야 합니다")
    missing = [key for key in GRADIENT_SHAPES if key not in value]
    if missing:
        raise Failure(f"{what}: {', '.join(missing)} 이(가) 없습니다")
    shapes = dict(GRADIENT_SHAPES, delta_out=(n, 2), delta_hidden=(n, 3))
    return {key: as_array(value[key], f"{what}['{key}']", shape=s) for key, s in shapes.items()}


def _xor_loss(X, T, params):
    _, Y = ref.forward(X, *(params[n] for n in XOR_NAMES))
    return ref.loss(Y, T)


def _finite_difference(loss, params, name, h=1e-6):
    """Central differences of ``loss(params)`` in every entry of ``params[name]``."""
    grad = np.zeros_like(params[name])
    for index in np.ndindex(grad.shape):
        up = {k: v.copy() for k, v in params.items()}
        down = {k: v.copy() for k, v in params.items()}
        up[name][index] += h
        down[name][index] -= h
        grad[index] = (loss(up) - loss(down)) / (2 * h)
    return grad


def _classifies_xor(params, what):
    _, Y = ref.forward(X_XOR, *(params[n] for n in XOR_NAMES))
    got = ref.classify(Y)
    wrong = np.flatnonzero(got != ref.classify(T_XOR))
    if wrong.size:
        x = X_XOR[wrong[0]].astype(int).tolist()
        raise Failure(
            f"{what}: 학습한 신경망이 입력 {x} 을(를) 잘못 분류합니다 ({wrong.size}개 틀림)"
        )


def _regression_shapes(sizes):
    n_in, h1, h2, n_out = sizes
    return {
        "W1": (n_in, h1),
        "b1": (h1,),
        "W2": (h1, h2),
        "b2": (h2,),
        "W3": (h2, n_out),
        "b3": (n_out,),
    }


def _fit(nb, X, T, initial, what):
    """Call the student's fit_regression with the notebook's settings."""
    params, _ = _training_result(
        nb.call("fit_regression", X, T, initial, REGRESSION_LEARNING_RATE, REGRESSION_EPOCHS),
        what,
        _regression_shapes(ref.REGRESSION_SIZES),
        REGRESSION_EPOCHS,
    )
    return params


def _check_fitted(nb, params, initial, split, what):
    """Every layer moved, and the held-out MSE beats the straight line's enough."""
    still = [n for n in ref.REGRESSION_NAMES if np.max(np.abs(params[n] - initial[n])) <= CHANGED]
    if still:
        raise Failure(f"{what}: {', '.join(still)} 이(가) 학습 중에 바뀌지 않았습니다")
    X, T = _regression_data()
    train, test = split
    # The fit is judged by the reference network on the returned parameters, so
    # a student's predict_regression cannot stand in for training.
    predicted = ref.predict_regression(X[test], params)
    if not np.all(np.isfinite(predicted)):
        raise Failure(f"{what}: 예측에 nan 이나 inf 가 들어 있습니다")
    mse = float(np.mean((predicted - T[test]) ** 2))
    baseline = ref.line_fit_mse(X[train], T[train], X[test], T[test])
    if mse > MSE_RATIO * baseline:
        raise Failure(
            f"{what}: 시험 데이터의 평균제곱오차 {mse:.4g} 가 직선 회귀({baseline:.4g})의 "
            f"{MSE_RATIO:g} 배보다 큽니다"
        )


# q1: sigmoid and its derivative


@suite.test("q1", points=1, message="sigmoid(x) = 1 / (1 + exp(-x)) 를 원소마다 계산합니다.")
def sigmoid_values(nb):
    assert_close(nb.call("sigmoid", 0.0), 0.5, what="sigmoid(0)", shape=False)
    x = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])
    assert_close(nb.call("sigmoid", x), act.sigmoid(x), what="sigmoid([-2, -0.5, 0, 1, 3])")


@suite.test(
    "q1",
    points=1,
    message="sigmoid_derivative(x) 는 sigmoid(x) * (1 - sigmoid(x)) 입니다.",
)
def derivative_values(nb):
    assert_close(
        nb.call("sigmoid_derivative", 0.0), 0.25, what="sigmoid_derivative(0)", shape=False
    )
    x = np.array([-2.0, 0.0, 3.0])
    assert_close(
        nb.call("sigmoid_derivative", x),
        act.sigmoid_derivative(x),
        what="sigmoid_derivative([-2, 0, 3])",
    )


@suite.test(
    "q1",
    points=1,
    hidden=True,
    message="두 함수 모두 배열을 받으면 원소마다 계산한 같은 모양의 배열을 돌려주어야 합니다.",
)
def activations_on_arrays(nb):
    rng = np.random.default_rng(1101)
    for shape in [(4, 5), (7,), (2, 3, 2)]:
        x = rng.normal(scale=4.0, size=shape)
        assert_close(nb.call("sigmoid", x), act.sigmoid(x), what=f"sigmoid(모양 {shape})")
        assert_close(
            nb.call("sigmoid_derivative", x),
            act.sigmoid_derivative(x),
            what=f"sigmoid_derivative(모양 {shape})",
        )


@suite.test(
    "q1",
    points=1,
    hidden=True,
    message="|x| 가 1000 까지 커도 경고 없이, nan 이나 inf 없이 계산해야 합니다.",
)
def activations_for_large_inputs(nb):
    x = np.array([-1000.0, -745.0, -710.0, -50.0, 0.0, 50.0, 710.0, 745.0, 1000.0])
    for name, expected in [
        ("sigmoid", act.sigmoid(x)),
        ("sigmoid_derivative", act.sigmoid_derivative(x)),
    ]:
        got = nb.call(name, x)
        assert_no_warnings(nb, f"{name}(큰 |x|)")
        assert_close(got, expected, what=f"{name}(큰 |x|)", rtol=1e-6, atol=1e-12)


# q2: numerical derivative


@suite.test(
    "q2",
    points=1,
    message="numerical_derivative 는 중심 차분 (f(x+h) - f(x-h)) / (2h) 입니다.",
)
def numerical_derivative_of_cube(nb):
    got = nb.call("numerical_derivative", Code("lambda x: x ** 3"), 2.0, 1e-4)
    assert_close(got, 12.0, what="numerical_derivative(x**3, 2.0, 1e-4)", rtol=1e-6, shape=False)


@suite.test(
    "q2",
    points=1,
    hidden=True,
    message="배열 x 에서도 원소마다 중심 차분으로 계산해야 합니다 (전진 차분이 아닙니다).",
)
def numerical_derivative_on_arrays(nb):
    rng = np.random.default_rng(1202)
    x = rng.uniform(-3, 3, size=(3, 4))
    for source, f, h in [
        ("np.sin", np.sin, 1e-5),
        ("lambda x: x ** 2", lambda v: v**2, 0.1),
        ("lambda x: np.exp(0.5 * x)", lambda v: np.exp(0.5 * v), 1e-3),
    ]:
        expected = act.numerical_derivative(f, x, h)
        got = nb.call("numerical_derivative", Code(source), x, h)
        assert_close(got, expected, what=f"numerical_derivative({source}, h={h:g})", rtol=1e-7)


@suite.test(
    "q2",
    points=1,
    message=(
        "derivative_gap 은 수치 미분과 sigmoid_derivative 의 최대 차이이며, 아주 작아야 합니다."
    ),
)
def derivative_check_passes(nb):
    gap = as_number(nb.get("derivative_gap"), "derivative_gap")
    if not np.isfinite(gap) or gap < 0:
        raise Failure("derivative_gap: 0 이상의 유한한 숫자여야 합니다")
    if gap > 1e-6:
        raise Failure(f"derivative_gap: {gap:.3g} 입니다. 1e-6 보다 작아야 합니다")


# q3: forward pass


@suite.test(
    "q3",
    points=1,
    message="forward 는 (H, Y) 를 돌려줍니다. H 는 (n, 3), Y 는 (n, 2) 입니다.",
)
def forward_on_xor_inputs(nb):
    params = ref.init_xor(0)
    args = [params[n] for n in XOR_NAMES]
    H, Y = _pair(nb.call("forward", X_XOR, *args), "forward(X, ...)", [(4, 3), (4, 2)])
    expected_H, expected_Y = ref.forward(X_XOR, *args)
    assert_close(H, expected_H, what="forward 의 H")
    assert_close(Y, expected_Y, what="forward 의 Y")


@suite.test(
    "q3",
    points=1,
    hidden=True,
    message=(
        "입력의 개수가 달라도, 은닉층과 출력층 모두에서 편향을 더한 뒤 시그모이드를 적용합니다."
    ),
)
def forward_on_random_batches(nb):
    rng = np.random.default_rng(1303)
    for n in (1, 6):
        X = rng.normal(size=(n, 2))
        params = _xor_params(rng)
        args = [params[k] for k in XOR_NAMES]
        H, Y = _pair(nb.call("forward", X, *args), f"forward(n={n})", [(n, 3), (n, 2)])
        expected_H, expected_Y = ref.forward(X, *args)
        assert_close(H, expected_H, what=f"forward(n={n}) 의 H")
        assert_close(Y, expected_Y, what=f"forward(n={n}) 의 Y")


# q4: backward pass


@suite.test(
    "q4",
    points=1,
    message="backward 는 여섯 값을 담은 딕셔너리를 돌려주고, grad_W2 가 수치 미분과 맞아야 합니다.",
)
def backward_output_layer(nb):
    params = ref.init_xor(0)
    args = [params[n] for n in XOR_NAMES]
    grads = _gradients(nb.call("backward", X_XOR, T_XOR, *args), "backward(X, T, ...)", 4)
    numeric = _finite_difference(lambda p: _xor_loss(X_XOR, T_XOR, p), params, "W2")
    assert_close(grads["grad_W2"], numeric, what="grad_W2", rtol=1e-5, atol=1e-7)


@suite.test(
    "q4",
    points=1,
    hidden=True,
    message=(
        "출력층과 은닉층의 델타, "
        "모든 연결강도와 편향의 기울기가 오차 역전파의 결과와 같아야 합니다."
    ),
)
def backward_matches_reference(nb):
    rng = np.random.default_rng(1404)
    for n in (1, 5):
        X = rng.normal(size=(n, 2))
        T = rng.uniform(0, 1, size=(n, 2))
        params = _xor_params(rng)
        args = [params[k] for k in XOR_NAMES]
        grads = _gradients(nb.call("backward", X, T, *args), f"backward(n={n})", n)
        expected = ref.backward(X, T, *args)
        for key in GRADIENT_SHAPES:
            assert_close(grads[key], expected[key], what=f"backward(n={n})['{key}']")


@suite.test(
    "q4",
    points=1,
    hidden=True,
    message="모든 연결강도와 편향의 기울기가 오차 E 의 수치 미분과 맞아야 합니다.",
)
def backward_matches_finite_differences(nb):
    rng = np.random.default_rng(1405)
    for n in (3, 8):
        X = rng.uniform(-1, 2, size=(n, 2))
        T = rng.integers(0, 2, size=(n, 2)).astype(float)
        params = _xor_params(rng, scale=1.5)
        grads = _gradients(
            nb.call("backward", X, T, *(params[k] for k in XOR_NAMES)), f"backward(n={n})", n
        )
        for name in XOR_NAMES:
            numeric = _finite_difference(lambda p, X=X, T=T: _xor_loss(X, T, p), params, name)
            assert_close(grads[f"grad_{name}"], numeric, what=f"grad_{name}", rtol=1e-5, atol=1e-7)


# q5: training on XOR


@suite.test(
    "q5",
    points=1,
    message="train_xor 로 학습한 신경망이 XOR 의 네 입력을 모두 맞게 분류해야 합니다.",
)
def train_xor_solves_xor(nb):
    params, _ = _training_result(
        nb.call("train_xor", X_XOR, T_XOR, ref.init_xor(XOR_SEED), XOR_LEARNING_RATE, XOR_EPOCHS),
        "train_xor",
        XOR_SHAPES,
        XOR_EPOCHS,
    )
    _classifies_xor(params, "train_xor")


@suite.test(
    "q5",
    points=2,
    hidden=True,
    message="다른 초기값에서 시작해도, 주어진 에포크 안에 XOR 을 풀고 오차가 줄어야 합니다.",
)
def train_xor_from_several_seeds(nb):
    seen = []
    for seed in (2, 3, 5):
        what = f"train_xor(초기값 seed={seed})"
        initial = ref.init_xor(seed)
        params, losses = _training_result(
            nb.call("train_xor", X_XOR, T_XOR, initial, XOR_LEARNING_RATE, XOR_EPOCHS),
            what,
            XOR_SHAPES,
            XOR_EPOCHS,
        )
        # The first loss is that of the given starting point: training starts there.
        assert_close(
            losses[0],
            _xor_loss(X_XOR, T_XOR, initial),
            what=f"{what}의 losses[0]",
            shape=False,
            rtol=1e-6,
            atol=1e-9,
        )
        if not losses[-1] < losses[0]:
            raise Failure(f"{what}: 오차가 줄지 않았습니다")
        _classifies_xor(params, what)
        seen.append(np.concatenate([np.ravel(params[n]) for n in XOR_NAMES]))
    if any(np.allclose(seen[0], other) for other in seen[1:]):
        raise Failure(
            "train_xor: 초기값이 달라도 같은 결과가 나옵니다. 주어진 params 에서 시작하세요"
        )


@suite.test(
    "q5",
    points=1,
    hidden=True,
    message="에포크마다 네 입력 전체의 기울기로 한 번, 기울기의 반대 방향으로 갱신해야 합니다.",
)
def train_xor_is_gradient_descent(nb):
    rng = np.random.default_rng(1505)
    initial = _xor_params(rng)
    expected, expected_losses = ref.train_xor(X_XOR, T_XOR, initial, 0.7, 3)
    params, losses = _training_result(
        nb.call("train_xor", X_XOR, T_XOR, initial, 0.7, 3), "train_xor(3 에포크)", XOR_SHAPES, 3
    )
    assert_close(losses, expected_losses, what="train_xor(3 에포크)의 losses")
    for name in XOR_NAMES:
        assert_close(params[name], expected[name], what=f"train_xor(3 에포크)의 {name}")


# q6: regression with two hidden layers (LAB 7-6)


@suite.test(
    "q6",
    points=1,
    message=(
        "predict_regression 은 시그모이드 은닉층 두 개와 선형 "
        "출력층을 거친 (n, 1) 배열을 돌려줍니다."
    ),
)
def predict_regression_example(nb):
    params = ref.init_regression(REGRESSION_SEED)
    X = np.array([[0.0], [0.25], [0.5], [1.0]])
    got = nb.call("predict_regression", X, params)
    assert_close(got, ref.predict_regression(X, params), what="predict_regression(X, params)")


@suite.test(
    "q6",
    points=1,
    hidden=True,
    message="은닉층의 크기는 params 의 모양에서 정해집니다. 출력층에는 활성화 함수가 없습니다.",
)
def predict_regression_random(nb):
    rng = np.random.default_rng(1606)
    for sizes in [(1, 4, 3, 1), (1, 10, 10, 1)]:
        params = {
            name: rng.normal(scale=2.0, size=shape)
            for name, shape in _regression_shapes(sizes).items()
        }
        X = rng.uniform(0, 1, size=(7, 1))
        got = nb.call("predict_regression", X, params)
        assert_close(got, ref.predict_regression(X, params), what=f"predict_regression({sizes})")


@suite.test(
    "q6",
    points=2,
    message=(
        "fit_regression 으로 학습하면 모든 층이 갱신되고, 시험 데이터의 평균제곱오차가 "
        "직선 회귀의 0.8 배 이하여야 합니다."
    ),
)
def fit_regression_beats_line(nb):
    X, _ = _regression_data()
    shapes = _regression_shapes(ref.REGRESSION_SIZES)
    params = _params_dict(nb.get("params_fit"), "params_fit", shapes)
    initial = ref.init_regression(REGRESSION_SEED)
    _check_fitted(nb, params, initial, _split(len(X), 0), "params_fit")


@suite.test(
    "q6",
    points=1,
    hidden=True,
    message=(
        "다른 분할과 다른 초기값에서도 모든 층이 갱신되고 직선 회귀보다 충분히 잘 맞아야 합니다."
    ),
)
def fit_regression_other_splits(nb):
    X, T = _regression_data()
    train, test = _split(len(X), 1)
    initial = ref.init_regression(1)
    what = "fit_regression(다른 분할과 초기값)"
    params = _fit(nb, X[train], T[train], initial, what)
    _check_fitted(nb, params, initial, (train, test), what)


@suite.test(
    "q6",
    points=1,
    hidden=True,
    message="에포크마다 E = 1/(2n) Σ(y - t)² 의 기울기로 여섯 매개변수를 모두 한 번씩 갱신합니다.",
)
def fit_regression_is_gradient_descent(nb):
    rng = np.random.default_rng(1607)
    sizes = (1, 4, 3, 1)
    X = rng.uniform(0, 1, size=(20, 1))
    T = rng.normal(size=(20, 1))
    initial = ref.init_regression(5, sizes)
    expected, expected_losses = ref.fit_regression(X, T, initial, 0.3, 2)
    params, losses = _training_result(
        nb.call("fit_regression", X, T, initial, 0.3, 2),
        "fit_regression(2 에포크)",
        _regression_shapes(sizes),
        2,
    )
    assert_close(losses, expected_losses, what="fit_regression(2 에포크)의 losses")
    for name in ref.REGRESSION_NAMES:
        assert_close(params[name], expected[name], what=f"fit_regression(2 에포크)의 {name}")
