"""Grade a class on a Dask cluster: one task per student, the coordinator alone writes.

The coordinator (``python -m autograder grade ... --scheduler ADDRESS``) sends
each student as one task: the chapter's :class:`~autograder.messages.Job` (a
dict) and the bytes of the student's folder. A Dask worker shares no disk
with it: the first task of a chapter on a worker process prepares, in the
worker's ``local_directory``, the release, the solution's reference records
and a pool of sandboxed grading processes (:class:`~autograder.workers.Worker`),
once per chapter and grader version. Each task grades with the very code of
the local path (:func:`autograder.grade.grade_with`: outer time limit, sandbox
clean-up between students) and returns the result, the submitted, autograded
and feedback files and the gradebook's rows; the coordinator writes them
into its workdir, its gradebook and ``grades.csv``.

Tasks need one ``sandbox`` resource (start workers with ``--resources
sandbox=1``), are retried once, and are keyed by chapter, submission and
grader, so identical work is never done twice while the scheduler holds it;
a finished student is stored by the coordinator and kept by a rerun.

Dask runs pickled code sent by whoever can reach the scheduler:
:func:`scheduler_command` and :func:`worker_command` bind 127.0.0.1 unless
told otherwise, and take TLS files (see the README).
"""

import hashlib
import ipaddress
import json
import os
import shutil
import stat
import sys
import threading
import warnings
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from queue import Empty, SimpleQueue

from distributed.diagnostics.plugin import WorkerPlugin

from autograder.course import (
    gradebook_lock,
    grading_digest,
    notebook_stem,
    put_venv_on_path,
    sqlite_gradebook_url,
)
from autograder.intake import SubmissionError, entries, regular_files
from autograder.messages import Flag, Job, StudentResult

# What a task sends back for the coordinator to write, per student: <kind>/<student>/<chapter>/...
KINDS = ("submitted", "autograded", "feedback")
PLUGIN_NAME = "backproplab-sandboxes"


class ClusterCannotGrade(RuntimeError):
    """A worker that must not grade: another grader version, or no sandbox. Stops the batch."""


# --- the coordinator -----------------------------------------------------------------------


def grade_on_dask(scheduler, students, job, student_timeout, security=None):
    """Grade ``students`` (roster order) for the class ``job`` on a Dask cluster; return results.

    ``scheduler``: an address (``tcp://127.0.0.1:8786``, ``tls://...``) or a
    ``distributed.Client``. Results are written as they arrive, so a killed
    coordinator, started again, keeps what was finished.
    """
    from distributed import as_completed

    from autograder.grade import known_result

    results, waiting, futures = [None] * len(students), {}, {}
    with _client(scheduler, security) as client:
        client.register_plugin(SandboxPools(), name=PLUGIN_NAME)
        for index, student in enumerate(students):
            known, digest = known_result(student, job)
            if known is not None:
                results[index] = _named(known, student)
                continue
            try:
                submission = pack_submission(student.folder)
            except (SubmissionError, OSError) as exc:
                results[index] = _named(
                    StudentResult(student.id).not_graded(str(exc), Flag.UNREADABLE), student
                )
                continue
            key = task_key(job, digest, student_timeout)
            if key not in futures:
                futures[key] = client.submit(
                    grade_task,
                    # a worker grades into a gradebook of its own: no database URL (or password)
                    replace(job, submission_sha256=digest, db_url="").to_dict(),
                    submission,
                    student_timeout,
                    key=key,
                    resources={"sandbox": 1},
                    retries=1,
                )
            waiting.setdefault(key, []).append(index)
        for future in as_completed(list(futures.values())):
            output = _output_of(future)
            for index in waiting[future.key]:
                results[index] = _named(store(job, students[index], output), students[index])
    return results


@contextmanager
def _client(scheduler, security):
    """A ``distributed.Client`` for ``scheduler``: the one given, or a new one closed afterwards."""
    from distributed import Client

    if isinstance(scheduler, Client):
        yield scheduler
        return
    warn_if_exposed(str(scheduler), security)
    client = Client(str(scheduler), security=security, timeout="60s")
    try:
        yield client
    finally:
        client.close()


