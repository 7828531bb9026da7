"""Grades out of nbgrader's gradebook, in the shapes LMSs import: Canvas, Moodle, plain CSV.

``python -m autograder export --chapter NN_name --format FORMAT --output FILE`` reads
the gradebook (what ``grade`` and the formgrader write: ``<workdir>/gradebook.db``, or
``--db-url``'s) and writes:

- ``csv``: one row per student of the gradebook: id, names, e-mail, score, maximum,
  whether manual grading is pending, whether anything was submitted, and when;
- ``moodle``: Moodle's grade import (Grades > Import > CSV file): a header line, then
  ``Username``, ``Email address``, names and one grade column, mapped in Moodle's form
  by username or e-mail;
- ``canvas``: the gradebook CSV the instructor exported from Canvas (Grades > Export),
  with this chapter's column filled in, matched by SIS Login ID (or an e-mail column);
  the identity columns and that column only, as Canvas's import accepts.

A student is never dropped silently: the :class:`Report` lists the gradebook's
students an LMS file does not know, the LMS's students the gradebook has no grade
for, those who submitted nothing (their grade is left empty, not 0) and those
whose manual grading is pending (their score holds the automatic part).

The same files come out of nbgrader's own export command, through the plugins
:class:`CanvasExportPlugin`, :class:`MoodleExportPlugin` and :class:`PlainExportPlugin`::

    nbgrader export --exporter=autograder.export.MoodleExportPlugin --to=moodle.csv
    nbgrader export --exporter=autograder.export.CanvasExportPlugin --to=import.csv \
        --CanvasExportPlugin.canvas=canvas-export.csv --CanvasExportPlugin.column="01 Gradient"
"""

import csv
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.plugins.export import ExportPlugin
from traitlets import Unicode

from autograder.course import DEFAULT_WORKDIR, gradebook_url, put_venv_on_path
from autograder.roster import safe_id

FORMATS = ("csv", "moodle", "canvas")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Section")
EMAIL_HEADERS = ("email", "e-mail", "email address", "e-mail address")


@dataclass(frozen=True)
class Grade:
    """One gradebook student's grade for one chapter; ``score`` is None when nothing was submitted."""

    student: str
    first_name: str
    last_name: str
    email: str
    score: float | None
    max_score: float
    manual_pending: bool = False
    timestamp: str = ""


@dataclass
class Report:
    """Who needs the instructor's attention after an export (every list holds ids or LMS names)."""

    not_in_lms: list = field(default_factory=list)
    no_grade_here: list = field(default_factory=list)
    not_submitted: list = field(default_factory=list)
    manual_pending: list = field(default_factory=list)

    def lines(self):
        what = (
            ("in the gradebook but not in the LMS file (not exported)", self.not_in_lms),
            ("in the LMS file without a grade here (left as they were)", self.no_grade_here),
            ("submitted nothing (grade left empty)", self.not_submitted),
            ("manual grading pending (the score is the automatic part)", self.manual_pending),
        )
        return [f"{len(names)} {text}: {', '.join(names)}" for text, names in what if names]


def read_grades(assignment, workdir=DEFAULT_WORKDIR, db_url=None):
    """Every gradebook student's :class:`Grade` for ``assignment``, sorted by id.

    The gradebook is ``db_url``'s, else the one :func:`~autograder.course.gradebook_url` names.
    """
    from nbgrader.api import Gradebook

    put_venv_on_path()  # nbgrader runs alembic
    with Gradebook(gradebook_url(workdir, db_url)) as gb:
        return grades_in(gb, assignment)


def grades_in(gb, assignment):
    """Every student's :class:`Grade` for ``assignment`` in the open nbgrader ``Gradebook`` ``gb``."""
    from nbgrader.api import MissingEntry

    try:
        max_score = gb.find_assignment(assignment).max_score
    except MissingEntry:
        raise ValueError(f"the gradebook has no chapter {assignment}: grade it first") from None
    grades = []
    for student in sorted(gb.students, key=lambda s: s.id):
        names = (student.first_name or "", student.last_name or "", student.email or "")
        try:
            sub = gb.find_submission(assignment, student.id)
        except MissingEntry:
            grades.append(Grade(student.id, *names, None, max_score))
            continue
        score = max(0.0, sub.score - (sub.late_submission_penalty or 0.0))
        stamp = sub.timestamp.isoformat() if sub.timestamp else ""
        grades.append(
            Grade(student.id, *names, score, max_score, bool(sub.needs_manual_grade), stamp)
        )
    return grades


def export(grades, fmt, output, column=None, canvas_csv=None):
    """Write ``grades`` as ``fmt`` (:data:`FORMATS`) to ``output``; return the :class:`Report`."""
    if fmt not in FORMATS:
        raise ValueError(f"no format {fmt!r}: choose from {', '.join(FORMATS)}")
    report = Report(
        not_submitted=[g.student for g in grades if g.score is None],
        manual_pending=[g.student for g in grades if g.manual_pending],
    )
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        write_plain(grades, output)
    elif fmt == "moodle":
        write_moodle(grades, output, column)
    else:
        if canvas_csv is None:
            raise ValueError(
                "--format canvas fills the gradebook CSV exported from Canvas: --canvas"
            )
        fill_canvas(grades, canvas_csv, output, column, report)
    return report


def _number(value):
    return "" if value is None else f"{value:g}"


