"""Send the values a test cell computed to the grader, which checks them itself.

In-kernel assertions can be fooled from inside the kernel (monkeypatching,
input transformers, objects whose ``__eq__`` is always true). So every graded
test cell also *records* what the student's code returned on its inputs::

    z = record("z_D3", forward(X, W, b))

When the notebook is autograded (``NBGRADER_EXECUTION=autograde``), each
record is sent as a display output of MIME type :data:`MIME`; the grader,
outside the kernel, compares it with the same record from the solution
notebook, and that comparison decides the cell's points. At any other time
(a student running the notebook, nbgrader's Validate) ``record`` only
returns its value.

Values are plain data: numbers, NumPy arrays, PyTorch tensors, bools,
strings, ``None`` and lists, tuples or dicts of those. Every real array-like
encodes the same: ``2.0``, ``np.float32(2)``, ``np.array(2.0)`` and
``torch.tensor(2.0)`` are all the number 2, and a list of numbers is an array.
Record a SymPy expression by its values at a few points, not by its text: the
grader never evaluates student text.

Visible test cells use :func:`check`, which records *and* asserts in the
kernel with exactly the comparison the grader makes outside
(:func:`backproplab.matching.values_match`), so the student sees the same
verdict before submitting as after.
"""

import numbers
import os

import numpy as np

from backproplab.matching import describe_difference, kind_words, sentence, values_match

__all__ = ["record", "check", "describe_value", "encode", "MIME", "CheckFailed"]

MIME = "application/vnd.backproplab.record+json"


def record(key, value, tol=1e-7, about="", checked=False):
    """Record ``value`` under ``key`` for the grader; return ``value`` unchanged.

    key: a name unique within the test cell, e.g. ``"dW_D5"``.
    tol: the relative error the grader allows (see ``backproplab.gradcheck.rel_error``);
        the solution's ``tol`` is the one used.
    about: the case in words, e.g. ``"dW for stride 2, padding 1"``; the
        grader names a failing case by the solution's ``about`` (else its key).
    checked: set by :func:`check`; the solution's mark tells the grader which
        records a visible cell also asserted in the kernel.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        from IPython.display import display

        payload = {
            "key": str(key),
            "value": encode(value),
            "tol": float(tol),
            "about": str(about),
            "checked": checked,
        }
        display({MIME: payload}, raw=True)
    return value


def check(key, value, expected, name, tol=1e-7, hint=""):
    """Record ``value`` and fail (``AssertionError``) unless it matches ``expected`` as the grader would.

    For visible test cells: ``expected`` is shown to the student anyway.
    Returns ``value``, so a cell can go on using it.
    """
    record(key, value, tol, about=name, checked=True)
    actual, wanted = encode(value), encode(expected)
    if values_match(actual, wanted, tol):
        return value
    message = sentence(f"{name}: {describe_difference(actual, wanted, tol)}")
    if "bool" not in wanted:
        # a statement that came out False needs no "got False, expected True"
        message += f" You gave {_short(value)}; expected {_short(expected)}."
    _show_failures_briefly()
    raise CheckFailed(sentence(message, hint))


def describe_value(value):
    """What ``value`` is, in plain words, for a test's hint: ``"a single number (float)"``,
    ``"an array of shape (1,)"``, ``"a list of 2 items"``, ``"None"``, ``"a function"``..."""
    return kind_words(encode(value))


class CheckFailed(AssertionError):
    """A visible test's check failed; its message says which case and what differs."""


def _show_failures_briefly():
    """In IPython, show a failed check as its sentence alone, not a traceback through this module."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is not None and CheckFailed not in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((CheckFailed,), _brief)


def _brief(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler: the sentence in red, nothing else."""
    lines = [f"\x1b[0;31mCheck failed:\x1b[0m {value}"]
    shell._showtraceback(etype, value, lines)
    return lines


def _short(value):
    """A one-line view of a value for a visible check's message."""
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item()  # 1.22, not np.float64(1.22)
    text = (
        np.array2string(value, precision=5, threshold=8, edgeitems=2)
        if isinstance(value, np.ndarray)
        else repr(value)
    )
    return " ".join(text.split())[:160]


def encode(value):
    """Turn ``value`` into JSON-ready plain data, tagged by kind."""
    if value is None:
        return {"none": True}
    if isinstance(value, (bool, np.bool_)):
        return {"bool": bool(value)}
    if isinstance(value, str):
        return {"str": value}
    if isinstance(value, dict):
        return {"dict": {str(k): encode(v) for k, v in value.items()}}
    value = _as_numpy(value)
    if isinstance(value, (list, tuple)):
        items = [_as_numpy(v) for v in value]
        value = _numeric_array(items)
        if value is None:
            return {"list": [encode(v) for v in items]}
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        kind = type(value)
        prefix = "sympy." if kind.__module__.split(".")[0] == "sympy" else ""
        return {"unrecordable": prefix + kind.__name__}
    encoded = {"array": _jsonable(array), "shape": list(array.shape)}
    if _is_float32(value):
        encoded["float32"] = True
    return encoded


def _as_numpy(value):
    """A PyTorch tensor (on any device, with or without grad) as a NumPy array; anything else as it is."""
    if type(value).__module__.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    return value


def _numeric_array(items):
    """``items`` as one float array when every one is a real number or a real array (nested lists too)
    and together they are rectangular; else None (a list of unlike things stays a list)."""
    if not all(_is_real(v) for v in items):
        return None
    try:
        array = np.asarray(items, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array.astype(np.float32) if items and all(_is_float32(v) for v in items) else array


def _is_real(value):
    """A real number, a real array, or a list or tuple of those."""
    value = _as_numpy(value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iuf"
    if isinstance(value, (list, tuple)):
        return all(_is_real(v) for v in value)
    return _is_number(value)


def _is_number(value):
    """A real scalar: Python or NumPy number, or a 0-d numeric array (not a bool)."""
    if isinstance(value, (bool, np.bool_)):
        return False
    if isinstance(value, np.ndarray):
        return (
            value.ndim == 0 and np.issubdtype(value.dtype, np.number) and not np.iscomplexobj(value)
        )
    return isinstance(value, numbers.Real)


def _is_float32(value):
    """Whether ``value`` was computed in single or half precision."""
    return getattr(value, "dtype", None) in (np.float32, np.float16)


def _jsonable(array):
    """Flat list of floats, with nan and infinities spelled as strings (JSON has none)."""
    flat = array.ravel().tolist()
    return [v if np.isfinite(v) else repr(v) for v in flat]
