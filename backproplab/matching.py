"""How the grader compares a recorded value with the solution's, and says what differs.

Both sides are *encoded* values (see :func:`backproplab.grading.encode`):
plain JSON data tagged by kind, e.g. ``{"array": [1.0, 2.0], "shape": [2]}``.
Nothing here evaluates student text or calls student objects, so the grader
can run it on data sent from an untrusted kernel. Visible test cells run the
same comparison in the kernel (:func:`backproplab.grading.check`), so a cell
that passes there and fails outside can only have been tampered with.

Arrays match when their shapes agree, nan and inf sit in the same places, and
the finite entries are within the course's relative error:

.. math::
    \\mathrm{rel}(a, e) = \\frac{\\max|a - e|}{\\max(10^{-8}, \\max|a| + \\max|e|)} \\le \\mathrm{tol}
"""

import math

from backproplab.gradcheck import rel_error

__all__ = ["values_match", "describe_difference", "kind_words", "sentence", "FLOAT32_TOL"]

# an array computed in float32 (either side) is held to at most this relative error
FLOAT32_TOL = 1e-5


def values_match(actual, expected, tol):
    """True when the encoded ``actual`` matches the encoded ``expected`` within ``tol``."""
    if (
        not isinstance(actual, dict)
        or not isinstance(expected, dict)
        or _tags(actual) != _tags(expected)
    ):
        return False
    kind = next(iter(expected))
    if kind == "array":
        if actual.get("float32") or expected.get("float32"):
            tol = max(tol, FLOAT32_TOL)
        return actual.get("shape") == expected["shape"] and _arrays_close(
            actual["array"], expected["array"], tol
        )
    if kind == "list":
        a, e = actual["list"], expected["list"]
        return (
            isinstance(a, list)
            and len(a) == len(e)
            and all(values_match(x, y, tol) for x, y in zip(a, e))
        )
    if kind == "dict":
        a, e = actual["dict"], expected["dict"]
        return (
            isinstance(a, dict)
            and a.keys() == e.keys()
            and all(values_match(a[k], e[k], tol) for k in e)
        )
    return kind != "unrecordable" and actual == expected


def _tags(value):
    """The keys of an encoded value, less the optional precision mark."""
    return set(value) - {"float32"}


def describe_difference(actual, expected, tol):
    """What differs between two encoded values, in words, never showing ``expected``'s numbers.

    Returns e.g. ``"shape (3, 2) instead of (2, 3): is it transposed?"``,
    ``"the sign is flipped"``, or ``"the numbers differ"`` when no classic
    mistake explains the difference.
    """
    a_kind, e_kind = _kind(actual), _kind(expected)
    if a_kind != e_kind:
        return f"{_kind_words(a_kind, actual)} where {_kind_words(e_kind, expected)} was expected"
    if e_kind == "array":
        return _describe_arrays(actual, expected, tol)
    if e_kind in ("list", "dict"):
        return _describe_container(actual[e_kind], expected[e_kind], tol)
    if e_kind == "bool":
        return "this does not hold for your answer"
    if e_kind == "str":
        return "the text differs"
    return "the value differs"


def sentence(text, hint=""):
    """``text`` ended by one full stop (none after ``?`` or ``!``), then ``"Hint: "`` and ``hint`` likewise.

    ``sentence("did you transpose?")`` is ``"did you transpose?"``, never ``"did you transpose?."``;
    ``sentence("db differs", "sum over the batch")`` is ``"db differs. Hint: sum over the batch."``
    """
    text = str(text).rstrip()
    if text and text[-1] not in ".?!":
        text += "."
    hint = str(hint).strip()
    return f"{text} Hint: {sentence(hint)}" if hint else text


def kind_words(encoded):
    """What an encoded value is, in plain words: ``"a single number (float)"``,
    ``"an array of shape (2, 3)"``, ``"a list of 4 items"``, ``"None"``, ``"a function"``..."""
    return _kind_words(_kind(encoded), encoded)


def _kind(value):
    return next(iter(value)) if isinstance(value, dict) and value else "unknown"


# Python's names for things that are not data, in words (anything else: "a Python object").
_OBJECT_WORDS = {
    "function": "a function",
    "builtin_function_or_method": "a function",
    "method": "a function",
    "type": "a class",
    "module": "a module",
    "generator": "a generator",
    "map": "a map object (wrap it in list(...))",
    "zip": "a zip object (wrap it in list(...))",
    "set": "a set",
    "complex": "a complex number",
    "NotImplementedType": "NotImplemented",
    "ellipsis": "the placeholder ... (Ellipsis)",
}


