"""The student bundle: what a student downloads, and nothing an instructor keeps.

``dist/backproplab-student.zip`` holds ``course/``, the ``backproplab`` helper
package, the data registry and the shipped weights (``data/registry.json``,
``data/weights/``: ``fetch`` and chapter 08's backbone read them beside the
package), ``pyproject.toml``, ``environment.yml`` and the student README. It
never holds ``solutions/``, ``autograder/`` or tests.

The whole-course bundle is for self-study: its package holds the provided
modules, earlier chapters' answers (:mod:`autograder.provided`), and its README
says so. A class is released chapter by chapter instead: ``write_bundle(...,
through="03")`` (``python -m autograder bundle --through 03``) holds the
notebooks of chapters 01 to 03 and only the provided modules of chapters
before 03, so no release holds an answer of its own chapter or a later one.
"""

import zipfile
from pathlib import Path

from autograder.build import release
from autograder.course import REPO, assignments
from autograder.provided import module_chapters

BUNDLED = [
    "course",
    "backproplab",
    "data/registry.json",
    "data/README.md",
    "data/digits.npz",
    "data/weights",
    "pyproject.toml",
    "environment.yml",
]
STUDENT_README = "course/README.md"
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}
TOP = "backproplab-student"


def chapter(through):
    """The chapter folder ``through`` names: ``"03"``, ``"3"`` or ``"03_training"``."""
    for assignment in assignments():
        if through in (assignment, assignment[:2]) or through == assignment[:2].lstrip("0"):
            return assignment
    raise ValueError(f"no chapter {through!r}: choose from {', '.join(assignments())}")


def left_out(through=None):
    """Bundle paths a release for chapter ``through`` leaves out (none for the whole course).

    The notebooks of later chapters, and the provided modules of this chapter or later.
    """
    if through is None:
        return set()
    through = chapter(through)
    later = [f"course/{a}" for a in assignments() if a > through]
    return set(later) | {
        f"backproplab/{name}.py" for name, ch in module_chapters().items() if ch >= through
    }


def bundle_files(through=None):
    """``(path in the zip, path on disk)`` for every file of the bundle (up to chapter ``through``)."""
    skipped = left_out(through)
    files = [("README.md", REPO / STUDENT_README)]
    for top in BUNDLED:
        path = REPO / top
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for p in candidates:
            name = p.relative_to(REPO).as_posix()
            if SKIPPED_PARTS & set(p.parts) or p.suffix == ".tmp":
                continue
            if any(name == s or name.startswith(s + "/") for s in skipped):
                continue
            files.append((name, p))
    return files


def readme_note(through=None):
    """What the README of a bundle says about the answers its package holds."""
    chapters = sorted(module_chapters().items(), key=lambda item: (item[1], item[0]))
    if through is not None:
        through = chapter(through)
        chapters = [(name, ch) for name, ch in chapters if ch < through]
    held = "".join(
        f"- `backproplab/{name}.py`: chapter {ch[:2]}'s answers\n" for name, ch in chapters
    )
    if through is None:
        return (
            "## This bundle holds answers\n\n"
            "This is the whole course, for self-study. Its `backproplab` package holds the\n"
            "answers of earlier chapters, given to later chapters as provided code:\n\n"
            f"{held}\n"
            "Reading them before you have solved those chapters spoils the exercises. If you\n"
            "take the course in a class, use your instructor's release for each chapter.\n"
        )
    first = (
        f"chapter {through[:2]}"
        if through == assignments()[0]
        else (f"chapters {assignments()[0][:2]} to {through[:2]}")
    )
    return (
        f"## This release: {first}\n\n"
        f"It holds the notebooks of {first}. Its `backproplab` package holds no answer\n"
        + (
            f"of chapter {through[:2]} or later, only earlier chapters' answers, as provided code:"
            f"\n\n{held}"
            if held
            else "of any chapter.\n"
        )
    )


def write_bundle(output, regenerate=True, through=None):
    """Write the student zip to ``output`` (after regenerating ``course/``); return its path.

    ``through`` (a chapter, ``"03"``) makes it the release for that chapter.
    """
    if regenerate:
        release()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
        for name, path in bundle_files(through):
            if name == "README.md":
                text = path.read_text().rstrip("\n") + "\n\n" + readme_note(through)
                z.writestr(f"{TOP}/{name}", text)
            else:
                z.write(path, f"{TOP}/{name}")
    return output
