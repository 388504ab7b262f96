"""Grading tests of the XOR assignment (challenge 7.1 and LAB 7-4).

Public tests mirror the checks in the student notebook; hidden tests use
seeded random inputs and compare with :mod:`reference.xor`. Question q4 is a
written answer, graded by hand.
"""

from __future__ import annotations

import numpy as np

from autograder.spec import Failure, Suite, as_array, assert_close
from reference import xor as ref
from reference.grading.perceptron import training_result

suite = Suite("xor")

X_TABLE = ref.TRUTH_TABLE_INPUTS
T_XOR = ref.GATE_TARGETS["XOR"]

#: The settings the notebook gives for training (q1 and q5).
LEARNING_RATE = 0.1
MAX_EPOCHS = 20

#: The grid the notebook gives for the search in q3.
GRID = np.linspace(-1, 1, 5)


def _boolean(value, what):
    """``value`` as a Python bool; only True/False (or a numpy bool) count."""
    if isinstance(value, bool):
        return value
    if isinstance(value, np.ndarray) and value.dtype == bool and value.size == 1:
        return bool(value.reshape(()))
    raise Failure(f"{what}: True 또는 False 여야 합니다")


def _corrections(nb, name):
    corrections = as_array(nb.get(name), name)
    if corrections.ndim != 1:
        raise Failure(f"{name}: 에포크마다 수정 횟수 하나씩, 1차원이어야 합니다")
    return corrections


def _triples(value, what):
    """A list of ``(w1, w2, b)`` as an array of shape (k, 3), rows sorted."""
    array = as_array(value, what)
    if array.size == 0:
        return np.zeros((0, 3))
    if array.ndim != 2 or array.shape[1] != 3:
        raise Failure(f"{what}: (w1, w2, b) 세 값의 목록이어야 합니다 (모양 {array.shape})")
    return array[np.lexsort(array.T[::-1])]


# q1: training on XOR does not converge


@suite.test(
    "q1",
    points=1,
    message=(
        "xor_corrections 는 max_epochs 번의 에포크마다 고친 횟수이고, "
        "xor_converged 는 학습이 수렴했는지를 True/False 로 답합니다."
    ),
)
def xor_training_does_not_converge(nb):
    corrections = _corrections(nb, "xor_corrections")
    if corrections.size != MAX_EPOCHS:
        raise Failure(
            f"xor_corrections: {corrections.size} 에포크입니다. "
            f"max_epochs = {MAX_EPOCHS} 번 모두 돌아야 합니다"
        )
    if np.any(corrections <= 0):
        raise Failure("xor_corrections: 수정 횟수가 0 인 에포크가 있습니다")
    if _boolean(nb.get("xor_converged"), "xor_converged"):
        raise Failure("xor_converged: 수정 횟수를 보고 학습이 수렴했는지 다시 판단하세요")


@suite.test(
    "q1",
    points=1,
    hidden=True,
    message="xor_corrections 는 주어진 학습률과 에포크로 train 을 실행한 결과여야 합니다.",
)
def xor_corrections_come_from_the_rule(nb):
    expected = ref.train(X_TABLE, T_XOR, LEARNING_RATE, MAX_EPOCHS)
    assert_close(_corrections(nb, "xor_corrections"), expected[2], what="xor_corrections")
    assert_close(nb.get("w_xor"), expected[0], what="w_xor", shape=False)
    assert_close(nb.get("b_xor"), expected[1], what="b_xor", shape=False)


# q2: separates


def _separates(nb, w, b, X, t, what):
    return _boolean(nb.call("separates", w, b, X, t), what)


@suite.test(
    "q2",
    points=1,
    message="separates 는 모든 행의 출력이 목표값과 같을 때만 True 를 돌려줍니다.",
)
def separates_truth_tables(nb):
    w, b = np.array([1.0, 1.0]), -1.0
    for gate, expected in [("AND", True), ("OR", False), ("XOR", False)]:
        got = _separates(
            nb, w, b, X_TABLE, ref.GATE_TARGETS[gate], f"separates(AND 가중치, {gate})"
        )
        if got != expected:
            raise Failure(f"separates([1, 1], -1, X, t_{gate.lower()}): {got} 입니다")


