"""Feedback HTML a student can learn from, without the hidden tests.

Built from the autograded notebook: each test cell shows its points and, when
it failed, why. A hidden test cell shows only its one-line docstring and the
grader's reason (which names the failing result, never the expected value);
its code, its outputs and tracebacks stay with the instructor.
"""

import copy
import json

import nbformat
from nbconvert import HTMLExporter

from backproplab.grading import MIME

HIDDEN_NOTE = "# (hidden test: its code runs only when your notebook is graded)"
MAX_OUTPUT_BYTES = 500_000


def feedback_notebook(autograded, verdicts, hidden_ids, total):
    """A copy of ``autograded`` fit to show the student.

    verdicts: ``{grade_id: (points, max_points, reason or None)}``.
    hidden_ids: grade_ids of test cells that hold hidden tests.
    total: ``(points, max_points)`` of the autograded cells.
    """
    nb = copy.deepcopy(autograded)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if cell.cell_type != "code":
            continue
        cell.outputs = [_shrunk(o) for o in cell.outputs if MIME not in o.get("data", {})]
        if grade_id in verdicts:
            if grade_id in hidden_ids:
                cell.source = cell.source.split("\n", 1)[0] + "\n" + HIDDEN_NOTE
                cell.outputs = []
            cell.outputs.append(_verdict_output(*verdicts[grade_id]))
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    in_order = sorted(verdicts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(_summary(in_order, total)))
    return nb


def _shrunk(output):
    """The output, or a short note in its place when it is too big for a web page."""
    size = len(json.dumps(output))
    if size <= MAX_OUTPUT_BYTES:
        return output
    return nbformat.v4.new_output("stream", name="stdout", text=f"[grader] an output of {size / 1e6:.1f} MB is left out of this page\n")


def _verdict_output(points, max_points, reason):
    text = f"{points:g} / {max_points:g} points" + (f": {reason}" if reason else ": passed")
    return nbformat.v4.new_output("stream", name="stdout", text=f"[grader] {text}\n")


def _summary(verdicts, total):
    """A Markdown table of ``[(grade_id, (points, max, reason)), ...]`` in notebook order."""
    rows = "\n".join(f"| `{g}` | {p:g} / {m:g} | {r or 'passed'} |" for g, (p, m, r) in verdicts)
    return (
        f"# Feedback\n\nAutograded points: **{total[0]:g} / {total[1]:g}**. "
        "Written answers are graded by your instructor.\n\n"
        f"| test | points | result |\n|---|---|---|\n{rows}\n"
    )


def write_feedback_html(notebook, path):
    """Render ``notebook`` (no execution) to ``path`` as HTML."""
    body, _ = HTMLExporter(sanitize_html=True).from_notebook_node(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path
