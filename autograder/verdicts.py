"""Why a test cell gets no points, in words a student can act on.

The points come from the outside check (:mod:`autograder.outside_check`);
this module turns what happened into one sentence: the case that failed and
what differs, or the exception the student's code raised, with the line in
the student's own answer cell (never a line of a hidden test).
"""

import re

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
FRAME = re.compile(r"Cell In\[(\d+)\], line (\d+)")


def errors_by_cell(notebook):
    """``{grade_id: error output}`` of test cells that raised in the kernel (the first error of each)."""
    errors = {}
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        raised = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if grade_id and raised:
            errors[grade_id] = raised[0]
    return errors


def answer_cells_by_count(notebook):
    """``{execution count: name}`` of the cells holding the student's code: answer cells and cells they added."""
    found = {}
    for index, cell in enumerate(notebook.cells):
        meta = cell.metadata.get("nbgrader", {})
        if (
            cell.cell_type == "code"
            and cell.get("execution_count")
            and not (meta.get("grade") or meta.get("locked"))
        ):
            found[cell.execution_count] = meta.get("grade_id") or f"cell {index + 1}"
    return found


def describe_error(error, answer_cells):
    """``"your code raised ValueError (your cell ch01_forward, line 3)"`` from an error output.

    Only the exception's type and the place in the student's own cells are
    used: the message text was made in the kernel, where a student's code
    could have filled it with the hidden test's source.
    """
    name = str(error.get("ename", ""))
    name = name if re.fullmatch(r"[A-Za-z_][\w.]{0,60}", name) else "an exception"
    place = _place_in_answers(error, answer_cells)
    if place:
        return (
            f"your code raised {name} ({place}); run that cell's test yourself to see the message"
        )
    return f"the test could not use what your code returned: it raised {name}"


def _place_in_answers(error, answer_cells):
    """``"your cell ch01_forward, line 3"`` for the deepest frame in the student's code, else ``""``."""
    frames = [
        FRAME.search(ANSI.sub("", line))
        for line in error.get("traceback", [])
        if isinstance(line, str)
    ]
    mine = [f for f in frames if f and int(f.group(1)) in answer_cells]
    if not mine:
        return ""
    return f"your cell {answer_cells[int(mine[-1].group(1))]}, line {int(mine[-1].group(2))}"


def cell_reason(outside, error, answer_cells):
    """The verdict's reason: the outside check's, unless the cell raised first.

    outside: the outside check's reason (``None`` when every record matched).
    error: the cell's error output, or ``None``. A failed ``check``
    (``CheckFailed``, an ``AssertionError``) is explained by the outside
    check's words.
    """
    if error is None:
        return outside
    if error.get("ename") in ("CheckFailed", "AssertionError") and not _place_in_answers(
        error, answer_cells
    ):
        return outside or "one of the test's checks failed"
    return describe_error(error, answer_cells)
