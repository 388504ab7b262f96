"""The perceptron reference solution on its own."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from reference import perceptron as ref


def test_step_is_minus_one_at_zero_and_keeps_shape():
    assert ref.step(0) == -1
    assert ref.step(0.5) == 1
    assert isinstance(ref.step(3.0), int)
    s = np.array([[-1.0, 0.0], [1e-9, 2.0]])
    assert_array_equal(ref.step(s), [[-1, -1], [1, 1]])


def test_predict_has_shape_n():
    X = np.ones((5, 3))
    assert ref.predict(X, np.array([1.0, -1.0, 0.5]), 0.0).shape == (5,)
    assert ref.predict(X[:1], np.zeros(3), 0.0).shape == (1,)


@pytest.mark.parametrize("gate", ["AND", "OR", "NAND", "NOR"])
def test_train_learns_linearly_separable_gates(gate):
    weights, bias, corrections = ref.train(ref.TRUTH_TABLE_INPUTS, ref.GATE_TARGETS[gate], 0.1, 20)
    assert corrections[-1] == 0
    assert ref.reproduces(weights, bias, gate)


def test_train_follows_the_rule_by_hand():
    # One epoch on AND from zero weights: (-1,-1) is right (step(0) = -1),
    # (-1,1) and (1,-1) are right, (1,1) is wrong and adds 0.1 * (1,1), 0.1.
    weights, bias, corrections = ref.train(ref.TRUTH_TABLE_INPUTS, ref.GATE_TARGETS["AND"], 0.1, 1)
    assert_allclose(weights, [0.1, 0.1], atol=1e-12)
    assert bias == pytest.approx(0.1)
    assert corrections == [1]


def test_train_stops_at_max_epochs_on_xor():
    _, _, corrections = ref.train(ref.TRUTH_TABLE_INPUTS, ref.GATE_TARGETS["XOR"], 0.1, 9)
    assert len(corrections) == 9
    assert min(corrections) > 0


def test_train_does_not_change_its_inputs():
    X = ref.TRUTH_TABLE_INPUTS.astype(float)
    t = ref.GATE_TARGETS["OR"].copy()
    ref.train(X, t, 0.5, 10)
    assert_array_equal(X, ref.TRUTH_TABLE_INPUTS)
    assert_array_equal(t, ref.GATE_TARGETS["OR"])
