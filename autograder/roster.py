"""Who the students are: one :class:`Student` per entry of the submissions folder, with a safe id.

A folder name comes from a student (or an LMS export) and is never trusted:
nbgrader uses the id in paths and glob patterns, the gradebook stores it, and
``grades.csv`` and the terminal show it. :func:`safe_id` keeps letters,
digits, ``.``, ``_`` and ``-`` (accents folded to ASCII), so ``*``,
``mallory `` or ``../x`` can never name another student; clashes get
``-2``, ``-3``... An entry that is a symbolic link or not a folder is kept
with the reason it cannot be graded, so the batch still reports it.
"""

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

MAX_ID_LENGTH = 64


@dataclass(frozen=True)
class Student:
    """``id``: what nbgrader and the gradebook use; ``name``: the folder name as it came; ``problem``: why not graded."""

    id: str
    name: str
    folder: Path
    problem: str = ""


def safe_id(name):
    """``"José Núñez*"`` -> ``"Jose_Nunez"``: an nbgrader id that is no glob, path or formula."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_name).strip("._-")
    return cleaned[:MAX_ID_LENGTH] or "student"


def printable(text):
    """``text`` without control characters (ANSI escapes, newlines), for the terminal and CSV."""
    return "".join(c if c.isprintable() else "?" for c in str(text))


def roster(folder):
    """The students in ``folder``, sorted by name, each with a unique safe id."""
    taken, students = set(), []
    for entry in sorted(Path(folder).iterdir(), key=lambda p: p.name):
        if entry.name.startswith(".") or entry.name == "__MACOSX":
            continue
        base = safe_id(entry.name)
        sid, n = base, 1
        while sid in taken:
            n += 1
            sid = f"{base}-{n}"
        taken.add(sid)
        students.append(Student(sid, entry.name, entry, _problem(entry)))
    return students


def _problem(entry):
    """Why ``entry`` cannot be a student's folder, or ``""``."""
    if entry.is_symlink():
        return "the student's folder is a symbolic link; only real folders and files are graded"
    if not entry.is_dir():
        return "not a folder: each student's work must be in a folder of its own"
    return ""