def warn_if_exposed(address, security):
    """Warn when the coordinator talks plain TCP to a scheduler that is not on this machine."""
    host = address.split("://", 1)[-1].rsplit(":", 1)[0].strip("[]")
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not address.startswith("tls://") and security is None:
        print(
            f"WARNING: {address} is reached without TLS: whoever can reach the scheduler can run "
            "code on every worker (see 'Grading on a Dask cluster' in the README).",
            file=sys.stderr,
        )


def _output_of(future):
    """The task's output, or ``{"error": ...}`` when the cluster failed it (a crash for that student)."""
    try:
        return future.result()
    except ClusterCannotGrade as exc:
        raise SystemExit(f"REFUSING TO GRADE on the Dask cluster: {exc}") from None
    except Exception as exc:  # KilledWorker, a lost connection...: that student alone
        return {"error": f"grading on the Dask cluster failed: {type(exc).__name__}: {exc}"[:300]}


def _named(result, student):
    """``result`` with the student's id and name as submitted."""
    result.student, result.name = student.id, student.name
    return result


def pack_submission(folder):
    """A student's folder as plain data: ``{"files": {path: bytes}, "links": [path]}``.

    Only regular files travel (with intake's caps); symbolic links and special
    files are named, so the worker's intake refuses them as the local one does.
    """
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in regular_files(folder)}
    links = [
        p.relative_to(folder).as_posix()
        for p, info in entries(folder)
        if not stat.S_ISREG(info.st_mode)
    ]
    return {"files": files, "links": links}


def task_key(job, digest, student_timeout):
    """The task's key: chapter, submission and grader (with its limits); the same work, the same key."""
    submission = hashlib.sha256(digest.split(":", 1)[0].encode()).hexdigest()[:24]
    grader = f"{job.grading_digest}:{job.timeout}:{job.unsafe}:{student_timeout}"
    return f"backproplab-grade-{job.assignment}-{submission}-{_sha(grader)[:16]}"


def _sha(text):
    return hashlib.sha256(text.encode()).hexdigest()


def store(job, student, output):
    """Write one task's ``output`` for ``student`` into the coordinator's workdir; return the result.

    Files first, then the gradebook, then the result file, which marks the
    student as done for a rerun (a timeout or crash is not stored: a rerun tries again).
    """
    from autograder.grade import result_path

    if "error" in output:
        return StudentResult(student.id).not_graded(output["error"], Flag.CRASH)
    result = StudentResult.from_dict(output["result"])
    result.student = student.id
    workdir = Path(job.workdir)
    _write_files(workdir, job.assignment, student.id, output["files"])
    if output["gradebook"]:
        record_in_gradebook(job.db_url, job.assignment, student.id, output["gradebook"])
    if output["stored"]:
        out = result_path(workdir, student.id)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_suffix(".tmp")
        partial.write_text(json.dumps(result.to_dict(), indent=1))
        os.replace(partial, out)
    return result


def _write_files(workdir, assignment, student, files):
    """Write ``{"<kind>/<name>": [bytes, mode]}`` to ``<workdir>/<kind>/<student>/<assignment>/<name>``."""
    for kind in KINDS:
        _remove_tree(workdir / kind / student / assignment)
    for name, (data, mode) in files.items():
        kind, _, rest = name.partition("/")
        parts = Path(rest).parts
        if kind not in KINDS or not parts or Path(rest).is_absolute() or ".." in parts:
            raise ValueError(f"a worker sent a file outside the student's folders: {name!r}")
        target = workdir / kind / student / assignment / rest
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        target.chmod(mode & 0o777)


def _remove_tree(path):
    """Remove ``path`` even where nbgrader left read-only files and folders."""

    def writable_then_retry(function, name, _):
        os.chmod(os.path.dirname(name), 0o700)
        if os.path.exists(name) and not os.path.islink(name):
            os.chmod(name, 0o700)
        function(name)

    if path.exists():
        shutil.rmtree(path, onerror=writable_then_retry)


def record_in_gradebook(db_url, assignment, student, rows):
    """Enter a worker's gradebook ``rows`` for ``student`` in the coordinator's gradebook ``db_url``.

    As nbgrader's autograde does: a grade with a manual score keeps it and
    stays marked for review.
    """
    from nbgrader.api import Gradebook

    with (
        gradebook_lock(db_url, shared=True),
        warnings.catch_warnings(),
        Gradebook(db_url) as gb,
    ):
        warnings.simplefilter("ignore")
        gb.update_or_create_student(student)
        gb.update_or_create_submission(assignment, student)
        notebook = gb.find_submission_notebook(notebook_stem(assignment), assignment, student)
        for grade in notebook.grades:
            if grade.name in rows["grades"]:
                grade.auto_score, needs_review = rows["grades"][grade.name]
                grade.needs_manual_grade = needs_review or grade.manual_score is not None
        for comment in notebook.comments:
            if comment.name in rows["comments"]:
                comment.auto_comment = rows["comments"][comment.name]
        gb.db.commit()