def _kind_words(kind, value):
    """``"a single number (float)"``, ``"an array of shape (2, 3)"``, ``"a list of 4 items"``..."""
    if kind == "array":
        shape = tuple(value.get("shape", ()))
        return "a single number (float)" if shape == () else f"an array of shape {shape}"
    if kind == "list":
        count = len(value["list"])
        return f"a list of {count} item{'' if count == 1 else 's'}"
    if kind == "unrecordable":
        name = str(value["unrecordable"])
        if name.startswith("sympy"):
            return "a SymPy expression (not a number or an array)"
        return f"{_OBJECT_WORDS.get(name, 'a Python object')} (not a number or an array)"
    return {
        "none": "None",
        "bool": "True or False",
        "str": "text",
        "dict": "a dictionary",
    }.get(kind, "something else")


def _describe_container(actual, expected, tol):
    """The first differing item of two lists (or dicts) of encoded values."""
    if len(actual) != len(expected):
        return f"{len(actual)} items instead of {len(expected)}"
    if isinstance(expected, dict):
        if actual.keys() != expected.keys():
            return f"the keys are {sorted(actual)}, not the expected ones"
        pairs = [(repr(k), actual[k], expected[k]) for k in expected]
    else:
        pairs = [(f"item {i}", a, e) for i, (a, e) in enumerate(zip(actual, expected))]
    for where, a, e in pairs:
        if not values_match(a, e, tol):
            return f"{where}: {describe_difference(a, e, tol)}"
    return "the items differ"


def _describe_arrays(actual, expected, tol):
    """Shape, nan/inf, sign and constant-factor diagnoses of two encoded arrays."""
    shape, wanted = tuple(actual["shape"]), tuple(expected["shape"])
    if shape != wanted:
        hint = ": is it transposed?" if len(shape) == 2 and shape[::-1] == wanted else ""
        return f"shape {shape} instead of {wanted}{hint}"
    a = [_number(v) for v in actual["array"]]
    e = [_number(v) for v in expected["array"]]
    if any(v is None for v in a):
        return "it holds entries that are not numbers"
    if any(not math.isfinite(x) for x in a) and all(math.isfinite(y) for y in e):
        return "it holds nan or inf where numbers were expected: an overflow, a log of 0, or a division by 0?"
    if not all(_same_special(x, y) for x, y in zip(a, e)):
        return "nan or inf entries sit in other places than expected"
    if actual.get("float32") or expected.get("float32"):
        tol = max(tol, FLOAT32_TOL)
    return _describe_numbers(a, e, tol)


def _describe_numbers(a, e, tol):
    """Classic mistakes between two lists of finite-or-matching floats.

    A constant factor is named only when at least two expected entries are
    nonzero: for one number any answer is "k times" the right one, and
    naming k would give the expected value away.
    """
    finite = [(x, y) for x, y in zip(a, e) if math.isfinite(y)]
    xs, ys = [x for x, _ in finite], [y for _, y in finite]
    if _close(xs, [-y for y in ys], tol):
        return "the sign is flipped"
    nonzero = [i for i, y in enumerate(ys) if y != 0]
    if len(nonzero) >= 2:
        big = max(nonzero, key=lambda i: abs(ys[i]))
        ratio = xs[big] / ys[big]
        if ratio != 0 and _close(xs, [ratio * y for y in ys], tol):
            return f"every entry is {ratio:.4g} times the right one: is a constant factor wrong or missing?"
    if len(finite) == 1:
        return "the number differs"
    wrong = sum(not _close([x], [y], tol) for x, y in finite)
    return f"{wrong} of {len(finite)} numbers differ (beyond a relative error of {tol:.0e})"


def _close(xs, ys, tol):
    return rel_error(xs, ys) <= tol


def _arrays_close(actual, expected, tol):
    """Relative error (max-normalised) within ``tol``; nan and inf must sit in the same places."""
    if not isinstance(actual, list) or len(actual) != len(expected):
        return False
    a = [_number(v) for v in actual]
    e = [_number(v) for v in expected]
    if any(v is None for v in a):
        return False
    if not all(_same_special(x, y) for x, y in zip(a, e)):
        return False
    finite = [(x, y) for x, y in zip(a, e) if math.isfinite(y)]
    return _close([x for x, _ in finite], [y for _, y in finite], tol)


def _same_special(x, y):
    """Both finite, or the same nan / inf / -inf."""
    if math.isfinite(x) and math.isfinite(y):
        return True
    return (math.isnan(x) and math.isnan(y)) or x == y


def _number(value):
    """A float from an encoded entry (numbers, or 'nan' / 'inf' / '-inf'), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if value in ("nan", "inf", "-inf"):
        return float(value)
    return None