@suite.test(
    "q2",
    points=1,
    hidden=True,
    message="다섯 게이트의 진리표와 여러 연결강도에서, 모든 행을 확인해야 합니다.",
)
def separates_gates_on_a_grid(nb):
    values = np.linspace(-1, 1, 5)
    rng = np.random.default_rng(2201)
    combos = [(w1, w2, b) for w1 in values for w2 in values for b in values]
    picks = rng.choice(len(combos), size=5, replace=False)
    # Weights known to separate each gate make sure True answers are checked too.
    chosen = [combos[i] for i in picks] + [(1, 1, -1), (1, 1, 1), (-1, -1, 1), (-1, -1, -1)]
    for gate, t in ref.GATE_TARGETS.items():
        for w1, w2, b in chosen:
            w = np.array([w1, w2], dtype=float)
            got = _separates(nb, w, float(b), X_TABLE, t, f"separates({gate})")
            if got != ref.separates(w, b, X_TABLE, t):
                raise Failure(f"{gate} 진리표, w = {w.tolist()}, b = {b}: {got} 입니다")


@suite.test(
    "q2",
    points=1,
    hidden=True,
    message="입력의 개수와 차원이 달라도, 어느 행이 틀리든 찾아내야 합니다.",
)
def separates_random_problems(nb):
    rng = np.random.default_rng(2202)
    for trial in range(8):
        n, d = [(20, 3), (7, 2), (12, 5), (1, 4)][trial % 4]
        X = rng.normal(size=(n, d))
        w = rng.normal(size=d)
        b = float(rng.normal())
        t = ref.predict(X, w, b)
        if trial % 2:
            # Flip one target, anywhere but the first row when there is a choice.
            row = int(rng.integers(1, n)) if n > 1 else 0
            t = t.copy()
            t[row] = -t[row]
        got = _separates(nb, w, b, X, t, f"separates(n={n}, d={d})")
        if got != ref.separates(w, b, X, t):
            raise Failure(f"separates(n={n}, d={d}): {got} 입니다")


# q3: why XOR is impossible, and a search that finds nothing


@suite.test(
    "q3",
    points=1,
    message="xor_signs 는 XOR 의 각 행에서 가중합 s 가 가져야 할 부호(1: s > 0, -1: s <= 0)입니다.",
)
def xor_required_signs(nb):
    signs = as_array(nb.get("xor_signs"), "xor_signs")
    if signs.size != 4:
        raise Failure(
            f"xor_signs: 원소가 {signs.size}개입니다. 진리표의 행마다 하나씩 4개여야 합니다"
        )
    if not np.all(np.isin(signs, (-1, 1))):
        raise Failure("xor_signs: 각 원소는 1 또는 -1 이어야 합니다")
    wrong = np.flatnonzero(signs.reshape(4) != ref.required_signs(T_XOR))
    if wrong.size:
        raise Failure(f"xor_signs: {wrong.size}개 행의 부호가 맞지 않습니다")


def _pair(nb, name):
    value = as_array(nb.get(name), name).reshape(-1)
    if value.size != 2 or not np.all(np.isin(value, range(4))) or value[0] == value[1]:
        raise Failure(f"{name}: 서로 다른 두 행 번호(0 ~ 3)여야 합니다")
    return {int(v) for v in value}


@suite.test(
    "q3",
    points=1,
    message=(
        "두 부등식을 더해 2b > 0 이 되는 행 쌍과 2b <= 0 이 되는 행 쌍을 행 번호(0부터)로 답합니다."
    ),
)
def contradicting_pairs(nb):
    if _pair(nb, "pair_positive") != set(ref.POSITIVE_PAIR):
        raise Failure("pair_positive: 두 부등식을 더했을 때 2b > 0 이 되지 않습니다")
    if _pair(nb, "pair_nonpositive") != set(ref.NONPOSITIVE_PAIR):
        raise Failure("pair_nonpositive: 두 부등식을 더했을 때 2b <= 0 이 되지 않습니다")


@suite.test(
    "q3",
    points=1,
    message="격자 탐색은 AND 와 OR 에서 분리하는 연결강도를 찾고, XOR 에서는 하나도 찾지 못합니다.",
)
def grid_search_results(nb):
    for gate in ("AND", "OR"):
        name = f"found_{gate.lower()}"
        found = _triples(nb.get(name), name)
        if found.shape[0] == 0:
            raise Failure(f"{name}: 분리하는 연결강도를 하나도 찾지 못했습니다")
        for w1, w2, b in found:
            if not ref.separates([w1, w2], b, X_TABLE, ref.GATE_TARGETS[gate]):
                raise Failure(f"{name}: ({w1:g}, {w2:g}, {b:g}) 는 {gate} 를 분리하지 못합니다")
    if _triples(nb.get("found_xor"), "found_xor").shape[0]:
        raise Failure("found_xor: XOR 을 분리하는 연결강도가 있을 수 없습니다")


