"""Grade a class: a folder (or zip) of submissions -> scores, feedback, grades.csv.

A submissions folder holds one folder per student, each with the chapter's
notebook somewhere inside (``alice/gradient_descent.ipynb`` or nbgrader's
``alice/01_gradient_descent/gradient_descent.ipynb``). Students are graded one
at a time; a student whose notebook is missing or broken gets a reason in the
report and does not stop the others.
"""

import csv
import functools
import hashlib
import json
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from autograder.build import read_source, release
from autograder.course import DEFAULT_WORKDIR, grading_digest, put_venv_on_path
from autograder.outside_check import reference_records
from autograder.sandbox import unavailable_reason
from autograder.workers import Worker, run_all


@dataclass
class StudentResult:
    """One student's grade: points per grade cell, totals, flags and what went wrong."""

    student: str
    cells: dict = field(default_factory=dict)  # grade_id -> CellScore
    status: str = "graded"
    reason: str = ""
    flags: list = field(default_factory=list)  # timeout, crash, tampered, unreadable, renamed
    notes: list = field(default_factory=list)
    seconds: float = 0.0

    @classmethod
    def from_dict(cls, d):
        cells = {k: CellScore(*v) for k, v in d.get("cells", {}).items()}
        fields = ("status", "reason", "flags", "notes", "seconds")
        return cls(d["student"], cells, **{k: d[k] for k in fields if k in d})

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


def grade_class(submissions, assignment, workdir=DEFAULT_WORKDIR, timeout=30, unsafe=False, student_timeout=300, workers=1):
    """Grade every student in ``submissions`` (a folder or a .zip); return results.

    Students are graded by ``workers`` worker processes, each student under
    an outer limit of ``student_timeout`` seconds, in the sandboxed kernel
    unless ``unsafe``. A student whose submission is unchanged since an
    earlier run keeps that result, so an interrupted run can simply be
    started again. Writes ``<workdir>/feedback/<student>/<assignment>/*.html``
    and ``<workdir>/grades.csv``.
    """
    put_venv_on_path()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    check_sandbox(unsafe)
    release([assignment], course_dir=workdir / "release", workdir=workdir)
    reference_records(assignment, workdir / "reference")
    with _unpacked(submissions) as folder:
        job = {"assignment": assignment, "workdir": str(workdir), "timeout": timeout, "unsafe": bool(unsafe)}
        job["hidden_ids"] = hidden_test_ids(assignment)
        pool = [Worker({}) if unsafe else Worker.sandboxed(workdir, i) for i in range(workers)]
        students = sorted(p.name for p in Path(folder).iterdir() if p.is_dir())
        tasks = [functools.partial(_grade_or_reuse, folder, s, job, student_timeout) for s in students]
        results = run_all(pool, tasks)
    write_grades_csv(results, assignment, workdir / "grades.csv")
    return results


def check_sandbox(unsafe):
    """Refuse to grade without a sandbox, unless the instructor said ``unsafe``."""
    reason = unavailable_reason()
    if reason and not unsafe:
        raise SandboxUnavailable(reason)
    if reason:
        print(f"WARNING: grading WITHOUT a sandbox ({reason}); student code runs as you.", file=sys.stderr)


class SandboxUnavailable(SystemExit):
    """The grading machine cannot sandbox kernels; grading refuses to start."""

    def __init__(self, reason):
        super().__init__(
            f"REFUSING TO GRADE: the sandbox is unavailable here: {reason}.\n"
            "Student code would run with your permissions and could read the solutions, "
            "the gradebook and other students' work, or forge its grade.\n"
            "Install bubblewrap (apt-get install bubblewrap) on Linux, or pass --unsafe if you trust every submission."
        )


def hidden_test_ids(assignment):
    """grade_ids of the chapter's test cells that contain hidden tests."""
    return sorted(
        c.metadata["nbgrader"]["grade_id"]
        for c in read_source(assignment).cells
        if c.metadata.get("nbgrader", {}).get("grade") and "BEGIN HIDDEN TESTS" in c.source
    )


