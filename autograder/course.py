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
"""

import os
import sys
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


def nbgrader_config(workdir=DEFAULT_WORKDIR, release_dir=COURSE, timeout=30):
    """A traitlets ``Config`` for nbgrader rooted at the repository.

    workdir holds submissions, autograded copies, feedback and the gradebook.
    release_dir receives the student notebooks (``course/`` by default).
    timeout is nbgrader's per-cell execution limit in seconds.
    """
    workdir = Path(workdir).resolve()
    c = Config()
    c.CourseDirectory.root = str(REPO)
    c.CourseDirectory.source_directory = str(SOLUTIONS)
    c.CourseDirectory.release_directory = str(Path(release_dir).resolve())
    c.CourseDirectory.submitted_directory = str(workdir / "submitted")
    c.CourseDirectory.autograded_directory = str(workdir / "autograded")
    c.CourseDirectory.feedback_directory = str(workdir / "feedback")
    c.CourseDirectory.db_url = f"sqlite:///{workdir / 'gradebook.db'}"
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
    server started in ``root``.
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
