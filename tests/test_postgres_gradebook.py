"""A PostgreSQL gradebook that two graders write at once and the formgrader reads: one grades
on this machine, the other on a Dask cluster (a real scheduler and worker) where a sandbox exists.

The server is Debian's (``apt-get install postgresql``), started for this module alone in a
temporary folder, on 127.0.0.1 and a free port, with a password; as root it runs as an
unprivileged user (PostgreSQL refuses root). Without its binaries the tests are skipped.
"""

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from glob import glob
from pathlib import Path

import pytest

from autograder.course import (
    DB_URL_ENV,
    REPO,
    formgrader_config,
    gradebook_lock,
    gradebook_url,
    notebook_stem,
)
from autograder.messages import StudentResult
from autograder.mutants import mutants_for
from autograder.sandbox import unavailable_reason
from autograder.submissions import (
    fill,
    mutate,
    released_notebook,
    solution_answers,
    write_submission,
)
from tests.processes import free_port

pytestmark = pytest.mark.xdist_group("postgres_gradebook")
ASSIGNMENT = "01_gradient_descent"


def test_a_grader_waits_for_the_sqlite_gradebook_another_process_writes(tmp_path):
    """A grading process waits for another's write to the SQLite gradebook (here 7 s, over
    SQLite's default 5 s after which a student came out "not graded") and then writes."""
    import sqlite3
    import time
    import warnings

    from nbgrader.api import Gradebook

    from autograder.course import read_alembic_head_in_process, sqlite_gradebook_url

    read_alembic_head_in_process()
    url = sqlite_gradebook_url(tmp_path)
    with warnings.catch_warnings(), Gradebook(url):
        warnings.simplefilter("ignore")  # made, empty
    other = sqlite3.connect(tmp_path / "gradebook.db", check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")  # the other worker, in the middle of its write
    threading.Timer(7, other.commit).start()
    start = time.monotonic()
    with warnings.catch_warnings(), Gradebook(url) as gb:
        warnings.simplefilter("ignore")
        gb.update_or_create_student("waited")
    assert time.monotonic() - start > 6.5
    other.close()
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        assert db.execute("SELECT id FROM student").fetchall() == [("waited",)]


def test_gradebook_url_precedence(monkeypatch, tmp_path):
    """--db-url, else $BACKPROPLAB_DB_URL, else the workdir's SQLite; psycopg 3 as the driver."""
    monkeypatch.delenv(DB_URL_ENV, raising=False)
    assert gradebook_url(tmp_path) == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}?timeout=60"
    monkeypatch.setenv(DB_URL_ENV, "postgresql://u:p@db.example/grades")
    assert gradebook_url(tmp_path) == "postgresql+psycopg://u:p@db.example/grades"
    assert gradebook_url(tmp_path, "sqlite:///x.db") == "sqlite:///x.db"
    explicit = "postgresql+psycopg2://u@h/d"
    assert gradebook_url(tmp_path, explicit) == explicit, "a driver named is kept"
    config = formgrader_config(tmp_path)
    assert config.CourseDirectory.db_url == "postgresql+psycopg://u:p@db.example/grades"


def _server_binaries():
    """The folder of PostgreSQL's ``initdb`` and ``pg_ctl`` (Debian's newest), or None."""
    found = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path and shutil.which("initdb") else None


def _server_user():
    """``(prefix, user)``: how to run the server: as root, ``runuser`` to an unprivileged user."""
    if os.geteuid() != 0:
        return [], None
    if not shutil.which("runuser"):
        pytest.skip("running as root without runuser: PostgreSQL will not run as root")
    for name in ("postgres", "nobody"):
        try:
            return ["runuser", "-u", name, "--"], pwd.getpwnam(name)
        except KeyError:
            continue
    pytest.skip("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL")


@pytest.fixture(scope="module")
def postgres_url():
    """A fresh PostgreSQL server's database ``gradebook`` (its URL, with user and password)."""
    psycopg = pytest.importorskip("psycopg", reason="no psycopg: pip install -e '.[postgres]'")
    bindir = _server_binaries()
    if bindir is None:
        pytest.skip("PostgreSQL's server is not installed (apt-get install postgresql)")
    prefix, user = _server_user()
    root = Path(tempfile.mkdtemp(prefix="backproplab-postgres-"))
    data, port, password = root / "data", free_port(), secrets.token_hex(16)
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-w"]

    def run(*argv):
        done = subprocess.run(
            [*prefix, *argv], cwd=root, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{argv[0]} failed:\n{done.stdout}\n{done.stderr}"

    try:
        (root / "password").write_text(password + "\n")
        if user is not None:
            for path in (root, root / "password"):
                os.chown(path, user.pw_uid, user.pw_gid)
        initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "grader", "--no-sync"]
        run(*initdb, "--auth=scram-sha-256", f"--pwfile={root / 'password'}")
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off"
        run(*pg_ctl, "-l", str(root / "log"), "-o", options, "start")
        try:
            url = f"postgresql://grader:{password}@127.0.0.1:{port}"
            with psycopg.connect(f"{url}/postgres", autocommit=True) as connection:
                connection.execute("CREATE DATABASE gradebook")
            yield f"{url}/gradebook"
        finally:
            run(*pg_ctl, "-m", "fast", "stop")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_release_waits_for_gradings_in_progress(postgres_url):
    """The gradebook lock: a release (exclusive) waits while gradings (shared) hold it."""
    import psycopg

    url, released = gradebook_url(db_url=postgres_url), threading.Event()

    def release():
        with gradebook_lock(url):
            released.set()

    with gradebook_lock(url, shared=True), gradebook_lock(url, shared=True):
        thread = threading.Thread(target=release)
        thread.start()
        waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        deadline = time.monotonic() + 60
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            while connection.execute(waiting).fetchone()[0] != 1:
                assert time.monotonic() < deadline, "the release never asked for the lock"
                time.sleep(0.1)
        assert not released.is_set()
    thread.join(timeout=60)
    assert released.is_set()


