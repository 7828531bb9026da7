"""Neutralise what a student's notebook could run in the instructor's browser.

A submitted notebook is the student's content. Before the grader stores the
autograded notebook (which nbgrader's formgrader renders) and before feedback
HTML is written, :func:`sanitize_notebook` removes every way to carry script:

- outputs keep only inert types (plain text, PNG, JPEG, errors); HTML,
  JavaScript, SVG, Markdown, LaTeX and widget views are replaced by a note;
- in Markdown and raw cells every ``<`` that could open a tag (``<script``,
  ``<img``, ``</``, ``<!--``) is escaped, so raw HTML shows as text
  (``a < b`` and LaTeX are left alone);
- attachments that are not PNG or JPEG are dropped, and so is the saved widget
  state (``metadata.widgets``, which nbconvert would hand to a widget renderer).

Feedback HTML is also rendered with nbconvert's ``sanitize_html``.
"""

import re

SAFE_MIME = ("text/plain", "image/png", "image/jpeg")
TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
NOTE = "[grader] an output of type {} was removed: student content is never run in the instructor's browser\n"


def sanitize_notebook(notebook):
    """Make ``notebook`` (nbformat 4) inert in place; return it."""
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type in ("markdown", "raw"):
            cell.source = escape_tags(cell.source)
            _keep_safe_attachments(cell)
        if cell.cell_type == "code":
            cell.outputs = [_safe_output(o) for o in cell.get("outputs", [])]
    return notebook


def escape_tags(text):
    """``<script>`` -> ``&lt;script>``: Markdown shows it as text, never as a tag."""
    return TAG_START.sub("&lt;", text)


def _safe_output(output):
    """The output with only inert MIME types, or a stream note saying what was removed."""
    if output.get("output_type") not in ("display_data", "execute_result"):
        return output
    data = output.get("data", {})
    removed = sorted(
        k for k in data if k not in SAFE_MIME and not k.startswith("application/vnd.backproplab")
    )
    for key in removed:
        del data[key]
    if removed and not data:
        return {"output_type": "stream", "name": "stdout", "text": NOTE.format(", ".join(removed))}
    return output


def _keep_safe_attachments(cell):
    for name, bundle in list(cell.get("attachments", {}).items()):
        for key in [k for k in bundle if k not in ("image/png", "image/jpeg")]:
            del bundle[key]
        if not bundle:
            del cell["attachments"][name]