def _grade_or_reuse(folder, student, job, student_timeout, worker):
    """The student's result: reused when nothing changed, else graded by ``worker`` now."""
    student_dir = Path(folder) / student
    digest = f"{_folder_digest(student_dir)}:{grading_digest(job['assignment'])}"
    out = Path(job["workdir"]) / "results" / f"{student}.json"
    if out.exists():
        previous = json.loads(out.read_text())
        if previous.get("submission_sha256") == digest:
            return StudentResult.from_dict(previous)
    out.unlink(missing_ok=True)
    student_job = {**job, **worker.settings, "student": student, "student_dir": str(student_dir), "submission_sha256": digest}
    job_file = out.parent / "jobs" / f"{student}.json"
    job_file.parent.mkdir(parents=True, exist_ok=True)
    job_file.write_text(json.dumps(student_job))
    failure = worker.run(job_file, out, student_timeout)
    job_file.unlink(missing_ok=True)
    if failure == "timeout":
        return StudentResult(student, status="not graded", reason=f"took longer than {student_timeout} s", flags=["timeout"])
    if failure:
        return StudentResult(student, status="not graded", reason="the grading process crashed", flags=["crash"])
    return StudentResult.from_dict(json.loads(out.read_text()))


def _folder_digest(folder):
    """SHA-256 over the names and bytes of every file in a student's folder."""
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def write_grades_csv(results, assignment, path):
    """One row per student: totals, status, then every grade cell's points."""
    cells = sorted({c for r in results for c in r.cells})
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "auto_score", "auto_max", "manual_pending", "status", "flags", "reason", "notes", "seconds", *cells])
        for r in results:
            scores = [_points(r.cells.get(c)) for c in cells]
            row = [r.student, assignment, f"{r.auto_score:g}", f"{r.auto_max:g}", f"{r.manual_pending:g}", r.status]
            writer.writerow([*row, " ".join(r.flags), r.reason, "; ".join(r.notes), f"{r.seconds:.1f}", *scores])


def _points(cell):
    """A CSV field: the points, or empty while missing or waiting for manual grading."""
    return "" if cell is None or cell.score is None else f"{cell.score:g}"


def format_table(results):
    """A plain-text grade table for the terminal."""
    lines = [f"{'student':<16} {'auto points':>12} {'manual':>8} {'seconds':>8}  status"]
    for r in results:
        points = f"{r.auto_score:g} / {r.auto_max:g}" if r.cells else "-"
        pending = f"{r.manual_pending:g} pt" if r.manual_pending else ""
        flags = f" [{', '.join(r.flags)}]" if r.flags else ""
        lines.append(f"{r.student:<16} {points:>12} {pending:>8} {r.seconds:>8.1f}  {r.status}{flags}{': ' + r.reason if r.reason else ''}")
    total = sum(r.seconds for r in results)
    lines.append(f"{len(results)} students, {total:.0f} s of grading")
    return "\n".join(lines)


# nbgrader's zip_collect default: files named <student>_attempt_<timestamp>_<file>.
ZIP_COLLECT_NAME = re.compile(r"^(?P<student>.+?)_attempt_(?P<timestamp>[^_]+)_(?P<file>.+)$")


class _unpacked:
    """Context manager giving one folder per student.

    A zip is extracted to a temporary folder; a folder of flat files named as
    nbgrader's ``zip_collect`` names them is sorted into student folders.
    """

    def __init__(self, submissions):
        self.path = Path(submissions)
        self.tmp = None

    def __enter__(self):
        if not self.path.is_dir() and not zipfile.is_zipfile(self.path):
            raise SystemExit(f"{self.path} is neither a folder nor a zip file of submissions.")
        self.tmp = tempfile.TemporaryDirectory()
        if self.path.is_dir():
            root = self.path
        else:
            with zipfile.ZipFile(self.path) as z:
                z.extractall(self.tmp.name)
            root = _single_top_folder(Path(self.tmp.name))
        flat = [p for p in root.iterdir() if p.is_file() and ZIP_COLLECT_NAME.match(p.name)]
        return _sort_flat_files(flat, Path(self.tmp.name) / "students") if flat else root

    def __exit__(self, *exc):
        if self.tmp:
            self.tmp.cleanup()


def _sort_flat_files(files, target):
    """Copy ``<student>_attempt_<time>_<file>`` files to ``target/<student>/<file>``."""
    for path in files:
        match = ZIP_COLLECT_NAME.match(path.name)
        dest = target / match["student"] / match["file"]
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
    return target


def _single_top_folder(root):
    """A zip of one folder of students unpacks to that folder; else the root."""
    entries = [p for p in root.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir() and not list(entries[0].glob("*.ipynb")):
        inner = [p for p in entries[0].iterdir() if p.is_dir()]
        if inner and all(list(p.rglob("*.ipynb")) for p in inner):
            return entries[0]
    return root
