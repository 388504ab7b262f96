"""Grading tests of the perceptron assignment (LAB 7-1 to 7-3).

Public tests mirror the checks in the student notebook; hidden tests use
seeded random inputs and compare with :mod:`reference.perceptron`.
"""

from __future__ import annotations

import numpy as np

from autograder.spec import Failure, Suite, as_array, as_number, assert_close
from reference import perceptron as ref

suite = Suite("perceptron")

X_TABLE = ref.TRUTH_TABLE_INPUTS
GATES = ("OR", "AND", "NAND", "NOR")

#: The settings the notebook gives for q5.
Q5_LEARNING_RATE = 0.1
Q5_MAX_EPOCHS = 20


def _labels(value, what, n):
    """A vector of n outputs, each -1 or 1."""
    outputs = as_array(value, what)
    if outputs.size != n or outputs.ndim > 1 and outputs.shape != (n,):
        raise Failure(f"{what}: 모양이 {outputs.shape} 입니다. ({n},) 이어야 합니다")
    outputs = outputs.reshape(n)
    if not np.all(np.isin(outputs, (-1, 1))):
        raise Failure(f"{what}: 출력은 -1 또는 1 이어야 합니다")
    return outputs


def _separable_problem(rng, n, d):
    """Random inputs labelled by a random hyperplane, with a margin."""
    true_w = rng.normal(size=d)
    X = rng.uniform(-1, 1, size=(n, d))
    s = X @ true_w + 0.2
    keep = np.abs(s) > 0.15
    X = X[keep]
    return np.round(X, 3), np.where(X @ true_w + 0.2 > 0, 1, -1)


def training_result(value, what, d):
    """Unpack ``(weights, bias, corrections)`` as returned by train."""
    if not isinstance(value, (tuple, list)) or len(value) != 3:
        raise Failure(f"{what}: (weights, bias, corrections) 세 값을 돌려주어야 합니다")
    weights = as_array(value[0], f"{what}의 weights")
    if weights.size != d:
        raise Failure(f"{what}의 weights: 원소가 {weights.size}개입니다. {d}개여야 합니다")
    bias = as_number(value[1], f"{what}의 bias")
    corrections = as_array(value[2], f"{what}의 corrections").reshape(-1)
    return weights.reshape(d), bias, corrections


# q1: step


@suite.test("q1", points=1, message="step(s)는 s > 0 이면 1, 그렇지 않으면(0 포함) -1 입니다.")
def step_on_scalars(nb):
    for s, expected in [(2.5, 1), (0.001, 1), (-0.3, -1), (0.0, -1), (0, -1)]:
        assert_close(nb.call("step", s), expected, what=f"step({s})", shape=False)


@suite.test(
    "q1",
    points=1,
    hidden=True,
    message="step 은 배열을 받으면 원소마다 계산한 같은 모양의 배열을 돌려주어야 합니다.",
)
def step_on_arrays(nb):
    rng = np.random.default_rng(101)
    s = np.round(rng.normal(size=(4, 5)), 2)
    s[0, :2] = 0.0
    assert_close(nb.call("step", s), ref.step(s), what="step(2차원 배열)")
    v = rng.normal(size=7)
    assert_close(nb.call("step", v), ref.step(v), what="step(1차원 배열)")


# q2: predict


@suite.test("q2", points=1, message="predict 는 각 입력 행의 가중합에 step 을 적용합니다.")
def predict_truth_table(nb):
    w, b = np.array([1.0, 1.0]), -1.0
    got = _labels(nb.call("predict", X_TABLE, w, b), "predict(X, [1, 1], -1)", 4)
    assert_close(got, ref.predict(X_TABLE, w, b), what="predict(X, [1, 1], -1)")


@suite.test(
    "q2",
    points=1,
    hidden=True,
    message="입력의 개수와 차원이 달라도, 출력의 모양은 (n,) 이어야 합니다.",
)
def predict_random_batches(nb):
    rng = np.random.default_rng(202)
    for n, d in [(30, 3), (1, 2), (12, 5)]:
        X = rng.normal(size=(n, d))
        w = rng.normal(size=d)
        b = float(rng.normal())
        got = nb.call("predict", X, w, b)
        assert_close(got, ref.predict(X, w, b), what=f"predict(n={n}, d={d})")


# q3: hand-chosen AND and OR


def _gate_check(nb, gate):
    w = as_array(nb.get(f"w_{gate.lower()}"), f"w_{gate.lower()}")
    if w.size != 2:
        raise Failure(f"w_{gate.lower()}: 연결강도는 입력마다 하나씩, 2개여야 합니다")
    b = as_number(nb.get(f"b_{gate.lower()}"), f"b_{gate.lower()}")
    got = ref.predict(X_TABLE, w.reshape(2), b)
    wrong = np.flatnonzero(got != ref.GATE_TARGETS[gate])
    if wrong.size:
        x = X_TABLE[wrong[0]].tolist()
        raise Failure(f"{gate}: 입력 {x} 에서 출력이 {got[wrong[0]]} 입니다")


