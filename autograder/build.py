"""Build the course: jupytext sources -> solution notebooks -> student release.

``solutions/NN_name/name.py`` (jupytext percent format, the only file authors
edit) becomes ``solutions/NN_name/name.ipynb`` (git ignores it), and nbgrader's
``generate_assignment`` turns that into ``course/NN_name/name.ipynb``.
Cell ids are derived from each cell's position and ``grade_id`` so that a
rebuild produces byte-identical files.
"""

import copy
import functools
import hashlib
import os
import shutil
import tempfile
from pathlib import Path

import jupytext
import nbformat

from autograder.course import (
    COURSE,
    SOLUTIONS,
    add_blank_course,
    assignments,
    gradebook_lock,
    gradebook_url,
    nbgrader_config,
    notebook_stem,
    put_venv_on_path,
    read_alembic_head_in_process,
    sqlite_gradebook_url,
)

GENERATED_NOTE = (
    "This notebook is generated from solutions/{assignment}/{stem}.py by "
    "`python -m autograder build`; edit that file, not this one."
)
# jupytext's layout keys, and the marker of a cell that goes into a provided module
# (autograder/provided.py): none reaches a notebook.
JUPYTEXT_KEYS = ("lines_to_next_cell", "lines_to_end_of_cell_marker", "cell_marker", "provided")
# What JupyterLab writes into a notebook as soon as its kernel starts (the kernel's spec and
# its kernel_info reply, as ipykernel sends them). A notebook that already holds exactly this
# opens without "unsaved changes". Only `version` depends on the student's Python: it is the
# course's (the .venv's); a kernel on another patch release still marks the notebook changed.
COURSE_PYTHON = "3.11.7"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {
    "codemirror_mode": {"name": "ipython", "version": 3},
    "file_extension": ".py",
    "mimetype": "text/x-python",
    "name": "python",
    "nbconvert_exporter": "python",
    "pygments_lexer": "ipython3",
    "version": COURSE_PYTHON,
}


def source_script(assignment):
    """The jupytext source of a chapter: ``solutions/NN_name/name.py``."""
    return SOLUTIONS / assignment / f"{notebook_stem(assignment)}.py"


def source_notebook(assignment):
    """The built solution notebook: ``solutions/NN_name/name.ipynb``."""
    return source_script(assignment).with_suffix(".ipynb")


def read_script(path):
    """A jupytext percent script as a ``NotebookNode`` of its own (the caller may change it).

    Each version of a file is parsed once in a process: grading a class releases its chapter,
    and a release regenerates the provided modules from every chapter's script.
    """
    stat = Path(path).stat()
    return copy.deepcopy(_parsed_script(str(path), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=32)
def _parsed_script(path, mtime_ns, size):
    return jupytext.read(path, fmt="py:percent")


def read_source(assignment):
    """Read a chapter's jupytext script as a clean ``NotebookNode``."""
    nb = read_script(source_script(assignment))
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": copy.deepcopy(LANGUAGE_INFO)}
    nb.metadata["backproplab"] = {
        "generated": GENERATED_NOTE.format(assignment=assignment, stem=notebook_stem(assignment))
    }
    for index, cell in enumerate(nb.cells):
        for key in JUPYTEXT_KEYS:
            cell.metadata.pop(key, None)
        cell.id = stable_cell_id(assignment, index, cell)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    return nb


def stable_cell_id(assignment, index, cell):
    """A cell id that only changes when the cell moves or is renamed."""
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    if grade_id:
        return grade_id
    digest = hashlib.sha1(f"{assignment}:{index}:{cell.cell_type}".encode()).hexdigest()
    return f"{cell.cell_type[:2]}-{digest[:8]}"


def build_sources(names=None):
    """Write ``solutions/NN_name/name.ipynb`` for each chapter; return the paths."""
    paths = []
    for assignment in names or assignments():
        path = source_notebook(assignment)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        nbformat.write(read_source(assignment), partial)
        os.replace(partial, path)  # atomic: a grader reading it never sees half a file
        paths.append(path)
    return paths


def release(names=None, course_dir=COURSE, workdir=None, db_url=None):
    """Regenerate the student notebooks of ``names`` (all chapters) into ``course_dir``.

    The provided modules of ``backproplab`` are regenerated first, from every chapter.

    nbgrader records each assignment in a gradebook; a throwaway one is used
    unless ``workdir`` names the grading folder whose gradebook should learn it
    (``db_url``'s, by default the workdir's: see ``course.gradebook_url``).
    """
    from nbgrader.apps import NbGraderAPI

    from autograder.provided import write_modules

    put_venv_on_path()
    read_alembic_head_in_process()
    names = names or assignments()
    write_modules()  # backproplab's provided modules, from the marked solution cells
    build_sources(names)
    with tempfile.TemporaryDirectory() as scratch:
        url = gradebook_url(workdir, db_url) if workdir else sqlite_gradebook_url(scratch)
        api = NbGraderAPI(config=nbgrader_config(workdir or scratch, course_dir, db_url=url))
        with gradebook_lock(url):  # no other grader of the same server releases or grades now
            add_blank_course(url)
            for assignment in names:
                shutil.rmtree(Path(course_dir) / assignment, ignore_errors=True)
                result = api.generate_assignment(assignment, force=True, create=True)
                if not result["success"]:
                    raise RuntimeError(f"nbgrader could not release {assignment}:\n{result['log']}")
    return [Path(course_dir) / a for a in names]
