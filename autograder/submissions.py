"""Make submissions by editing a released notebook, as a student would.

The sample class of the demo and the mutation tests are built here: start
from the student notebook in ``course/``, paste the solution's code into some
answer cells (optionally with a classic mistake), and save the result where
nbgrader expects a submission.
"""

import re
from pathlib import Path

import nbformat

from autograder.build import read_source
from autograder.course import COURSE, notebook_stem

SOLUTION_MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$\n?", re.MULTILINE)


def released_notebook(assignment, course_dir=COURSE):
    """Read the student notebook of ``assignment`` from the release."""
    return nbformat.read(
        Path(course_dir) / assignment / f"{notebook_stem(assignment)}.ipynb", as_version=4
    )


def solution_answers(assignment):
    """``{grade_id: source}`` of every answer cell, as the solution fills it in."""
    answers = {}
    for cell in read_source(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = SOLUTION_MARKERS.sub("", cell.source)
    return answers


def solution_namespace(assignment, setup, solution_cells=None, provided_cells=()):
    """The namespace of ``assignment``'s setup cell, solution cells and provided cells (in that order), run with ``exec``.

    ``solution_cells`` lists grade_ids; ``None`` means every code answer cell.
    ``provided_cells``: grade_ids of locked cells of provided code to run after
    them (chapter 05's fast path). How the oracle tests and the benchmarks get a
    chapter's solution code without running its experiments.
    """
    cells = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c for c in read_source(assignment).cells
    }
    answers = solution_answers(assignment)
    if solution_cells is None:
        solution_cells = [g for g in answers if cells[g].cell_type == "code"]
    namespace = {"__name__": f"{assignment}_solution"}
    exec(compile(cells[setup].source, setup, "exec"), namespace)
    for grade_id in solution_cells:
        if cells[grade_id].cell_type != "code":
            raise ValueError(f"{grade_id} is a {cells[grade_id].cell_type} cell, not code")
        exec(compile(answers[grade_id], grade_id, "exec"), namespace)
    for grade_id in provided_cells:
        exec(compile(cells[grade_id].source, grade_id, "exec"), namespace)
    return namespace


def mutate(answers, mutant):
    """Apply one :class:`~autograder.mutants.Mutant` to ``answers`` (a new dict)."""
    source = answers[mutant.cell]
    count = source.count(mutant.old)
    if count != 1:
        raise ValueError(
            f"mutant {mutant.name!r}: {mutant.old!r} occurs {count} times in cell "
            f"{mutant.cell!r}, not once; update the mutant to match the solution."
        )
    return {**answers, mutant.cell: source.replace(mutant.old, mutant.new)}


def vary(notebook, answers, variant):
    """``notebook`` filled with ``answers`` changed by a :class:`~autograder.variants.Variant`, its cells added."""
    unknown = set(variant.answers) - set(answers)
    if unknown:
        raise ValueError(
            f"variant {variant.name!r} answers cells that are not answer cells: {sorted(unknown)}"
        )
    notebook = fill(notebook, {**answers, **variant.answers})
    for after, source in variant.added:
        index = next(
            i
            for i, c in enumerate(notebook.cells)
            if c.metadata.get("nbgrader", {}).get("grade_id") == after
        )
        notebook.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return notebook


def fill(notebook, answers):
    """A copy of ``notebook`` whose answer cells named in ``answers`` hold that text."""
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and cell.metadata["nbgrader"].get("solution"):
            cell.source = answers[grade_id]
    return notebook


def write_submission(notebook, submitted_dir, student, assignment):
    """Save ``notebook`` as ``student``'s submission in nbgrader's layout; return its path."""
    path = Path(submitted_dir) / student / assignment / f"{notebook_stem(assignment)}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, path)
    return path
