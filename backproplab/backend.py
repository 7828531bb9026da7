"""The array backend: NumPy on a CPU, CuPy on a CUDA GPU.

Code written against ``xp = get_xp()`` runs on either, because CuPy mirrors
NumPy's API. The choice follows the environment variable
``BACKPROPLAB_BACKEND``:

- ``auto`` (or unset): CuPy when it imports and sees at least one GPU,
  otherwise NumPy;
- ``numpy``: always NumPy;
- ``cupy``: CuPy, or a ``RuntimeError`` that says what to install.

The choice is cached per value of the variable; :func:`reset` clears the cache.
Functions that receive arrays ask :func:`array_module` instead: it answers
with the module of the array they were given, so the same code computes on
the CPU or on the GPU, wherever its input lives.
"""

import functools
import os

import numpy as np

__all__ = [
    "get_xp",
    "backend_name",
    "array_module",
    "to_numpy",
    "reset",
    "dropout_on_any_backend",
    "ENV_VAR",
    "VALID_BACKENDS",
]

ENV_VAR = "BACKPROPLAB_BACKEND"
VALID_BACKENDS = ("auto", "numpy", "cupy")

_cache = {}


def get_xp():
    """The array module to use: ``numpy`` or ``cupy`` (see the module docstring)."""
    choice = _requested()
    if choice not in _cache:
        _cache[choice] = _select(choice)
    return _cache[choice]


def backend_name():
    """``"numpy"`` or ``"cupy"``: the name of the module :func:`get_xp` returns."""
    return get_xp().__name__


def array_module(x):
    """The module that computes with ``x``: ``cupy`` for a CuPy array, ``numpy`` otherwise.

    Backend-agnostic functions start with ``xp = array_module(x)`` and then
    call ``xp.zeros``, ``xp.pad``... so that they run where their input lives.
    CuPy is imported only when ``x`` is a CuPy array (it then is imported already).
    """
    if _is_cupy(x):
        import cupy

        return cupy
    return np


def to_numpy(x):
    """``x`` as a NumPy array: a CuPy array is copied to the host with ``.get()``.

    NumPy arrays are returned as they are (no copy); scalars and lists go
    through ``np.asarray``. The shape is unchanged.
    """
    if _is_cupy(x):
        return x.get()
    return np.asarray(x)


def dropout_on_any_backend(dropout_forward):
    """Chapter 03's ``dropout_forward(x, p, mode, rng)``, run where ``x`` lives and in its dtype.

    The answer draws its mask as ``rng.random(x.shape) < p`` with NumPy's
    generator ``rng``: a float64 mask on the CPU. The wrapper hands it a
    generator whose ``random`` returns the same numbers on ``x``'s device (a
    seed gives the same mask with NumPy or CuPy), then casts ``out`` and the
    mask in the cache to ``x``'s dtype, so float32 activations stay float32.
    With float64 NumPy arrays it changes nothing.
    """

    @functools.wraps(dropout_forward)
    def on_any_backend(x, p, mode, rng):
        out, cache = dropout_forward(x, p, mode, _DrawsOn(rng, array_module(x)))
        if cache.get("mask") is not None:
            cache["mask"] = cache["mask"].astype(x.dtype, copy=False)
        return out.astype(x.dtype, copy=False), cache

    return on_any_backend


class _DrawsOn:
    """A NumPy generator whose ``random`` returns its numbers as arrays of ``xp`` (NumPy or CuPy)."""

    def __init__(self, rng, xp):
        self._rng, self._xp = rng, xp

    def random(self, *args, **kwargs):
        return self._xp.asarray(self._rng.random(*args, **kwargs))

    def __getattr__(self, name):
        return getattr(self._rng, name)


def reset():
    """Forget the cached choice, so the next :func:`get_xp` reads the environment again."""
    _cache.clear()


def _requested():
    """The backend asked for in ``BACKPROPLAB_BACKEND`` (lower case, default ``auto``)."""
    value = os.environ.get(ENV_VAR, "").strip().lower() or "auto"
    if value not in VALID_BACKENDS:
        valid = ", ".join(VALID_BACKENDS)
        raise ValueError(f"{ENV_VAR}={value!r} is not a backend: use one of {valid}.")
    return value


def _select(choice):
    """Import and return the module for ``choice`` (``auto``, ``numpy`` or ``cupy``)."""
    if choice == "numpy":
        return np
    cupy, reason = _usable_cupy()
    if cupy is not None:
        return cupy
    if choice == "auto":
        return np
    raise RuntimeError(
        f"{ENV_VAR}=cupy but CuPy cannot be used ({reason}). Install it with "
        f"pip install 'backproplab[gpu]' on a machine with a CUDA GPU, or run on "
        f"the CPU with {ENV_VAR}=numpy."
    )


def _usable_cupy():
    """``(cupy, "")`` when CuPy imports and sees a GPU, else ``(None, reason)``."""
    try:
        import cupy

        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, CUDA driver errors, ...
        return None, f"{type(exc).__name__}: {exc}"
    if count <= 0:
        return None, "no CUDA device found"
    return cupy, ""


def _is_cupy(x):
    """True when ``x`` is an object of the CuPy package (an array on the GPU)."""
    return type(x).__module__.split(".")[0] == "cupy"
