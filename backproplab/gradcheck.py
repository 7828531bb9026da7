"""Numerical gradients and the relative error used across the course.

The centred difference approximates a derivative with error :math:`O(h^2)`:

.. math::
    \\frac{\\partial f}{\\partial x_i} \\approx \\frac{f(x + h e_i) - f(x - h e_i)}{2h}

Use it in float64: in float32 the rounding error of :math:`f` (about
:math:`10^{-7} |f|`) divided by :math:`2h` swamps the truncation error.
"""

import numpy as np

__all__ = ["rel_error", "numerical_gradient"]


def rel_error(a, b):
    """The course's relative error between two arrays (or scalars).

    .. math::
        \\mathrm{rel}(a, b) = \\frac{\\max|a - b|}{\\max(10^{-8}, \\max|a| + \\max|b|)}

    Max-normalised, so a few tiny entries cannot blow it up. Returns a float.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    num = np.max(np.abs(a - b)) if a.size else 0.0
    den = (np.max(np.abs(a)) if a.size else 0.0) + (np.max(np.abs(b)) if b.size else 0.0)
    return float(num / max(1e-8, den))


def numerical_gradient(f, x, dout=None, h=1e-5):
    """Centred-difference gradient of ``sum(f(x) * dout)`` with respect to ``x``.

    f: a function of the array ``x`` returning a scalar or an array.
    x: float64 array of any shape; it is perturbed in place and restored.
    dout: upstream gradient with ``f(x)``'s shape (default: ones, i.e. the
        gradient of ``f`` itself when ``f`` returns a scalar).
    Returns ``dx`` with ``x``'s shape.
    """
    if x.dtype != np.float64:
        raise TypeError(
            f"numerical_gradient needs float64, got {x.dtype}: use x.astype(np.float64)"
        )
    dx = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = np.asarray(f(x), dtype=np.float64).copy()
        x[i] = old - h
        minus = np.asarray(f(x), dtype=np.float64).copy()
        x[i] = old
        weights = np.ones_like(plus) if dout is None else dout
        dx[i] = np.sum((plus - minus) * weights) / (2 * h)
    return dx
