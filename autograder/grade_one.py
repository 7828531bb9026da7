"""Grade one student, start to finish, in a worker process of :mod:`autograder.grade`.

``python -m autograder.grade_one`` is a worker: it reads the paths of job
files (student, chapter, folders, limits) from stdin, one per line, grades
each, and writes ``<workdir>/results/<student>.json``. The
parent waits for the result file and kills and replaces a worker that
overruns its time limit.

1. intake: find, read and repair the notebook (:mod:`autograder.intake`);
2. nbgrader ``autograde`` in the sandboxed kernel (or, with ``unsafe``, a
   plain one): locked and test cells are restored, deleted ones added back;
3. the outside check decides each test cell's points
   (:mod:`autograder.outside_check`), which are written to the gradebook;
   a cell that passed in the kernel but fails outside is flagged as tampering;
4. feedback HTML without the hidden tests (:mod:`autograder.feedback`).
"""

import json
import os
import re
import stat
import sys
import time
import warnings
from pathlib import Path

import nbformat

from autograder.course import (
    gradebook_lock,
    nbgrader_config,
    notebook_stem,
    put_venv_on_path,
    sqlite_gradebook_url,
)
from autograder.feedback import feedback_notebook, write_feedback_html
from autograder.intake import (
    SubmissionError,
    clean_metadata,
    find_notebook,
    load_notebook,
    restore_deleted_cells,
    restore_metadata,
)
from autograder.messages import CellScore, Flag, Job, StudentResult
from autograder.outside_check import (
    check_cell,
    failed_checked_keys,
    records_by_cell,
    reference_records,
    rewritten_cells,
    stray_records,
)
from autograder.sanitize import sanitize_notebook
from autograder.snapshot import SNAPSHOTS, autograde_preprocessors
from autograder.verdicts import answer_cells_by_count, cell_reason, errors_by_cell


def grade(job):
    """Grade ``job``'s student (a :class:`~autograder.messages.Job`); return their :class:`StudentResult`."""
    workdir, assignment = Path(job.workdir), job.assignment
    result = StudentResult(job.student, submission_sha256=job.submission_sha256)
    try:
        path, notes = find_notebook(job.student_dir, assignment)
        notebook, more = load_notebook(path)
        release = nbformat.read(
            workdir / "release" / assignment / f"{notebook_stem(assignment)}.ipynb", 4
        )
        result.notes = notes + more + restore_metadata(notebook, release)
        result.notes += restore_deleted_cells(notebook, release)
        if path.name != f"{notebook_stem(assignment)}.ipynb":
            result.flags.append(Flag.RENAMED)
        stage(notebook, job, workdir)
        with gradebook_lock(_gradebook(job), shared=True):  # no release rewrites the cells now
            autograde(job, workdir)
            result.cells, tampered, stray, rewritten = score(job, workdir)
        copy_exchange_receipt(path.parent, feedback_folder(job, workdir))
        result.notes += stray
        if tampered or rewritten:
            result.flags.append(Flag.TAMPERED)
        if tampered:
            result.notes.append(
                f"checks passed in the kernel but failed outside: {', '.join(tampered)}"
            )
    except SubmissionError as exc:
        result.not_graded(str(exc), exc.flag)
    except Exception as exc:  # the batch goes on; the instructor sees what broke
        result.not_graded(f"grading failed: {type(exc).__name__}: {exc}"[:300], Flag.CRASH)
    return result


def feedback_folder(job, workdir):
    """Where the student's feedback page goes: ``<workdir>/feedback/<student>/<assignment>/``."""
    return Path(workdir) / "feedback" / job.student / job.assignment


# nbgrader's submit writes these beside the notebook; its release_feedback reads them beside the page
EXCHANGE_RECEIPT = ("timestamp.txt", "submission_secret.txt")
MAX_RECEIPT_BYTES = 4096


def copy_exchange_receipt(submitted, feedback):
    """Copy nbgrader's receipt of a submission (``EXCHANGE_RECEIPT``) from ``submitted`` into ``feedback``.

    A notebook collected from nbgrader's exchange has them in its folder. ``nbgrader
    release_feedback`` names each page by a hash of the secret, so that only the student who
    submitted fetches it. Only small regular files are copied; a zip's submission has none.
    """
    for name in EXCHANGE_RECEIPT:
        source = Path(submitted) / name
        info = source.lstat() if os.path.lexists(source) else None
        if info and stat.S_ISREG(info.st_mode) and info.st_size <= MAX_RECEIPT_BYTES:
            Path(feedback).mkdir(parents=True, exist_ok=True)
            (Path(feedback) / name).write_bytes(source.read_bytes())


