"""What crosses between the grading process and a student's kernel.

The grader never unpickles or evaluates anything the kernel sends. A probe is a
small, self-contained piece of source that the grader sends to the kernel; it
looks up one name in the student's namespace, calls it with arguments that are
plain data, and publishes the result as JSON under a private MIME type. Arrays
travel as ``{"__ndarray__": nested lists, "dtype": ..., "shape": ...}``.
Anything that is not a number, string, boolean, None, list, tuple, dict with
string keys or numeric array is reported as unsupported, so an object with a
rigged ``__eq__`` never reaches a comparison.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MIME_TYPE = "application/vnd.nngrade.result+json"

#: Largest JSON payload accepted back from one probe, in characters.
MAX_PAYLOAD_CHARS = 8_000_000

#: Numeric dtype kinds that may cross as arrays: bool, signed, unsigned, float.
ARRAY_KINDS = "biuf"


@dataclass(frozen=True)
class Code:
    """An argument given as Python source, evaluated in the kernel.

    Used where a student's function takes a function, e.g.
    ``Code("lambda x: x ** 3")``. Only the grader writes these.
    """

    source: str


class Unsupported:
    """A returned value that could not cross as plain data."""

    def __init__(self, description: str):
        self.description = description

    def __repr__(self) -> str:
        return f"<unsupported: {self.description}>"


def encode_argument(value: Any) -> Any:
    """Turn a grader-side argument into JSON-ready data for the kernel."""
    if isinstance(value, Code):
        return {"__code__": value.source}
    if isinstance(value, np.ndarray):
        return {
            "__ndarray__": value.tolist(),
            "dtype": value.dtype.str,
            "shape": list(value.shape),
        }
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [encode_argument(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode_argument(v) for k, v in value.items()}
    return value


def decode_result(data: Any) -> Any:
    """Rebuild grader-side values from the JSON a probe sent.

    Arrays come back as numpy arrays; lists stay lists; unknown tags become
    :class:`Unsupported`.
    """
    if isinstance(data, list):
        return [decode_result(v) for v in data]
    if isinstance(data, dict):
        if "__ndarray__" in data:
            return _decode_array(data)
        if "__unsupported__" in data:
            return Unsupported(str(data["__unsupported__"]))
        if "__tuple__" in data:
            return tuple(decode_result(v) for v in data["__tuple__"])
        return {str(k): decode_result(v) for k, v in data.items()}
    if isinstance(data, float) and not math.isfinite(data):
        return data
    return data


def _decode_array(data: dict) -> Any:
    try:
        dtype = np.dtype(str(data["dtype"]))
        if dtype.kind not in ARRAY_KINDS:
            return Unsupported(f"array of dtype {dtype}")
        shape = tuple(int(n) for n in data["shape"])
        return np.array(data["__ndarray__"], dtype=dtype).reshape(shape)
    except (TypeError, ValueError, KeyError) as exc:
        return Unsupported(f"malformed array ({exc})")


# The source below runs inside the student's kernel. It defines one function,
# sent once per kernel; each probe then only calls it with its request. If the
# student's code has removed it (`%reset`), the grader sends it again. It uses
# only local names and reports failures as data; whatever a student does to it
# changes only the data their own answers send back.
HELPER_NAME = "_nngrade_probe"

_HELPER_TEMPLATE = r"""
def {fname}(request_text):
    import json as _json
    import math as _math
    import warnings as _warnings
    import numpy as _np

    request = _json.loads(request_text)
    namespace = get_ipython().user_ns

    def decode(value):
        if isinstance(value, list):
            return [decode(v) for v in value]
        if isinstance(value, dict):
            if "__code__" in value:
                return eval(value["__code__"], {{"np": _np, "math": _math}})
            if "__ndarray__" in value:
                return _np.array(value["__ndarray__"], dtype=value["dtype"]).reshape(
                    value["shape"])
            return {{k: decode(v) for k, v in value.items()}}
        return value

    def encode(value, depth=0):
        if depth > 20:
            return {{"__unsupported__": "nested too deeply"}}
        if value is None or type(value) in (bool, int, str):
            return value
        if type(value) is float:
            return value
        if isinstance(value, _np.ndarray):
            if value.dtype.kind not in "biuf":
                return {{"__unsupported__": "array of dtype " + str(value.dtype)}}
            if value.size > 2000000:
                return {{"__unsupported__": "array of %d elements" % value.size}}
            return {{"__ndarray__": value.tolist(), "dtype": value.dtype.str,
                     "shape": list(value.shape)}}
        if isinstance(value, _np.generic) and value.dtype.kind in "biuf":
            return encode(_np.asarray(value), depth + 1)
        if type(value) is tuple:
            return {{"__tuple__": [encode(v, depth + 1) for v in value]}}
        if type(value) is list:
            return [encode(v, depth + 1) for v in value]
        if type(value) is dict:
            return {{str(k): encode(v, depth + 1) for k, v in value.items()}}
        return {{"__unsupported__": "object of type " + type(value).__name__}}

    name = request["name"]
    payload = {{"defined": name in namespace}}
    if payload["defined"]:
        with _warnings.catch_warnings(record=True) as caught:
            _warnings.simplefilter("always")
            try:
                target = namespace[name]
                if request["kind"] == "call":
                    if not callable(target):
                        raise TypeError(name + " is not a function")
                    args = decode(request["args"])
                    kwargs = decode(request["kwargs"])
                    target = target(*args, **kwargs)
                payload["value"] = encode(target)
            except BaseException as error:
                payload["error"] = type(error).__name__
                payload["message"] = str(error)[:500]
        payload["warnings"] = [
            type(w.message).__name__ + ": " + str(w.message)[:200] for w in caught[:20]
        ]
    text = _json.dumps(payload)
    from IPython.display import publish_display_data as _publish
    _publish({{{mime!r}: text}})

"""


def helper_source() -> str:
    """Source that defines the probe function in the kernel."""
    return _HELPER_TEMPLATE.format(fname=HELPER_NAME, mime=MIME_TYPE)


def request_text(kind: str, name: str, args: tuple = (), kwargs: dict | None = None) -> str:
    """The JSON request that asks for (``kind="get"``) or calls (``"call"``) ``name``."""
    return json.dumps(
        {
            "kind": kind,
            "name": name,
            "args": encode_argument(list(args)),
            "kwargs": encode_argument(kwargs or {}),
        }
    )


def call_source(request: str) -> str:
    """Source of one probe, for a kernel where :func:`helper_source` has run."""
    return f"{HELPER_NAME}({request!r})"


def probe_source(kind: str, name: str, args: tuple = (), kwargs: dict | None = None) -> str:
    """A self-contained probe: the helper's definition and one call of it."""
    return helper_source() + "\n" + call_source(request_text(kind, name, args, kwargs))


def parse_payload(text: Any) -> dict:
    """Check the shape of a probe's JSON payload; raise ValueError if it is off."""
    if not isinstance(text, str) or len(text) > MAX_PAYLOAD_CHARS:
        raise ValueError("the kernel sent a result that is not a bounded JSON string")
    payload = json.loads(text)
    if not isinstance(payload, dict) or not isinstance(payload.get("defined"), bool):
        raise ValueError("the kernel sent a result of an unexpected shape")
    return payload
