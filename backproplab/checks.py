"""Checks that test cells use to tell a student, in words, what is wrong.

Every function raises ``AssertionError`` with a message a student can act on
("dW has shape (3, 2) but W has shape (2, 3): did you transpose?") and
returns ``None`` when the check passes. Test cells call them instead of bare
``assert`` so that a failing test explains itself in the feedback.

Numbers are compared with the course's relative error (see
:func:`backproplab.gradcheck.rel_error`):

.. math::
    \\mathrm{rel}(a, b) = \\frac{\\max|a - b|}{\\max(10^{-8}, \\max|a| + \\max|b|)}
"""

import numbers

import numpy as np

from backproplab.gradcheck import rel_error

__all__ = [
    "expect_implemented",
    "expect_type",
    "expect_shape",
    "expect_close",
    "expect_unchanged",
    "expect_sympy_equal",
]


def expect_implemented(value, name):
    """Fail if ``value`` is still the placeholder ``None`` or ``...``."""
    if value is None or value is Ellipsis:
        raise AssertionError(
            f"{name} is still {value!r}: replace the placeholder with your answer."
        )


def expect_type(value, expected, name):
    """Fail unless ``value`` is an instance of ``expected`` (a type or tuple)."""
    if expected is numbers.Real and isinstance(value, np.ndarray) and value.ndim == 0:
        return
    if not isinstance(value, expected):
        wanted = getattr(expected, "__name__", str(expected))
        raise AssertionError(
            f"{name} should be a {wanted}, but it is a {type(value).__name__}: {value!r:.80}"
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
        message += f" ({len(shape)} dimensions instead of {len(expected_shape)})"
    raise AssertionError(message + (f". {hint}" if hint else "."))


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
        raise AssertionError(f"{name} contains nan or inf: {_show(a)}. {hint}".rstrip())
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
    raise AssertionError(message + (f". {hint}" if hint else "."))


def expect_unchanged(before, after, name):
    """Fail if an input array was modified in place by the student's function."""
    if not np.array_equal(np.asarray(before), np.asarray(after)):
        raise AssertionError(
            f"your function changed its argument {name} in place; "
            f"compute and return new values instead (e.g. W - lr * dW, not W -= ...)."
        )


def expect_sympy_equal(actual, expected, name, symbols=()):
    """Fail unless the SymPy expressions ``actual`` and ``expected`` are equal.

    Equality is decided by ``sympy.simplify(actual - expected) == 0``. When the
    student's answer is the negative of the right one, the message says so.
    """
    import sympy as sp

    expect_implemented(actual, name)
    try:
        actual = sp.sympify(actual)
    except (sp.SympifyError, TypeError) as exc:
        raise AssertionError(f"{name} is not a SymPy expression: {exc}") from None
    if sp.simplify(actual - expected) == 0:
        return
    message = f"{name} = {actual} is not right"
    if sp.simplify(actual + expected) == 0:
        message += ": it has the wrong sign"
    elif symbols and not set(symbols) & actual.free_symbols:
        names = ", ".join(str(s) for s in symbols)
        message += f": it should depend on {names}"
    raise AssertionError(message + ".")


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