# --- the worker ---------------------------------------------------------------------------


def grade_task(job_dict, submission, student_timeout):
    """One Dask task: grade one submission on this worker; return what the coordinator writes.

    Returns ``{"result", "stored", "files", "gradebook", "worker"}``, plain
    data only (the result as ``StudentResult.to_dict``).
    """
    from distributed import get_worker

    from autograder.grade import grade_with, result_path

    job = Job.from_dict(job_dict)
    station = station_for(job, get_worker().local_directory)
    sid = "sub-" + _sha(job.submission_sha256)[:24]  # the content's id: no student's name here
    folder = station.workdir / "incoming" / sid
    try:
        unpack_submission(submission, folder)
        with station.sandbox() as worker:
            # the station's own SQLite gradebook (db_url ""), whatever the coordinator's is
            local = replace(job, workdir=str(station.workdir), db_url="")
            student_job = local.for_student(worker.settings, sid, folder, job.submission_sha256)
            result = grade_with(worker, student_job, student_timeout)
        stored = result_path(station.workdir, sid).exists()
        graded = stored and result.status == "graded"
        return {
            "result": result.to_dict(),
            "stored": stored,
            "files": _collect(station.workdir, job.assignment, sid),
            "gradebook": gradebook_rows(station.workdir, job.assignment, sid) if graded else None,
            "worker": get_worker().address,
        }
    finally:
        _forget(station.workdir, sid, folder)


