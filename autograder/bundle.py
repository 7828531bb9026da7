"""The student bundle: what a student downloads, and nothing an instructor keeps.

``dist/backproplab-student.zip`` holds ``course/``, the ``backproplab`` helper
package, the data registry and the shipped weights (``data/registry.json``,
``data/weights/``: ``fetch`` and chapter 07's backbone read them beside the
package), ``pyproject.toml``, ``environment.yml`` and the student README. It
never holds ``solutions/``, ``autograder/`` or tests.
"""

import zipfile
from pathlib import Path

from autograder.build import release
from autograder.course import REPO

BUNDLED = [
    "course",
    "backproplab",
    "data/registry.json",
    "data/README.md",
    "data/weights",
    "pyproject.toml",
    "environment.yml",
]
STUDENT_README = "course/README.md"
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints"}


def bundle_files():
    """``(path in the zip, path on disk)`` for every file of the bundle."""
    files = [("README.md", REPO / STUDENT_README)]
    for top in BUNDLED:
        path = REPO / top
        candidates = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        files += [
            (str(p.relative_to(REPO)), p) for p in candidates if not SKIPPED_PARTS & set(p.parts)
        ]
    return files


def write_bundle(output, regenerate=True):
    """Write the student zip to ``output`` (after regenerating ``course/``); return its path."""
    if regenerate:
        release()
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as z:
        for name, path in bundle_files():
            z.write(path, f"backproplab-student/{name}")
    return output
