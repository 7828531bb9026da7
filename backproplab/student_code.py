"""How a widget calls a student's function: always the latest definition, quietly, errors in words.

A panel is built with the function a student has at that moment, often the
placeholder that raises ``NotImplementedError``. When the student then
implements it (re-running that cell defines a new function under the same
name), :func:`latest` finds the new one in the notebook's namespace, so the
panel uses it at its next redraw without being rebuilt. :func:`call_student`
is the one place where a panel calls a student's function.
"""

import contextlib
import warnings

import numpy as np

__all__ = ["Unusable", "call_student", "latest", "quiet"]


class Unusable(ValueError):
    """Raised by a panel's harness when a student's function returned something it cannot draw.

    The message continues the function's name, e.g. ``"returned shape (3,), not (2,)"``.
    """


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


@contextlib.contextmanager
def quiet():
    """No warnings and no floating-point error reports inside: a diverging run must not print."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def call_student(fn, *args, then="move a control", through=None, **kwargs):
    """Call the latest ``fn`` quietly: ``(result, None)``, or ``(None, message)`` in one line.

    then: what the student should do once the function is implemented, e.g. ``"move a slider"``.
    through: a harness ``through(current_fn, *args, **kwargs)`` that calls the student's
        function (perhaps many times) and checks what it returns, raising :class:`Unusable`.
    """
    current = latest(fn)
    name = getattr(current, "__name__", "your function")
    try:
        with quiet():
            return (through or _direct)(current, *args, **kwargs), None
    except NotImplementedError as exc:
        return None, f"Implement {_unwritten(exc, name)} above first, then {then}."
    except Unusable as exc:
        return None, f"{name} {exc}"
    except Exception as exc:  # the student's error, in words, not a traceback
        return None, f"{name} raised {type(exc).__name__}: {_first_line(exc)}".rstrip(": ")


def _direct(fn, *args, **kwargs):
    """Call ``fn`` itself: the harness of a function whose result is used as it is."""
    return fn(*args, **kwargs)


def _unwritten(exc, name):
    """The innermost notebook function on ``exc``'s traceback (the one still to write), else ``name``."""
    frame, found = exc.__traceback__, name
    while frame is not None:
        code_name = frame.tb_frame.f_code.co_name
        if frame.tb_frame.f_globals.get("__name__") == "__main__" and not code_name.startswith("<"):
            found = code_name
        frame = frame.tb_next
    return found


def _first_line(exc):
    """The first non-empty line of an exception's message (PyTorch's run to several)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else ""
