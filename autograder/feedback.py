"""Feedback HTML a student can learn from, without the hidden tests.

Built from the autograded notebook: the student's own source, and under each
test cell its points and, when it failed, the grader's reason (the case and
what differs, never the expected value). A hidden test cell shows only its
one-line docstring.

No output made in the kernel is shown, not even the student's own: a cell
that prints ``In``, ``_ih`` or ``Out`` (or an exception message built from
them) would otherwise carry the hidden tests' source into this page. The
student has their outputs in their own notebook.
"""

import copy
from pathlib import Path

import bleach
import nbformat
from nbconvert import HTMLExporter, TemplateExporter
from nbconvert.filters import Highlight2HTML

HIDDEN_NOTE = "# (hidden test: its code runs only when your notebook is graded)"


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
        cell.outputs = []
        if grade_id in verdicts:
            if grade_id in hidden_ids:
                cell.source = cell.source.split("\n", 1)[0] + "\n" + HIDDEN_NOTE
            cell.outputs.append(_verdict_output(*verdicts[grade_id]))
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    in_order = sorted(
        verdicts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order)
    )
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(_summary(in_order, total)))
    return nb


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


TEMPLATE = Path(__file__).with_name("feedback.html.j2")


# What Markdown becomes (headings, paragraphs, lists, tables, code, links); no images, scripts,
# styles or event handlers. nbconvert's clean_html keeps too few tags for Markdown: it showed
# "<h1>" and "<p>" as text.
MARKDOWN_TAGS = {
    *bleach.ALLOWED_TAGS,
    *("h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "pre", "code", "span", "div"),
    *("table", "thead", "tbody", "tr", "th", "td", "sup", "sub", "del"),
}
MARKDOWN_ATTRIBUTES = {**bleach.ALLOWED_ATTRIBUTES, "*": ["class", "id"]}


def clean_markdown(html):
    """``html`` rendered from Markdown, with only :data:`MARKDOWN_TAGS` left as tags."""
    return bleach.clean(html, tags=MARKDOWN_TAGS, attributes=MARKDOWN_ATTRIBUTES)


class FeedbackExporter(HTMLExporter):
    """nbconvert's HTML exporter with the feedback template (:data:`TEMPLATE`).

    It leaves out the pass over the finished page in which ``HTMLExporter`` parses it again
    (BeautifulSoup) to add tab stops and images' alt text: the template writes the tab stops,
    and the page holds no image. That pass took two thirds of the time a chapter-02 page takes
    (0.6 of 0.9 s).
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        language = nb.metadata.get("language_info", {})
        lexer = language.get("pygments_lexer", language.get("name"))
        self.register_filter("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self))
        self.register_filter("clean_markdown", clean_markdown)
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


def write_feedback_html(notebook, path):
    """Render ``notebook`` (no execution) to ``path`` as HTML (:class:`FeedbackExporter`)."""
    exporter = FeedbackExporter(sanitize_html=True, template_file=str(TEMPLATE))
    body, _ = exporter.from_notebook_node(notebook)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path
