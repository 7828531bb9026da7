"""Grade a class: a folder (or zip) of submissions -> scores, feedback, grades.csv.

A submissions folder holds one folder per student, each with the chapter's
notebook somewhere inside (``alice/gradient_descent.ipynb`` or nbgrader's
``alice/01_gradient_descent/gradient_descent.ipynb``). Students are graded one
at a time; a student whose notebook is missing or broken gets a reason in the
report and does not stop the others.
"""

import csv
import functools
import json
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from autograder.build import read_source, release
from autograder.course import DEFAULT_WORKDIR, gradebook_url, grading_digest, put_venv_on_path
from autograder.intake import SubmissionError, folder_digest
from autograder.messages import Flag, Job, StudentResult
from autograder.outside_check import reference_records
from autograder.roster import printable, roster
from autograder.sandbox import unavailable_reason
from autograder.workers import Worker, run_all


def grade_class(
    submissions,
    assignment,
    workdir=DEFAULT_WORKDIR,
    timeout=30,
    unsafe=False,
    student_timeout=300,
    workers=1,
    scheduler=None,
    security=None,
    db_url=None,
):
    """Grade every student in ``submissions`` (a folder or a .zip); return results.

    Students are graded by ``workers`` worker processes, each student under
    an outer limit of ``student_timeout`` seconds, in the sandboxed kernel
    unless ``unsafe``. With ``scheduler`` (a Dask scheduler's address or a
    ``distributed.Client``) they are graded on that Dask cluster instead
    (:mod:`autograder.dask_engine`; ``security``: a ``distributed.Security``
    for TLS), and this machine runs no student code. A student whose
    submission is unchanged since an earlier run keeps that result, so an
    interrupted run can simply be started again. Writes
    ``<workdir>/feedback/<student>/<assignment>/*.html`` and ``<workdir>/grades.csv``, and
    the scores into the gradebook: ``db_url``'s (a database server that other graders and the
    formgrader may share), by default ``$BACKPROPLAB_DB_URL``'s or ``<workdir>/gradebook.db``.
    """
    put_venv_on_path()
    workdir = Path(workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    if scheduler is None:
        check_sandbox(unsafe)
    db_url = gradebook_url(workdir, db_url)
    release([assignment], course_dir=workdir / "release", workdir=workdir, db_url=db_url)
    if scheduler is None:
        reference_records(assignment, workdir / "reference")
    with _unpacked(submissions) as folder:
        job = Job(
            assignment,
            str(workdir),
            timeout,
            bool(unsafe),
            hidden_ids=hidden_test_ids(assignment),
            grading_digest=grading_digest(assignment),
            db_url=db_url,
        )  # once per batch, not per student
        if scheduler is None:
            results = _grade_locally(roster(folder), job, student_timeout, workers)
        else:
            from autograder.dask_engine import grade_on_dask

            results = grade_on_dask(scheduler, roster(folder), job, student_timeout, security)
    write_grades_csv(results, assignment, workdir / "grades.csv")
    return results


def _grade_locally(students, job, student_timeout, workers):
    """Grade ``students`` with ``workers`` local worker processes; results in roster order."""
    workdir = Path(job.workdir)
    pool = [
        Worker({}) if job.unsafe else Worker.sandboxed(workdir, i, workers) for i in range(workers)
    ]
    tasks = [functools.partial(_grade_or_reuse, s, job, student_timeout) for s in students]
    return run_all(pool, tasks)


def check_sandbox(unsafe):
    """Refuse to grade without a sandbox, unless the instructor said ``unsafe``."""
    reason = unavailable_reason()
    if reason and not unsafe:
        raise SandboxUnavailable(reason)
    if reason:
        print(
            f"WARNING: grading WITHOUT a sandbox ({reason}); student code runs as you.",
            file=sys.stderr,
        )


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


def _grade_or_reuse(student, job, student_timeout, worker):
    """The student's result, named as submitted: reused when nothing changed, else graded by ``worker`` now."""
    result = _result_of(student, job, student_timeout, worker)
    result.name = student.name
    return result


def _result_of(student, job, student_timeout, worker):
    """The result for :class:`~autograder.roster.Student` ``student`` (whose id names every file)."""
    known, digest = known_result(student, job)
    if known is not None:
        return known
    student_job = job.for_student(worker.settings, student.id, student.folder, digest)
    return grade_with(worker, student_job, student_timeout)


def known_result(student, job):
    """``(result, digest)``: what ``student`` gets without grading, else ``(None, digest)``.

    A student that cannot be read is not graded (digest ``None``); one whose
    folder and grader are unchanged since the stored result keeps it.
    """
    try:
        if student.problem:
            raise SubmissionError(student.problem)
        digest = f"{folder_digest(student.folder)}:{job.grading_digest}"
    except (SubmissionError, OSError) as exc:
        return StudentResult(student.id).not_graded(str(exc), Flag.UNREADABLE), None
    out = result_path(job.workdir, student.id)
    if out.exists():
        previous = json.loads(out.read_text())
        if previous.get("submission_sha256") == digest:  # same folder, same grader: same format too
            return StudentResult.from_dict(previous), digest
    return None, digest


def result_path(workdir, student):
    """Where a student's finished result is stored: ``<workdir>/results/<student>.json``."""
    return Path(workdir) / "results" / f"{student}.json"


def grade_with(worker, job, student_timeout):
    """Grade one student's ``job`` (see ``Job.for_student``) in ``worker`` under the outer time limit.

    Returns the :class:`StudentResult`; a finished one is also stored at
    :func:`result_path` (a timeout or a crash is not, so a rerun tries again).
    """
    out = result_path(job.workdir, job.student)
    out.unlink(missing_ok=True)
    job_file = out.parent / "jobs" / f"{job.student}.json"
    job_file.parent.mkdir(parents=True, exist_ok=True)
    job.write(job_file)
    failure = worker.run(job_file, out, student_timeout)
    job_file.unlink(missing_ok=True)
    if failure == "timeout":
        return StudentResult(job.student).not_graded(
            f"took longer than {student_timeout} s", Flag.TIMEOUT
        )
    if failure:
        return StudentResult(job.student).not_graded("the grading process crashed", Flag.CRASH)
    return StudentResult.from_dict(json.loads(out.read_text()))


def write_grades_csv(results, assignment, path):
    """One row per student: totals, status, then every grade cell's points."""
    cells = sorted({c for r in results for c in r.cells})
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "student",
                "name",
                "assignment",
                "auto_score",
                "auto_max",
                "manual_pending",
                "status",
                "flags",
                "reason",
                "notes",
                "seconds",
                *cells,
            ]
        )
        for r in results:
            scores = [_points(r.cells.get(c)) for c in cells]
            row = [
                r.student,
                _cell_text(r.name or r.student),
                assignment,
                f"{r.auto_score:g}",
                f"{r.auto_max:g}",
                f"{r.manual_pending:g}",
                str(r.status),
            ]
            writer.writerow(
                [
                    *row,
                    " ".join(map(str, r.flags)),
                    _cell_text(r.reason),
                    _cell_text("; ".join(r.notes)),
                    f"{r.seconds:.1f}",
                    *scores,
                ]
            )


