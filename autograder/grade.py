"""Grade a class: a folder (or zip) of submissions -> scores, feedback, grades.csv.

A submissions folder holds one folder per student, each with the chapter's
notebook somewhere inside (``alice/gradient_descent.ipynb`` or nbgrader's
``alice/01_gradient_descent/gradient_descent.ipynb``). Students are graded one
at a time; a student whose notebook is missing or broken gets a reason in the
report and does not stop the others.
"""

import csv
import shutil
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.build import release
from autograder.course import DEFAULT_WORKDIR, nbgrader_config, notebook_stem, put_venv_on_path


@dataclass
class StudentResult:
    """One student's grade: points per grade cell, totals and what went wrong."""

    student: str
    cells: dict = field(default_factory=dict)  # grade_id -> CellScore
    status: str = "graded"
    reason: str = ""
    seconds: float = 0.0

    @property
    def auto_score(self):
        return sum(c.score for c in self.cells.values() if c.autograded)

    @property
    def auto_max(self):
        return sum(c.max_score for c in self.cells.values() if c.autograded)

    @property
    def manual_pending(self):
        """Points of written answers that still wait for the instructor."""
        return sum(c.max_score for c in self.cells.values() if not c.autograded and c.score is None)


@dataclass(frozen=True)
class CellScore:
    """Points of one grade cell; ``score`` is None while it needs manual grading."""

    score: float
    max_score: float
    autograded: bool


def grade_class(submissions, assignment, workdir=DEFAULT_WORKDIR, timeout=30):
    """Grade every student in ``submissions`` (a folder or a .zip); return results.

    Writes ``<workdir>/feedback/<student>/<assignment>/*.html`` and
    ``<workdir>/grades.csv``.
    """
    put_venv_on_path()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    release([assignment], course_dir=workdir / "release", workdir=workdir)
    with _unpacked(submissions) as folder:
        students = sorted(p.name for p in Path(folder).iterdir() if p.is_dir())
        results = [grade_student(folder, s, assignment, workdir, timeout) for s in students]
    write_grades_csv(results, assignment, workdir / "grades.csv")
    return results


def grade_student(folder, student, assignment, workdir, timeout=30):
    """Autograde and write feedback for one student; never raises."""
    from nbgrader.apps import NbGraderAPI

    start = time.monotonic()
    result = StudentResult(student)
    try:
        _stage(Path(folder) / student, student, assignment, workdir)
        api = NbGraderAPI(config=nbgrader_config(workdir, release_dir=workdir / "release", timeout=timeout))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # SQLAlchemy's chatter inside nbgrader
            _check(api.autograde(assignment, student, force=True, create=True), "autograding")
            _check(api.generate_feedback(assignment, student, force=True), "writing feedback")
            result.cells = read_cell_scores(workdir, assignment, student)
    except SubmissionError as exc:
        result.status, result.reason = "not graded", str(exc)
    result.seconds = time.monotonic() - start
    return result


class SubmissionError(Exception):
    """A submission that cannot be graded, with a reason the instructor reads."""


def _stage(student_dir, student, assignment, workdir):
    """Copy the student's notebook to ``<workdir>/submitted/<student>/<assignment>/``."""
    name = f"{notebook_stem(assignment)}.ipynb"
    found = sorted(student_dir.rglob(name))
    if not found:
        others = ", ".join(sorted(p.name for p in student_dir.rglob("*.ipynb"))) or "none"
        raise SubmissionError(f"no {name} in the submission (notebooks found: {others})")
    target = workdir / "submitted" / student / assignment
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copyfile(found[0], target / name)


def _check(result, step):
    if not result["success"]:
        raise SubmissionError(f"nbgrader failed while {step}: {result['error'] or result['log'][-500:]}")


def read_cell_scores(workdir, assignment, student):
    """``{grade_id: CellScore}`` from the gradebook.

    Test cells (code) are autograded; written answers (markdown) need the
    instructor, except an unanswered one, which nbgrader scores 0.
    """
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(workdir) / 'gradebook.db'}") as gb:
        notebook = gb.find_submission_notebook(notebook_stem(assignment), assignment, student)
        return {
            g.name: CellScore(
                score=None if g.needs_manual_grade else g.score,
                max_score=g.max_score,
                autograded=g.cell_type == "code",
            )
            for g in sorted(notebook.grades, key=lambda g: g.name)
        }


def write_grades_csv(results, assignment, path):
    """One row per student: totals, status, then every grade cell's points."""
    cells = sorted({c for r in results for c in r.cells})
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "auto_score", "auto_max", "manual_pending", "status", "reason", "seconds", *cells])
        for r in results:
            scores = [_points(r.cells.get(c)) for c in cells]
            writer.writerow([r.student, assignment, r.auto_score, r.auto_max, r.manual_pending, r.status, r.reason, f"{r.seconds:.1f}", *scores])


def _points(cell):
    """A CSV field: the points, or empty while missing or waiting for manual grading."""
    return "" if cell is None or cell.score is None else f"{cell.score:g}"


def format_table(results):
    """A plain-text grade table for the terminal."""
    lines = [f"{'student':<16} {'auto points':>12} {'manual':>8}  status"]
    for r in results:
        points = f"{r.auto_score:g} / {r.auto_max:g}" if r.cells else "-"
        pending = f"{r.manual_pending:g} pt" if r.manual_pending else ""
        lines.append(f"{r.student:<16} {points:>12} {pending:>8}  {r.status}{': ' + r.reason if r.reason else ''}")
    return "\n".join(lines)


class _unpacked:
    """Context manager: a zip is extracted to a temporary folder, a folder is used as is."""

    def __init__(self, submissions):
        self.path = Path(submissions)
        self.tmp = None

    def __enter__(self):
        if self.path.is_dir():
            return self.path
        if not zipfile.is_zipfile(self.path):
            raise SystemExit(f"{self.path} is neither a folder nor a zip file of submissions.")
        self.tmp = tempfile.TemporaryDirectory()
        with zipfile.ZipFile(self.path) as z:
            z.extractall(self.tmp.name)
        return _single_top_folder(Path(self.tmp.name))

    def __exit__(self, *exc):
        if self.tmp:
            self.tmp.cleanup()


def _single_top_folder(root):
    """A zip of one folder of students unpacks to that folder; else the root."""
    entries = [p for p in root.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir() and not list(entries[0].glob("*.ipynb")):
        inner = [p for p in entries[0].iterdir() if p.is_dir()]
        if inner and all(list(p.rglob("*.ipynb")) for p in inner):
            return entries[0]
    return root
