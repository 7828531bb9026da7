"""The check outside the kernel: a student's recorded values against the solution's.

Test cells :func:`~backproplab.grading.record` what the student's code
returned. The grader runs the *solution* notebook once (trusted code) to get
the reference records, then, for each grade cell of a submission, requires
every reference key to be recorded exactly once with a matching value. This
decision cannot be forged from inside the student's kernel: the kernel only
sends data, and never sees the reference values.
"""

import json
import math
import os
import tempfile
from pathlib import Path

from nbclient import NotebookClient

from autograder.build import read_source
from autograder.course import grading_digest
from backproplab.grading import MIME

MAX_RECORD_BYTES = 2_000_000  # per cell: more is treated as tampering


def records_by_cell(notebook):
    """``{grade_id: [(key, value, tol), ...]}`` from a graded notebook's outputs."""
    found = {}
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        found[meta["grade_id"]] = numbered([
            (d["key"], d["value"], d.get("tol", 1e-7))
            for o in cell.get("outputs", [])
            for d in [o.get("data", {}).get(MIME)]
            if isinstance(d, dict) and "key" in d and "value" in d
        ])
    return found


def numbered(records):
    """A key recorded again in the same cell (a check inside a loop) becomes ``key#2``, ``key#3``... in order."""
    seen, out = {}, []
    for key, value, tol in records:
        seen[key] = seen.get(key, 0) + 1
        out.append((key if seen[key] == 1 else f"{key}#{seen[key]}", value, tol))
    return out


def reference_records(assignment, cache_dir):
    """The solution's records, ``{grade_id: {key: (value, tol)}}``, cached by the grading digest."""
    digest = grading_digest(assignment)[:16]
    cache = Path(cache_dir) / f"reference-{assignment}-{digest}.json"
    if cache.exists():
        return {g: {k: tuple(v) for k, v in recs.items()} for g, recs in json.loads(cache.read_text()).items()}
    with tempfile.TemporaryDirectory() as scratch:
        notebook = run_solution_as_graded(assignment, scratch)
    reference = {g: {k: (v, tol) for k, v, tol in recs} for g, recs in records_by_cell(notebook).items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(reference))
    return reference


def run_solution_as_graded(assignment, workdir):
    """Execute the solution notebook (trusted) in ``workdir`` as nbgrader would; return it."""
    notebook = read_source(assignment)
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    try:
        NotebookClient(notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        del os.environ["NBGRADER_EXECUTION"]
    return notebook


def check_cell(reference, student_records):
    """``None`` if the student's records match ``reference`` ({key: (value, tol)}), else why not.

    The reason names the record (e.g. ``'dW_D5'``), never the reference value.
    """
    if not reference:
        return "this test cell records nothing to check; ask your instructor"
    if len(json.dumps(student_records)) > MAX_RECORD_BYTES:
        return "the cell sent far more data than its test records"
    keys = [k for k, _, _ in student_records]
    for key, (expected, tol) in reference.items():
        if key not in keys:
            return f"no result for {key!r} reached the grader (did the cell stop early?)"
        actual = next(v for k, v, _ in student_records if k == key)
        if not values_match(actual, expected, tol):
            return f"your result for {key!r} differs from the reference solution's"
    return None


def values_match(actual, expected, tol):
    """Compare two encoded values (see ``backproplab.grading.encode``) without evaluating anything."""
    if not isinstance(actual, dict) or not isinstance(expected, dict) or actual.keys() != expected.keys():
        return False
    kind = next(iter(expected))
    if kind == "array":
        return actual.get("shape") == expected["shape"] and _arrays_close(actual["array"], expected["array"], tol)
    if kind == "list":
        a, e = actual["list"], expected["list"]
        return isinstance(a, list) and len(a) == len(e) and all(values_match(x, y, tol) for x, y in zip(a, e))
    if kind == "dict":
        a, e = actual["dict"], expected["dict"]
        return isinstance(a, dict) and a.keys() == e.keys() and all(values_match(a[k], e[k], tol) for k in e)
    return kind != "unrecordable" and actual == expected


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
    if not finite:
        return True
    diff = max(abs(x - y) for x, y in finite)
    scale = max(abs(x) for x, _ in finite) + max(abs(y) for _, y in finite)
    return diff / max(1e-8, scale) <= tol


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