def _text(value):
    """A field a spreadsheet shows as text (no formula: no leading =, +, -, @)."""
    value = str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def write_plain(grades, output):
    with open(output, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "student_id",
                "first_name",
                "last_name",
                "email",
                "score",
                "max_score",
                "manual_pending",
                "submitted",
                "timestamp",
            ]
        )
        for g in grades:
            writer.writerow(
                [
                    *(_text(v) for v in (g.student, g.first_name, g.last_name, g.email)),
                    _number(g.score),
                    _number(g.max_score),
                    "yes" if g.manual_pending else "no",
                    "no" if g.score is None else "yes",
                    g.timestamp,
                ]
            )


def write_moodle(grades, output, column=None):
    """Moodle's CSV grade import: identity columns and one grade column (named ``column``)."""
    column = column or "Grade"
    with open(output, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["Username", "Email address", "First name", "Last name", column])
        for g in grades:
            names = (g.student, g.email, g.first_name, g.last_name)
            writer.writerow([*(_text(v) for v in names), _number(g.score)])


def _key(value):
    """How an LMS login or e-mail is compared with a gradebook id: as ``roster.safe_id`` made it."""
    value = (value or "").strip()
    return safe_id(value).lower() if value else ""


def fill_canvas(grades, canvas_csv, output, column, report):
    """Fill ``column`` of the Canvas gradebook export ``canvas_csv``; write it to ``output``."""
    with open(canvas_csv, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    if not rows or "SIS Login ID" not in rows[0]:
        raise ValueError(f"{canvas_csv} is not a Canvas gradebook export (no SIS Login ID column)")
    header = rows[0]
    target = _canvas_column(header, column)
    login = header.index("SIS Login ID")
    emails = [i for i, h in enumerate(header) if h.strip().lower() in EMAIL_HEADERS]
    keep = [i for i, h in enumerate(header) if h in CANVAS_IDENTITY or i in emails] + [target]
    by_key = {}
    for g in grades:
        for key in {_key(g.student), _key(g.email)} - {""}:
            by_key.setdefault(key, g)
    matched, out = set(), [[header[i] for i in keep]]
    for row in rows[1:]:
        row = row + [""] * (len(header) - len(row))
        if "ID" in header and not row[header.index("ID")].strip():
            out.append([row[i] for i in keep])  # "Points Possible", "Manual Posting": as they are
            continue
        keys = [_key(row[i]) for i in [login, *emails]]
        grade = next((by_key[k] for k in keys if k in by_key), None)
        if grade is None:
            report.no_grade_here.append(row[header.index("Student")] or row[login])
        else:
            matched.add(grade.student)
            if grade.score is not None:
                row[target] = _number(grade.score)
        out.append([row[i] for i in keep])
    report.not_in_lms = [g.student for g in grades if g.student not in matched]
    with open(output, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(out)


def _canvas_column(header, column):
    """The index of the assignment column: ``column`` exactly, or the one header starting with it."""
    assignments = [h for h in header if h not in CANVAS_IDENTITY and h.rstrip().endswith(")")]
    if column in header:
        return header.index(column)
    found = [i for i, h in enumerate(header) if column and h.startswith(column)]
    if len(found) == 1:
        return found[0]
    raise ValueError(
        f"choose the Canvas column with --column (it is {column!r} now); "
        f"the file's assignments: {'; '.join(assignments) or 'none'}"
    )


# --- nbgrader export --exporter=autograder.export.<...>ExportPlugin ---------------------------


class ChapterExportPlugin(ExportPlugin):
    """One chapter's grades as :func:`export` writes them, from ``nbgrader export``.

    nbgrader's options: ``--to`` (default ``grades.csv``), ``--assignment`` (the chapter;
    needed when the gradebook holds several) and ``--student`` (only these). The
    :class:`Report` is logged as warnings; an error exits with status 2 and its reason.
    """

    fmt = "csv"
    column = Unicode(
        "", help="the grade column (Canvas: its header or the start of it; default: the chapter)"
    ).tag(config=True)

    def export(self, gradebook):
        try:
            chapter = self._chapter(gradebook)
            grades = grades_in(gradebook, chapter)
            if self.student:
                wanted = {str(s) for s in self.student}
                grades = [g for g in grades if g.student in wanted]
            output = self.to or "grades.csv"
            report = export(grades, self.fmt, output, self.column or chapter, **self._files())
        except (ValueError, OSError) as exc:
            self.log.error("%s", exc)
            sys.exit(2)
        self.log.info("wrote %s: %d students of %s", output, len(grades), chapter)
        for line in report.lines():
            self.log.warning("%s", line)

    def _chapter(self, gradebook):
        """The one chapter to export: ``--assignment``'s, else the gradebook's only one."""
        names = [str(a) for a in self.assignment] or sorted(a.name for a in gradebook.assignments)
        if len(names) != 1:
            raise ValueError(
                f"export one chapter at a time: --assignment=NN_name "
                f"(the gradebook has {', '.join(names) or 'none'})"
            )
        return names[0]

    def _files(self):
        return {}


class PlainExportPlugin(ChapterExportPlugin):
    """A chapter's grades as plain CSV (``python -m autograder export --format csv``)."""

    fmt = "csv"


class MoodleExportPlugin(ChapterExportPlugin):
    """A chapter's grades for Moodle's CSV grade import (``--format moodle``)."""

    fmt = "moodle"


class CanvasExportPlugin(ChapterExportPlugin):
    """The Canvas gradebook export ``canvas`` with the chapter's column filled in (``--format canvas``)."""

    fmt = "canvas"
    canvas = Unicode("", help="the gradebook CSV exported from Canvas (Grades > Export)").tag(
        config=True
    )

    def _files(self):
        if not self.canvas:
            raise ValueError(
                "name the gradebook CSV exported from Canvas: --CanvasExportPlugin.canvas=FILE"
            )
        return {"canvas_csv": self.canvas}