@suite.test(
    "q3",
    points=1,
    message="w_and, b_and 로 만든 퍼셉트론이 AND 진리표를 재현해야 합니다.",
)
def and_weights(nb):
    _gate_check(nb, "AND")


@suite.test("q3", points=1, message="w_or, b_or 로 만든 퍼셉트론이 OR 진리표를 재현해야 합니다.")
def or_weights(nb):
    _gate_check(nb, "OR")


# q4: train


@suite.test(
    "q4",
    points=1,
    message="train 은 (weights, bias, corrections) 를 돌려주고, AND 를 학습해야 합니다.",
)
def train_learns_and(nb):
    t = ref.GATE_TARGETS["AND"]
    weights, bias, corrections = training_result(
        nb.call("train", X_TABLE, t, 0.1, 20), "train(AND)", 2
    )
    if corrections.size == 0 or corrections[-1] != 0:
        raise Failure("train(AND): 마지막 에포크의 수정 횟수가 0 이 아닙니다")
    if corrections.size > 20:
        raise Failure("train(AND): max_epochs 보다 많은 에포크를 돌았습니다")
    if not ref.reproduces(weights, bias, "AND"):
        raise Failure("train(AND): 학습한 연결강도와 편향이 AND 를 재현하지 못합니다")


@suite.test(
    "q4",
    points=2,
    hidden=True,
    message="오류가 난 샘플에서만, 순서대로, 연결강도와 편향을 함께 고쳐야 합니다.",
)
def train_matches_rule(nb):
    rng = np.random.default_rng(404)
    for trial in range(4):
        X, t = _separable_problem(rng, n=25, d=3)
        lr = [0.1, 0.5, 1.0, 0.05][trial]
        expected = ref.train(X, t, lr, 50)
        weights, bias, corrections = training_result(nb.call("train", X, t, lr, 50), "train", 3)
        assert_close(weights, expected[0], what="weights", rtol=1e-6, atol=1e-9)
        assert_close(bias, expected[1], what="bias", shape=False)
        assert_close(corrections, expected[2], what="corrections")


@suite.test(
    "q4",
    points=1,
    hidden=True,
    message="수렴하지 않으면 max_epochs 번의 에포크 뒤에 멈추어야 합니다.",
)
def train_stops_at_max_epochs(nb):
    t = ref.GATE_TARGETS["XOR"]
    for epochs in (3, 7):
        _, _, corrections = training_result(
            nb.call("train", X_TABLE, t, 0.1, epochs), "train(XOR)", 2
        )
        if corrections.size != epochs:
            raise Failure(f"train(XOR, max_epochs={epochs}): {corrections.size} 에포크")
        # The rule is deterministic from zero weights: the counts are known.
        expected = ref.train(X_TABLE, t, 0.1, epochs)[2]
        assert_close(corrections, expected, what=f"train(XOR, max_epochs={epochs})의 corrections")


# q5: learning the gates with train


def _learned(nb):
    learned = nb.get("learned")
    if not isinstance(learned, dict):
        raise Failure("learned: 게이트 이름을 키로 하는 딕셔너리여야 합니다")
    missing = [g for g in GATES if g not in learned]
    if missing:
        raise Failure(f"learned: {', '.join(missing)} 이(가) 없습니다")
    return learned


@suite.test(
    "q5",
    points=1,
    message="learned 의 네 게이트 모두, 학습한 연결강도와 편향이 진리표를 재현해야 합니다.",
)
def learned_gates_reproduce(nb):
    learned = _learned(nb)
    for gate in GATES:
        weights, bias, _ = training_result(learned[gate], f"learned['{gate}']", 2)
        if not ref.reproduces(weights, bias, gate):
            raise Failure(f"learned['{gate}']: 진리표를 재현하지 못합니다")


@suite.test(
    "q5",
    points=1,
    hidden=True,
    message="learned 의 값은 주어진 학습률과 에포크로 train 을 실행한 결과여야 합니다.",
)
def learned_gates_come_from_train(nb):
    learned = _learned(nb)
    for gate in GATES:
        weights, bias, corrections = training_result(learned[gate], f"learned['{gate}']", 2)
        again = training_result(
            nb.call(
                "train",
                X_TABLE,
                ref.GATE_TARGETS[gate],
                Q5_LEARNING_RATE,
                Q5_MAX_EPOCHS,
            ),
            f"train({gate})",
            2,
        )
        assert_close(weights, again[0], what=f"learned['{gate}'] 의 weights")
        assert_close(bias, again[1], what=f"learned['{gate}'] 의 bias", shape=False)
        if corrections.size == 0 or corrections[-1] != 0:
            raise Failure(f"learned['{gate}']: 학습이 수렴하지 않았습니다")