def unpack_submission(submission, folder):
    """Recreate a packed folder (:func:`pack_submission`); links become dangling symbolic links."""
    _remove_tree(folder)
    folder.mkdir(parents=True)
    for name, data in submission["files"].items():
        target = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ValueError(f"a file outside the submission: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name in submission["links"]:
        target = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise ValueError(f"a link outside the submission: {name!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.symlink_to("not-a-file")


def _collect(workdir, assignment, sid):
    """``{"<kind>/<name>": [bytes, mode]}`` of the student's submitted, autograded and feedback files."""
    files = {}
    for kind in KINDS:
        base = workdir / kind / sid / assignment
        for path in sorted(base.rglob("*")) if base.is_dir() else []:
            if path.is_file() and not path.is_symlink():
                rel = path.relative_to(base).as_posix()
                files[f"{kind}/{rel}"] = [path.read_bytes(), path.stat().st_mode]
    return files


def gradebook_rows(workdir, assignment, sid):
    """The worker's gradebook rows of ``sid``: ``{"grades": {name: [auto, review]}, "comments": {...}}``."""
    from nbgrader.api import Gradebook, MissingEntry

    with warnings.catch_warnings(), Gradebook(sqlite_gradebook_url(workdir)) as gb:
        warnings.simplefilter("ignore")
        try:
            notebook = gb.find_submission_notebook(notebook_stem(assignment), assignment, sid)
        except MissingEntry:
            return None
        return {
            "grades": {g.name: [g.auto_score, bool(g.needs_manual_grade)] for g in notebook.grades},
            "comments": {c.name: c.auto_comment for c in notebook.comments},
        }


def _forget(workdir, sid, folder):
    """Remove what the worker kept of ``sid``: nothing of a student outlives their task."""
    from autograder.grade import result_path

    _remove_tree(folder)
    for kind in KINDS:
        _remove_tree(workdir / kind / sid)
    result_path(workdir, sid).unlink(missing_ok=True)


class Station:
    """One worker process's grading set-up for one chapter and grader version.

    ``workdir`` holds the release, the reference records, the gradebook and
    the kernelspecs; sandboxed grading processes are made on demand (one per
    task running at once) and reused.
    """

    def __init__(self, workdir, unsafe):
        self.workdir, self.unsafe = workdir, unsafe
        self.idle, self.made, self.lock = SimpleQueue(), [], threading.Lock()

    @contextmanager
    def sandbox(self):
        """A grading process for one student, given back afterwards."""
        from autograder.workers import Worker

        try:
            worker = self.idle.get_nowait()
        except Empty:
            with self.lock:
                index = len(self.made)
                worker = Worker({}) if self.unsafe else Worker.sandboxed(self.workdir, index)
                self.made.append(worker)
        try:
            yield worker
        finally:
            self.idle.put(worker)

    def close(self):
        """Stop every grading process and give back their sandbox uids."""
        for worker in self.made:
            worker.close()
        self.made = []


_STATIONS = {}
_STATIONS_LOCK = threading.Lock()


def station_for(job, local_directory):
    """This process's :class:`Station` for ``job``'s chapter and grader, prepared on first use."""
    key = (job.assignment, job.grading_digest, job.unsafe)
    with _STATIONS_LOCK:
        if key not in _STATIONS:
            _STATIONS[key] = prepare_station(job, Path(local_directory))
        return _STATIONS[key]


def prepare_station(job, local_directory):
    """Check this worker may grade ``job``; write its release and reference records once."""
    from autograder.build import release
    from autograder.outside_check import reference_records
    from autograder.sandbox import unavailable_reason

    put_venv_on_path()
    mine = grading_digest(job.assignment)
    if mine != job.grading_digest:
        raise ClusterCannotGrade(
            f"this worker's grader or course differs from the coordinator's "
            f"(grading digest {mine[:12]} here, {job.grading_digest[:12]} there): "
            "install the same version of the course on every machine"
        )
    reason = unavailable_reason()
    if reason and not job.unsafe:
        raise ClusterCannotGrade(f"a worker cannot sandbox kernels: {reason}")
    workdir = (local_directory / "backproplab" / f"{job.assignment}-{mine[:16]}").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    url = sqlite_gradebook_url(workdir)  # the station's own, whatever $BACKPROPLAB_DB_URL says
    release([job.assignment], course_dir=workdir / "release", workdir=workdir, db_url=url)
    reference_records(job.assignment, workdir / "reference")
    return Station(workdir, job.unsafe)


class SandboxPools(WorkerPlugin):
    """Closes this worker's sandboxes when the worker closes (registering it again changes nothing)."""

    idempotent = True

    def teardown(self, worker):
        with _STATIONS_LOCK:
            for station in _STATIONS.values():
                station.close()
            _STATIONS.clear()


# --- starting a cluster ------------------------------------------------------------------


def tls_arguments(tls_ca_file=None, tls_cert=None, tls_key=None):
    """The ``dask`` command-line flags for TLS (empty without files)."""
    pairs = (("--tls-ca-file", tls_ca_file), ("--tls-cert", tls_cert), ("--tls-key", tls_key))
    return [arg for flag, value in pairs if value for arg in (flag, str(value))]


def security_for(tls_ca_file=None, tls_cert=None, tls_key=None):
    """A ``distributed.Security`` for the coordinator's client, or ``None`` without TLS files."""
    if not (tls_ca_file or tls_cert or tls_key):
        return None
    from distributed.security import Security

    return Security(
        tls_ca_file=tls_ca_file,
        tls_client_cert=tls_cert,
        tls_client_key=tls_key,
        require_encryption=True,
    )


def scheduler_command(host="127.0.0.1", port=8786, **tls):
    """``dask scheduler`` listening on ``host`` only (127.0.0.1 unless told), without a dashboard."""
    protocol = ["--protocol", "tls"] if tls_arguments(**tls) else []
    return [
        *_dask(),
        "scheduler",
        "--host",
        host,
        "--port",
        str(port),
        "--no-dashboard",
        *protocol,
        *tls_arguments(**tls),
    ]


def worker_command(address, host="127.0.0.1", sandboxes=1, local_directory=None, name=None, **tls):
    """``dask worker`` for grading: ``sandboxes`` students at once, listening on ``host`` only."""
    extra = ["--local-directory", str(local_directory)] if local_directory else []
    extra += ["--name", str(name)] if name else []
    return [
        *_dask(),
        "worker",
        address,
        "--host",
        host,
        "--nthreads",
        str(sandboxes),
        "--resources",
        f"sandbox={sandboxes}",
        "--no-dashboard",
        *extra,
        *tls_arguments(**tls),
    ]


def _dask():
    """This Python's ``dask`` command."""
    return [sys.executable, "-m", "dask"]
