"""What crosses between kernel and grader: encoding and strict decoding."""

import json

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from autograder import protocol


def test_arrays_round_trip_with_dtype_and_shape():
    value = np.arange(6, dtype=np.int16).reshape(2, 3)
    back = protocol.decode_result(protocol.encode_argument(value))
    assert back.dtype == np.int16
    assert_array_equal(back, value)


def test_tuples_and_dicts_decode():
    data = {"__tuple__": [1, {"__ndarray__": [1.5], "dtype": "<f8", "shape": [1]}]}
    back = protocol.decode_result(data)
    assert isinstance(back, tuple) and back[0] == 1
    assert_array_equal(back[1], [1.5])


@pytest.mark.parametrize(
    "data",
    [
        {"__ndarray__": ["a"], "dtype": "<U1", "shape": [1]},
        {"__ndarray__": [1, 2], "dtype": "<f8", "shape": [5]},
        {"__ndarray__": [1], "dtype": "object", "shape": [1]},
        {"__unsupported__": "object of type Weird"},
    ],
)
def test_odd_data_becomes_unsupported(data):
    assert isinstance(protocol.decode_result(data), protocol.Unsupported)


@pytest.mark.parametrize("text", ["[]", '{"value": 1}', "x" * (protocol.MAX_PAYLOAD_CHARS + 1), 5])
def test_payloads_of_the_wrong_shape_are_refused(text):
    with pytest.raises(ValueError):
        protocol.parse_payload(text)


def test_probe_source_is_valid_python_and_carries_the_request():
    source = protocol.probe_source("call", "train", (np.zeros((2, 2)), 0.1), {"k": 1})
    compile(source, "<probe>", "exec")
    assert json.dumps("train")[1:-1] in source