def _cell_text(text):
    """A CSV field a spreadsheet shows as text: no control characters, no leading =, +, -, @ (a formula)."""
    text = printable(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def _points(cell):
    """A CSV field: the points, or empty while missing or waiting for manual grading."""
    return "" if cell is None or cell.score is None else f"{cell.score:g}"


def format_table(results):
    """A plain-text grade table for the terminal."""
    lines = [f"{'student':<16} {'auto points':>12} {'manual':>8} {'seconds':>8}  status"]
    for r in results:
        points = f"{r.auto_score:g} / {r.auto_max:g}" if r.cells else "-"
        pending = f"{r.manual_pending:g} pt" if r.manual_pending else ""
        flags = f" [{', '.join(map(str, r.flags))}]" if r.flags else ""
        lines.append(
            f"{printable(r.name or r.student):<16} {points:>12} {pending:>8} {r.seconds:>8.1f}  {r.status}{flags}{': ' + printable(r.reason) if r.reason else ''}"
        )
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
            _extract_capped(self.path, self.tmp.name)
            root = _single_top_folder(Path(self.tmp.name))
        flat = [
            p
            for p in root.iterdir()
            if (p.is_symlink() or p.is_file()) and ZIP_COLLECT_NAME.match(p.name)
        ]
        return _sort_flat_files(flat, Path(self.tmp.name) / "students") if flat else root

    def __exit__(self, *exc):
        if self.tmp:
            self.tmp.cleanup()


def _sort_flat_files(files, target):
    """Copy ``<student>_attempt_<time>_<file>`` files to ``target/<student>/<file>``.

    A symlink stays a symlink (intake refuses it for that student alone); a file part
    such as ``..`` cannot leave the student's folder.
    """
    for path in files:
        match = ZIP_COLLECT_NAME.match(path.name)
        name = match["file"] if match["file"] not in (".", "..") else "unnamed"
        dest = target / match["student"] / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest, follow_symlinks=False)
    return target


MAX_ZIP_BYTES = 2 * 2**30  # all members, uncompressed
MAX_ZIP_MEMBERS = 20_000
MAX_ZIP_RATIO = 200  # uncompressed / compressed, for members over 1 MiB


def _extract_capped(path, target):
    """Extract the zip at ``path`` into ``target``, leaving out any member that would unpack to a bomb.

    A member over ``MAX_ZIP_RATIO`` times its compressed size (above 1 MiB) is skipped with a
    warning, so its student alone misses that file; a zip past the total caps is refused whole.
    """
    with zipfile.ZipFile(path) as z:
        members = z.infolist()
        bombs = [
            m
            for m in members
            if m.file_size > 2**20 and m.file_size > MAX_ZIP_RATIO * max(m.compress_size, 1)
        ]
        kept = [m for m in members if m not in bombs]
        total = sum(m.file_size for m in kept)
        if len(members) > MAX_ZIP_MEMBERS or total > MAX_ZIP_BYTES:
            raise SystemExit(
                f"{path} is refused: {len(members)} files, {total / 2**30:.1f} GiB uncompressed; "
                f"at most {MAX_ZIP_MEMBERS} files and {MAX_ZIP_BYTES // 2**30} GiB are unpacked."
            )
        for m in bombs:
            print(
                f"WARNING: left out {printable(m.filename)} ({m.file_size / 2**20:.0f} MiB from "
                f"{m.compress_size / 2**10:.0f} KiB: a zip bomb?)",
                file=sys.stderr,
            )
        z.extractall(target, members=kept)


def _single_top_folder(root):
    """A zip of one folder of students unpacks to that folder; else the root."""
    entries = [p for p in root.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir() and not list(entries[0].glob("*.ipynb")):
        inner = [p for p in entries[0].iterdir() if p.is_dir()]
        if inner and all(list(p.rglob("*.ipynb")) for p in inner):
            return entries[0]
    return root
