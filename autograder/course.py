"""Where the course lives, and the nbgrader configuration that points at it.

nbgrader's steps map onto the repository like this:

========================  ===============================================
nbgrader step             folder
========================  ===============================================
source                    ``solutions/NN_name/`` (built from ``name.py``)
release                   ``course/NN_name/``
submitted / autograded /  ``<workdir>/submitted``, ``autograded``,
feedback, gradebook       ``feedback``, ``gradebook.db`` (git ignores them)
========================  ===============================================

The gradebook can instead live on a database server that several graders
share (``--db-url`` or ``$BACKPROPLAB_DB_URL``; see :func:`gradebook_url`).
"""

import functools
import os
import sys
from contextlib import contextmanager
from pathlib import Path

from traitlets.config import Config

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
COURSE = REPO / "course"
DEFAULT_WORKDIR = REPO / "autograder" / "working"

# Files in a chapter's source folder that never reach students.
IGNORED_FILES = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback", "*.py"]


def assignments():
    """The chapter folders under ``solutions/``, in course order (``01_...``)."""
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and p.name[:2].isdigit())


def grading_digest(assignment):
    """SHA-256 of everything a chapter's grades depend on: its source script, the grader and the helper package.

    Cached references and results carry it, so a fix to ``autograder/`` or ``backproplab/`` regrades.
    """
    sources = [
        SOLUTIONS / assignment / f"{notebook_stem(assignment)}.py",
        *sorted((REPO / "autograder").rglob("*.py")),
        *sorted((REPO / "backproplab").rglob("*.py")),
    ]
    return files_digest(REPO, sources)


def files_digest(root, paths):
    """Hex SHA-256 over the names (relative to ``root``) and bytes of ``paths``, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(Path(path).relative_to(root)).encode() + b"\0")
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(2**20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def notebook_stem(assignment):
    """The notebook name of a chapter: ``01_gradient_descent`` -> ``gradient_descent``."""
    return assignment.split("_", 1)[1]


# The gradebook's database when no --db-url is given: a server's URL (PostgreSQL) that every
# grader, worker and the formgrader then share. Unset: SQLite in the workdir.
DB_URL_ENV = "BACKPROPLAB_DB_URL"


def gradebook_url(workdir=DEFAULT_WORKDIR, db_url=None):
    """The SQLAlchemy URL of the gradebook: ``db_url``, else ``$BACKPROPLAB_DB_URL``, else
    ``sqlite:///<workdir>/gradebook.db`` (see :func:`sqlite_gradebook_url`).

    A ``postgresql://`` URL without a driver gets psycopg 3's (``postgresql+psycopg://``, the
    ``postgres`` extra), whichever SQLAlchemy nbgrader runs on.
    """
    url = db_url or os.environ.get(DB_URL_ENV) or sqlite_gradebook_url(workdir)
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


# Seconds a grading process waits for another's write to the SQLite gradebook before it gives up.
# SQLite's default, 5 s, was too short on a loaded machine: a student graded while the other
# worker held the gradebook came out "not graded" (database is locked).
SQLITE_WAIT_S = 60


def sqlite_gradebook_url(workdir):
    """``sqlite:///<workdir>/gradebook.db?timeout=60``: a gradebook of the workdir's own (a Dask
    worker's scratch one, a throwaway release's), whatever ``$BACKPROPLAB_DB_URL`` says; each
    connection waits up to :data:`SQLITE_WAIT_S` for another process's write."""
    return f"sqlite:///{Path(workdir).resolve() / 'gradebook.db'}?timeout={SQLITE_WAIT_S}"


# A PostgreSQL advisory lock's key: the gradebook's (see gradebook_lock).
GRADEBOOK_LOCK_KEY = int.from_bytes(b"bplabgb1", "big", signed=True)


