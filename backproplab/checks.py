"""Checks that provided cells and demos use to tell a student, in words, what is wrong.

Every function raises ``AssertionError`` with a message a student can act on
("dW has shape (3, 2) but W has shape (2, 3): did you transpose?") and
returns ``None`` when the check passes. Graded test cells use
:func:`backproplab.grading.check` instead, which the grader repeats outside
the kernel.

Numbers are compared with the course's relative error (see
:func:`backproplab.gradcheck.rel_error`):

.. math::
    \\mathrm{rel}(a, b) = \\frac{\\max|a - b|}{\\max(10^{-8}, \\max|a| + \\max|b|)}
"""

import numpy as np

from backproplab.gradcheck import rel_error
from backproplab.matching import sentence

__all__ = ["expect_implemented", "expect_shape", "expect_close"]


def expect_implemented(value, name):
    """Fail if ``value`` is still the placeholder ``None`` or ``...``."""
    if value is None or value is Ellipsis:
        raise AssertionError(
            f"{name} is still {value!r}: replace the placeholder with your answer."
        )


def expect_shape(actual, expected_shape, name, hint=""):
    """Fail unless ``np.shape(actual) == expected_shape``.

    When the shape is the transpose of the expected one, the message asks
    whether a matrix was transposed.
    """
    shape = np.shape(actual)
    expected_shape = tuple(expected_shape)
    if shape == expected_shape:
        return
    message = f"{name} has shape {shape} but should have shape {expected_shape}"
    if len(shape) == 2 and shape[::-1] == expected_shape:
        message += ": did you transpose?"
    elif len(shape) != len(expected_shape):
        count = len(shape)
        message += (
            f" ({count} dimension{'' if count == 1 else 's'} instead of {len(expected_shape)})"
        )
    raise AssertionError(sentence(message, hint))


def expect_close(actual, expected, name, tol=1e-7, hint=""):
    """Fail unless ``rel_error(actual, expected) <= tol`` (and shapes match).

    ``actual`` and ``expected`` are scalars or arrays of the same shape. The
    message shows both values (or the worst entry), the relative error and the
    threshold, and diagnoses a flipped sign or a constant factor.
    """
    expect_implemented(actual, name)
    a = np.asarray(actual, dtype=float)
    e = np.asarray(expected, dtype=float)
    expect_shape(a, e.shape, name)
    if not np.all(np.isfinite(a)):
        raise AssertionError(sentence(f"{name} contains nan or inf: {_show(a)}", hint))
    err = rel_error(a, e)
    if err <= tol:
        return
    message = (
        f"{name} is {_show(a)} but should be {_show(e)} "
        f"(relative error {err:.2e}, allowed {tol:.0e})"
    )
    diagnosis = _diagnose(a, e, tol)
    if diagnosis:
        message += f": {diagnosis}"
    raise AssertionError(sentence(message, hint))


def _show(x):
    """A short text for a scalar or an array."""
    if x.ndim == 0:
        return f"{float(x):.6g}"
    return np.array2string(x, precision=5, threshold=8, edgeitems=2)


def _diagnose(a, e, tol):
    """Name a classic mistake when ``a`` is ``e`` with a flipped sign or a factor."""
    if rel_error(a, -e) <= tol:
        return "the sign is flipped"
    denom = float(np.max(np.abs(e)))
    if denom == 0.0:
        return ""
    flat_e, flat_a = e.ravel(), a.ravel()
    k = int(np.argmax(np.abs(flat_e)))
    ratio = flat_a[k] / flat_e[k]
    if ratio != 0 and rel_error(a, ratio * e) <= tol:
        return f"it is {ratio:.4g} times the right value: is a constant factor wrong or missing?"
    return ""