@suite.test(
    "q3",
    points=1,
    hidden=True,
    message="grid_search 는 격자의 모든 (w1, w2, b) 조합 중 분리하는 것을 빠짐없이 돌려줍니다.",
)
def grid_search_matches_reference(nb):
    rng = np.random.default_rng(2301)
    for trial, gate in enumerate(("AND", "NOR", "OR", "XOR")):
        # Multiples of 1/4 keep every weighted sum exact in floating point.
        values = np.sort(rng.choice(np.arange(-8, 9) / 4, size=4 + trial, replace=False))
        t = ref.GATE_TARGETS[gate]
        expected = ref.grid_search(X_TABLE, t, values)
        got = _triples(nb.call("grid_search", X_TABLE, t, values), f"grid_search({gate})")
        if got.shape != expected.shape:
            raise Failure(f"grid_search({gate}): {got.shape[0]}개를 찾았습니다")
        assert_close(got, expected, what=f"grid_search({gate})")


# q4: why no single perceptron computes XOR (read by the instructor)

suite.manual("q4", points=2)


# q5: polynomial features make XOR separable


@suite.test(
    "q5",
    points=1,
    message="polynomial_features 는 각 행 (x1, x2) 를 (x1², x1, x1·x2, x2, x2²) 로 바꿉니다.",
)
def features_of_truth_table(nb):
    got = nb.call("polynomial_features", X_TABLE)
    assert_close(got, ref.polynomial_features(X_TABLE), what="polynomial_features(X)")


@suite.test(
    "q5",
    points=1,
    message="변환한 XOR 입력으로 학습하면 수렴하고, 학습한 퍼셉트론이 XOR 을 재현해야 합니다.",
)
def mapped_xor_is_learned(nb):
    Z = as_array(nb.get("Z_xor"), "Z_xor")
    if Z.ndim != 2 or Z.shape[0] != 4:
        raise Failure(f"Z_xor: 모양이 {Z.shape} 입니다. 진리표의 행마다 한 행이어야 합니다")
    weights, bias, corrections = training_result(
        (nb.get("w_poly"), nb.get("b_poly"), nb.get("poly_corrections")),
        "(w_poly, b_poly, poly_corrections)",
        Z.shape[1],
    )
    if corrections.size == 0 or corrections[-1] != 0 or corrections.size > MAX_EPOCHS:
        raise Failure("poly_corrections: max_epochs 안에 수정 횟수가 0 인 에포크가 없습니다")
    outputs = ref.predict(Z, weights, bias)
    if not np.array_equal(outputs, T_XOR):
        raise Failure("(w_poly, b_poly): 변환한 입력에서 XOR 을 재현하지 못합니다")


@suite.test(
    "q5",
    points=2,
    hidden=True,
    message="polynomial_features 는 -1/1 이 아닌 실수 입력에서도, 몇 행이든 맞아야 합니다.",
)
def features_of_random_inputs(nb):
    rng = np.random.default_rng(2501)
    for n in (9, 1, 30):
        X = rng.uniform(-3, 3, size=(n, 2))
        got = nb.call("polynomial_features", X)
        assert_close(got, ref.polynomial_features(X), what=f"polynomial_features(n={n})")


@suite.test(
    "q5",
    points=1,
    hidden=True,
    message="Z_xor 와 w_poly, b_poly 는 변환한 진리표로 train 을 실행한 결과여야 합니다.",
)
def mapped_training_matches_rule(nb):
    Z = ref.polynomial_features(X_TABLE)
    assert_close(nb.get("Z_xor"), Z, what="Z_xor")
    expected = ref.train(Z, T_XOR, LEARNING_RATE, MAX_EPOCHS)
    assert_close(nb.get("w_poly"), expected[0], what="w_poly", shape=False)
    assert_close(nb.get("b_poly"), expected[1], what="b_poly", shape=False)
    assert_close(nb.get("poly_corrections"), expected[2], what="poly_corrections")
