"""The check outside the kernel: a student's recorded values against the solution's.

Test cells :func:`~backproplab.grading.record` what the student's code
returned. The grader runs the *solution* notebook once (trusted code) to get
the reference records, then, for each grade cell of a submission, requires
every reference key to be recorded exactly once with a matching value. This
decision cannot be forged from inside the student's kernel: the kernel only
sends data, and never sees the reference values.
"""

import json
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from autograder.budgets import run_solution
from autograder.course import grading_digest
from autograder.snapshot import cell_records
from backproplab.matching import describe_difference, values_match

MAX_RECORD_BYTES = 2_000_000  # per cell: more is treated as tampering


def records_by_cell(notebook, snapshots=None):
    """``{grade_id: [Record, ...]}`` of a graded notebook's test cells.

    snapshots: ``{cell index: [payload, ...]}`` taken as each cell finished
    (:mod:`autograder.snapshot`); when given, they are judged instead of the
    final outputs.
    """
    found = {}
    for index, cell in enumerate(notebook.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code" or not meta.get("grade"):
            continue
        payloads = snapshots.get(index, []) if snapshots is not None else cell_records(cell)
        found[meta["grade_id"]] = numbered([Record.from_payload(p) for p in payloads])
    return found


def stray_records(notebook, snapshots):
    """Notes on records the grader ignores: sent from a cell that is not a test, or rewritten later."""
    notes = [
        f"cell {index + 1} is not a test cell but sent {len(cell_records(cell))} record(s): ignored"
        for index, cell in enumerate(notebook.cells)
        if cell_records(cell) and not cell.metadata.get("nbgrader", {}).get("grade")
    ]
    return notes + [
        f"records of cell {index + 1} were rewritten after it finished: the grader used the first ones"
        for index in rewritten_cells(notebook, snapshots)
    ]


def rewritten_cells(notebook, snapshots):
    """Indices of test cells whose records changed after the cell finished (only a display update can do that)."""
    return [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.metadata.get("nbgrader", {}).get("grade")
        and cell.cell_type == "code"
        and cell_records(cell) != snapshots.get(index, cell_records(cell))
    ]


@dataclass(frozen=True)
class Record:
    """One value a test cell sent: its key, encoded value, tolerance, case in words, and whether it was asserted."""

    key: str
    value: object
    tol: float = 1e-7
    about: str = ""
    checked: bool = False

    @classmethod
    def from_payload(cls, payload):
        """A record from the dict the kernel displayed; anything malformed becomes harmless."""
        tol = payload.get("tol", 1e-7)
        return cls(
            str(payload["key"]),
            payload["value"],
            float(tol) if isinstance(tol, (int, float)) else 1e-7,
            str(payload.get("about", ""))[:200],
            payload.get("checked") is True,
        )


def numbered(records):
    """A key recorded again in the same cell (a check inside a loop) becomes ``key#2``, ``key#3``... in order."""
    seen, out = {}, []
    for rec in records:
        seen[rec.key] = seen.get(rec.key, 0) + 1
        out.append(rec if seen[rec.key] == 1 else replace(rec, key=f"{rec.key}#{seen[rec.key]}"))
    return out


def reference_records(assignment, cache_dir):
    """The solution's records, ``{grade_id: {key: Record}}``, cached by the grading digest."""
    digest = grading_digest(assignment)[:16]
    cache = Path(cache_dir) / f"reference-{assignment}-{digest}.json"
    if cache.exists():
        return {
            g: {k: Record(**r) for k, r in recs.items()}
            for g, recs in json.loads(cache.read_text()).items()
        }
    with tempfile.TemporaryDirectory() as scratch:
        notebook, _ = run_solution(assignment, scratch, graded=True)
    reference = {g: {r.key: r for r in recs} for g, recs in records_by_cell(notebook).items()}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps({g: {k: asdict(r) for k, r in recs.items()} for g, recs in reference.items()})
    )
    return reference


def check_cell(reference, student_records):
    """``None`` if the student's records match ``reference`` ({key: Record}), else why not, in words.

    The reason names the case (the solution's ``about``, else its key) and
    what differs, never the reference value.
    """
    if not reference:
        return "this test cell records nothing to check; ask your instructor"
    if len(json.dumps([r.value for r in student_records])) > MAX_RECORD_BYTES:
        return "the cell sent far more data than its test records"
    sent = {r.key: r for r in student_records}
    for key, expected in reference.items():
        case = expected.about or key
        if key not in sent:
            return f"no result for {case!r} reached the grader: the test stopped before it"
        if not values_match(sent[key].value, expected.value, expected.tol):
            return f"{case}: {describe_difference(sent[key].value, expected.value, expected.tol)}"
    return None


def failed_checked_keys(reference, student_records):
    """Keys the solution asserted in the kernel (``check``) that are missing or fail outside.

    Called for a cell that raised nothing: its checks all passed in the
    kernel, so a checked key that is absent or differs was tampered with.
    """
    sent = {r.key: r for r in student_records}
    return [
        k
        for k, e in reference.items()
        if e.checked and (k not in sent or not values_match(sent[k].value, e.value, e.tol))
    ]