def stage(notebook, job, workdir):
    """Write the repaired notebook where nbgrader looks for the submission."""
    kernel = "python3" if job.unsafe else job.kernel_name
    target = (
        workdir
        / "submitted"
        / job.student
        / job.assignment
        / f"{notebook_stem(job.assignment)}.ipynb"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    for old in target.parent.glob("*"):
        old.unlink()
    nbformat.write(clean_metadata(notebook, kernel), target)


def autograde(job, workdir):
    """nbgrader's autograde with the course's safety settings."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = _api(job).autograde(job.assignment, job.student, force=True, create=True)
    if not result["success"]:
        raise SubmissionError(
            _failure_reason(result.get("log") or "", result.get("error") or ""), flag="crash"
        )


def _failure_reason(log, error):
    """A one-line reason from nbgrader's log of a failed autograde."""
    errors = [
        ln.strip()
        for ln in (log + "\n" + error).splitlines()
        if re.match(r"\s*\w+(\.\w+)*(Error|Exception): ", ln)
    ]
    errors = [e for e in errors if "NbGraderException" not in e] or [
        "unknown error (see nbgrader's log)"
    ]
    if any("DeadKernel" in e or "Kernel died" in e for e in errors):
        return f"the kernel died (os._exit, a crash, or out of memory): {errors[-1][:200]}"
    return f"nbgrader could not grade it: {errors[-1][:200]}"


_APIS = {}


def _api(job):
    """One ``NbGraderAPI`` per distinct configuration, reused across students."""
    from nbgrader.apps import NbGraderAPI

    key = (
        job.workdir,
        job.db_url,
        job.timeout,
        job.unsafe,
        job.kernel_name,
        job.jupyter_path,
        job.ipc_prefix,
    )
    if key not in _APIS:
        _APIS[key] = NbGraderAPI(config=_config(job))
    return _APIS[key]


def _config(job):
    """nbgrader's configuration with the course's safety settings."""
    workdir = Path(job.workdir)
    config = nbgrader_config(
        workdir, release_dir=workdir / "release", timeout=job.timeout, db_url=_gradebook(job)
    )
    config.OverwriteCells.add_missing_cells = True
    config.Autograde.autograde_preprocessors = autograde_preprocessors()
    if not job.unsafe:
        os.environ["JUPYTER_PATH"] = job.jupyter_path
        config.Execute.kernel_name = job.kernel_name
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = job.ipc_prefix
    config.LimitOutput.max_lines = 200
    return config


def _gradebook(job):
    """The job's gradebook: its ``db_url``, or the SQLite one of its workdir."""
    return job.db_url or sqlite_gradebook_url(job.workdir)


def score(job, workdir):
    """Decide each grade cell's points outside the kernel; update the gradebook; write feedback.

    Returns ``(cells, tampered grade_ids, notes on ignored records, indices of rewritten test cells)``.
    """
    from nbgrader.api import Gradebook

    assignment, student = job.assignment, job.student
    stem = notebook_stem(assignment)
    autograded = workdir / "autograded" / student / assignment / f"{stem}.ipynb"
    graded = nbformat.read(autograded, 4)
    reference = reference_records(assignment, workdir / "reference")
    records = records_by_cell(graded, SNAPSHOTS)
    errors, answers = errors_by_cell(graded), answer_cells_by_count(graded)
    verdicts, cells, tampered = {}, {}, []
    with warnings.catch_warnings(), Gradebook(_gradebook(job)) as gb:
        warnings.simplefilter("ignore")
        for g in gb.find_submission_notebook(stem, assignment, student).grades:
            if g.cell_type != "code":
                cells[g.name] = CellScore(
                    None if g.needs_manual_grade else g.score, g.max_score, False
                )
                continue
            expected, sent = reference.get(g.name, {}), records.get(g.name, [])
            reason = cell_reason(check_cell(expected, sent), errors.get(g.name), answers)
            points = 0.0 if reason else g.max_score
            # A check that passed in the kernel and fails outside, with the very same comparison, was tampered with.
            if g.name not in errors and failed_checked_keys(expected, sent):
                tampered.append(g.name)
            g.auto_score = points
            verdicts[g.name] = (points, g.max_score, reason)
            cells[g.name] = CellScore(points, g.max_score, True, reason or "")
        gb.db.commit()
    total = (sum(p for p, _, _ in verdicts.values()), sum(m for _, m, _ in verdicts.values()))
    _store_sanitized(graded, autograded)
    html = feedback_folder(job, workdir) / f"{stem}.html"
    write_feedback_html(feedback_notebook(graded, verdicts, job.hidden_ids, total), html)
    return (
        cells,
        sorted(tampered),
        stray_records(graded, SNAPSHOTS),
        rewritten_cells(graded, SNAPSHOTS),
    )


def _store_sanitized(graded, autograded):
    """Rewrite the stored autograded copy without scripts: the formgrader renders it."""
    sanitize_notebook(graded)
    mode = autograded.stat().st_mode  # nbgrader leaves it read-only; keep it so
    autograded.chmod(mode | stat.S_IWUSR)
    nbformat.write(graded, autograded)
    autograded.chmod(mode)


def run_job(job_file):
    """Grade the job in ``job_file`` and write its result file atomically."""
    job = Job.read(job_file)
    start = time.monotonic()
    result = grade(job)
    result.seconds = round(time.monotonic() - start, 2)
    out = Path(job.workdir) / "results" / f"{job.student}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_suffix(".tmp")
    partial.write_text(json.dumps(result.to_dict(), indent=1))
    os.replace(partial, out)


def serve():
    """The worker loop: grade the job file named on each stdin line (its result file says when done)."""
    put_venv_on_path()
    for line in sys.stdin:
        run_job(line.strip())


if __name__ == "__main__":
    serve()