@contextmanager
def gradebook_lock(url, shared=False):
    """Hold the gradebook ``url``'s lock: exclusive to (re)write an assignment's notebooks and
    cells (a release), ``shared`` to grade against them.

    nbgrader's release of a chapter removes and re-adds its notebook records while none has a
    submission, and creates the schema and the course on a fresh database, none of it safe
    while another grader releases or grades on the same server; two releases would both insert
    the assignment. A PostgreSQL session advisory lock keeps graders of one server apart
    (a killed grader's lock goes with its connection). SQLite locks its file itself: nothing here.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    if make_url(url).get_backend_name() != "postgresql":
        yield
        return
    kind = "_shared" if shared else ""
    key = {"key": GRADEBOOK_LOCK_KEY}
    # autocommit: no transaction stays open while the lock is held
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text(f"SELECT pg_advisory_lock{kind}(:key)"), key)
            try:
                yield
            finally:
                connection.execute(text(f"SELECT pg_advisory_unlock{kind}(:key)"), key)
    finally:
        engine.dispose()


def read_alembic_head_in_process():
    """Have nbgrader read its newest gradebook migration with alembic's API, in this process.

    nbgrader stamps every new gradebook with that migration's id, and asks ``alembic heads``
    for it in a new Python process each time (about 2.5 s on 2 cores, for every class graded
    into a new gradebook). Read here, it takes 0.1 s once and is then remembered.
    """
    import nbgrader.api

    nbgrader.api.get_alembic_version = _newest_migration


@functools.cache
def _newest_migration():
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


def add_blank_course(url):
    """Give the gradebook ``url`` on a server the course nbgrader files assignments under: ``""``.

    The course's nbgrader runs with ``CourseDirectory.course_id`` unset (``""``: no exchange),
    and nbgrader then records each assignment under course ``""`` without ever creating it.
    SQLite does not check that foreign key (nothing is done there); PostgreSQL does.
    """
    import warnings

    from nbgrader.api import Course, Gradebook
    from sqlalchemy.engine import make_url

    if make_url(url).get_backend_name() == "sqlite":
        return
    with warnings.catch_warnings(), Gradebook(url) as gb:
        warnings.simplefilter("ignore")
        if gb.db.get(Course, "") is None:
            gb.db.add(Course(id=""))
            gb.db.commit()


def nbgrader_config(workdir=DEFAULT_WORKDIR, release_dir=COURSE, timeout=30, db_url=None):
    """A traitlets ``Config`` for nbgrader rooted at the repository.

    workdir holds submissions, autograded copies, feedback and the gradebook.
    release_dir receives the student notebooks (``course/`` by default).
    timeout is nbgrader's per-cell execution limit in seconds.
    db_url is the gradebook's database (default: see :func:`gradebook_url`).
    """
    workdir = Path(workdir).resolve()
    c = Config()
    c.CourseDirectory.root = str(REPO)
    c.CourseDirectory.source_directory = str(SOLUTIONS)
    c.CourseDirectory.release_directory = str(Path(release_dir).resolve())
    c.CourseDirectory.submitted_directory = str(workdir / "submitted")
    c.CourseDirectory.autograded_directory = str(workdir / "autograded")
    c.CourseDirectory.feedback_directory = str(workdir / "feedback")
    c.CourseDirectory.db_url = gradebook_url(workdir, db_url)
    c.CourseDirectory.ignore = IGNORED_FILES
    c.Execute.timeout = timeout
    c.ExecutePreprocessor.timeout = timeout
    return c


def formgrader_config(workdir=DEFAULT_WORKDIR, root=REPO, release_dir=COURSE):
    """nbgrader's configuration for its own tools (the formgrader), read from ``nbgrader_config.py``.

    The grader hands :func:`nbgrader_config` to nbgrader directly; the
    formgrader instead reads ``nbgrader_config.py`` in the folder JupyterLab
    starts in, and needs the course root inside the server's root folder.
    This shows it the gradebook, submissions and feedback in ``workdir``
    (what ``make demo`` and ``python -m autograder grade`` wrote), from a
    server started in ``root``; the gradebook is ``$BACKPROPLAB_DB_URL``'s when it is set.
    """
    c = nbgrader_config(workdir, release_dir=release_dir)
    c.CourseDirectory.root = str(Path(root).resolve())
    # release/collect: unused, kept out of /usr
    c.Exchange.root = str(Path(workdir).resolve() / "exchange")
    # the formgrader renders student notebooks: clean their HTML too
    c.HTMLExporter.sanitize_html = True
    return c


def put_venv_on_path():
    """Let nbgrader find the tools (``alembic``) installed beside this Python."""
    bindir = str(Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")
