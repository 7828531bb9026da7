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

Values are plain data: numbers, NumPy arrays, bools, strings, ``None`` and
lists, tuples or dicts of those. Record a SymPy expression by its values at a
few points, not by its text: the grader never evaluates student text.
"""

import numbers
import os

import numpy as np

__all__ = ["record", "encode", "MIME"]

MIME = "application/vnd.backproplab.record+json"


def record(key, value, tol=1e-7):
    """Record ``value`` under ``key`` for the grader; return ``value`` unchanged.

    key: a name unique within the test cell, e.g. ``"dW_D5"``.
    tol: the relative error the grader allows (see ``backproplab.gradcheck.rel_error``);
        the solution's ``tol`` is the one used.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        from IPython.display import display

        display({MIME: {"key": str(key), "value": encode(value), "tol": float(tol)}}, raw=True)
    return value


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
    if isinstance(value, (list, tuple)) and not all(_is_number(v) for v in value):
        return {"list": [encode(v) for v in value]}
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return {"unrecordable": type(value).__name__}
    return {"array": _jsonable(array), "shape": list(array.shape)}


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _jsonable(array):
    """Flat list of floats, with nan and infinities spelled as strings (JSON has none)."""
    flat = array.ravel().tolist()
    return [v if np.isfinite(v) else repr(v) for v in flat]
