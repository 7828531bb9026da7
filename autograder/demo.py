"""The instructor demo: a sample class for one chapter, graded end to end.

Four students, each made by editing the released notebook as a student would:

- ``perfect``   fills every answer with the solution;
- ``partial``   answers the first half of the exercises, leaves the rest;
- ``mistakes``  answers everything, with three classic mistakes (mutants);
- ``untouched`` hands in the release as it was.
"""

import shutil
import time
from pathlib import Path

from autograder.build import release
from autograder.course import DEFAULT_WORKDIR, gradebook_url
from autograder.grade import format_table, grade_class
from autograder.mutants import mutants_for
from autograder.sandbox import unavailable_reason
from autograder.submissions import (
    fill,
    mutate,
    released_notebook,
    solution_answers,
    write_submission,
)


def sample_answers(assignment):
    """``{student: answers}`` for the sample class (``answers`` as in :func:`fill`)."""
    answers = solution_answers(assignment)
    order = list(answers)
    wrong = dict(answers)
    used_cells = set()
    for mutant in mutants_for(assignment):
        if mutant.cell not in used_cells and len(used_cells) < 3:
            wrong = mutate(wrong, mutant)
            used_cells.add(mutant.cell)
    return {
        "perfect": answers,
        "partial": {k: answers[k] for k in order[: len(order) // 2]},
        "mistakes": wrong,
        "untouched": {},
    }


def build_sample_class(assignment, folder):
    """Write the sample class's notebooks to ``folder/<student>/``; return the folder."""
    folder = Path(folder)
    shutil.rmtree(folder, ignore_errors=True)
    notebook = released_notebook(assignment)
    for student, answers in sample_answers(assignment).items():
        write_submission(fill(notebook, answers), folder, student, assignment)
    return folder


def grade_sample_class(assignment, workdir, folder):
    """Write the sample class to ``folder``, grade it into ``workdir``, name its students; return results.

    Without a sandbox the demo grades its own sample notebooks unsandboxed.
    """
    build_sample_class(assignment, folder)
    results = grade_class(
        folder, assignment, workdir=workdir, unsafe=unavailable_reason() is not None
    )
    name_sample_students(results, workdir)
    return results


def name_sample_students(results, workdir):
    """Give the sample students names in the gradebook: the formgrader lists "Perfect, Sample", not "None, None"."""
    from nbgrader.api import Gradebook

    with Gradebook(gradebook_url(workdir)) as gb:
        for result in results:
            gb.update_or_create_student(
                result.student, first_name="Sample", last_name=result.student.capitalize()
            )


def run_demo(assignment="01_gradient_descent", workdir=DEFAULT_WORKDIR):
    """Regenerate ``course/``, grade the sample class, print the table; return results."""
    start = time.monotonic()
    workdir = Path(workdir)
    print("Regenerating course/ from solutions/ ...")
    release()
    print(f"Grading the sample class in {workdir / 'demo_class'} ...")
    reason = unavailable_reason()
    if reason:
        print(f"No sandbox here ({reason}): the demo grades its own sample notebooks without one.")
    results = grade_sample_class(assignment, workdir, workdir / "demo_class")
    print()
    print(format_table(results))
    print()
    print(f"Feedback: {workdir / 'feedback'}/<student>/{assignment}/*.html")
    print(f"Grades:   {workdir / 'grades.csv'}")
    print("In the browser: `make formgrader`, then Nbgrader > Formgrader.")
    print(f"Demo took {time.monotonic() - start:.0f} s.")
    return results