@pytest.fixture(scope="module")
def dask_scheduler(tmp_path_factory):
    """The address of a Dask scheduler with one worker (one sandbox); None where no sandbox is."""
    if unavailable_reason() is not None:
        yield None
        return
    pytest.importorskip("distributed")
    from tests.dask_cluster import running_cluster

    with running_cluster(tmp_path_factory.mktemp("dask"), workers=("a",)) as (cluster, _):
        yield cluster.address


def test_two_graders_at_once_one_gradebook(postgres_url, dask_scheduler, tmp_path, monkeypatch):
    """Two classes graded at the same time into one PostgreSQL gradebook, one of them on Dask
    (where a sandbox exists): the formgrader's view lists every student once, with the score
    their grader gave them."""
    notebook, answers = released_notebook(ASSIGNMENT), solution_answers(ASSIGNMENT)
    mutants = mutants_for(ASSIGNMENT)
    classes = {
        "room-a": {
            "ada": fill(notebook, answers),
            "bob": fill(notebook, {}),
            "cyd": fill(notebook, mutate(answers, mutants[0])),
        },
        "room-b": {
            "dee": fill(notebook, answers),
            "eve": fill(notebook, mutate(answers, mutants[-1])),
        },
    }
    unsafe = ["--unsafe"] if unavailable_reason() else []  # the sandbox whenever there is one
    # one grader is told the database with --db-url, the other by $BACKPROPLAB_DB_URL and
    # grades on the Dask cluster, whose worker never sees the database
    on_dask = ["--scheduler", dask_scheduler] if dask_scheduler else []
    told = {
        "room-a": (["--db-url", postgres_url], {}),
        "room-b": (on_dask, {DB_URL_ENV: postgres_url}),
    }
    graders = {}
    for room, students in classes.items():
        for student, submission in students.items():
            write_submission(submission, tmp_path / room, student, ASSIGNMENT)
        command = [sys.executable, "-m", "autograder", "grade", str(tmp_path / room)]
        command += ["--chapter", ASSIGNMENT, "--workdir", str(tmp_path / f"work-{room}")]
        argv, env = told[room]
        graders[room] = subprocess.Popen(
            [*command, *argv, *unsafe],
            cwd=REPO,
            env={**os.environ, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
    for room, grader in graders.items():
        out, err = grader.communicate(timeout=600)
        assert grader.returncode == 0, f"{room}:\n{out[-2000:]}\n{err[-3000:]}"

    given = {}  # what each grader gave its students
    for room, students in classes.items():
        for student in students:
            path = tmp_path / f"work-{room}" / "results" / f"{student}.json"
            given[student] = StudentResult.from_dict(json.loads(path.read_text()))
    assert all(r.status == "graded" for r in given.values()), given
    full = given["ada"].auto_max
    assert given["ada"].auto_score == given["dee"].auto_score == full
    assert given["bob"].auto_score == 0
    assert 0 < given["cyd"].auto_score < full and 0 < given["eve"].auto_score < full
    for room in classes:
        assert not (tmp_path / f"work-{room}" / "gradebook.db").exists(), "no SQLite on the side"

    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    stem = notebook_stem(ASSIGNMENT)
    with warnings.catch_warnings(), Gradebook(gradebook_url(db_url=postgres_url)) as gb:
        warnings.simplefilter("ignore")
        submitted = [s.student.id for s in gb.find_assignment(ASSIGNMENT).submissions]
        assert sorted(submitted) == sorted(given), "every student once: none lost, none twice"
        assert len(gb.students) == len(given)
        for student, result in given.items():
            cells = gb.find_submission_notebook(stem, ASSIGNMENT, student).grades
            assert {g.name: g.score for g in cells if g.cell_type == "code"} == {
                name: c.score for name, c in result.cells.items() if c.autograded
            }, student

    # The formgrader's side: nbgrader's own API, configured as nbgrader_config.py does (the
    # database from $BACKPROPLAB_DB_URL), in a folder that never saw a grade.
    monkeypatch.setenv(DB_URL_ENV, postgres_url)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        api = NbGraderAPI(config=formgrader_config(tmp_path / "formgrader"))
        rows = api.get_submissions(ASSIGNMENT)
    assert sorted(r["student"] for r in rows) == sorted(given)
    for row in rows:
        result = given[row["student"]]
        assert row["code_score"] == result.auto_score, row["student"]
        assert row["score"] == sum(c.score or 0 for c in result.cells.values()), row["student"]
        assert row["max_score"] == sum(c.max_score for c in result.cells.values())
