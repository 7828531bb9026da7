"""How a widget calls a student's function: always the latest definition, quietly, errors in words.

A panel is built with the function a student has at that moment, often the
placeholder that raises ``NotImplementedError``. When the student then
implements it (re-running that cell defines a new function under the same
name), :func:`latest` finds the new one in the notebook's namespace, so the
panel uses it at its next redraw without being rebuilt.
"""

import warnings

import numpy as np

__all__ = ["latest", "call_student"]


def latest(fn):
    """The function the notebook now holds under ``fn``'s name, or ``fn`` itself.

    Only functions defined in the notebook (whose globals are the notebook's,
    ``__name__ == "__main__"``) are looked up again; library functions are kept.
    """
    namespace, name = getattr(fn, "__globals__", None), getattr(fn, "__name__", None)
    if not isinstance(namespace, dict) or namespace.get("__name__") != "__main__" or not name:
        return fn
    current = namespace.get(name)
    return current if callable(current) else fn


def call_student(fn, *args, then="move a control", **kwargs):
    """Call the latest ``fn`` without warnings or floating-point noise: ``(result, None)`` or ``(None, message)``.

    then: what the student should do once the function is implemented, e.g.
        ``"move a slider"``.
    """
    current = latest(fn)
    name = getattr(current, "__name__", "your function")
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return current(*args, **kwargs), None
    except NotImplementedError:
        return None, f"Implement {name} above first, then {then}."
    except Exception as exc:  # the student's error, in words, not a traceback
        return None, f"{name} raised {type(exc).__name__}: {exc}".rstrip(": ")
