"""Shared fixtures: a class of submissions per chapter, graded once by the real autograder.

Grading is the slow part of the suite, so every chapter's solution, untouched
release and mutants are graded together in one class per chapter, and the
tests read the results. Tests that share a class run on one xdist worker
(``xdist_group``).
"""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# The suite grades into its own SQLite gradebooks, never into an instructor's shared one.
os.environ.pop("BACKPROPLAB_DB_URL", None)

from autograder.course import assignments  # noqa: E402
from autograder.grade import grade_class  # noqa: E402
from autograder.mutants import mutants_for  # noqa: E402
from autograder.sandbox import unavailable_reason  # noqa: E402
from autograder.submissions import (
    fill,
    mutate,
    released_notebook,
    solution_answers,
    vary,
    write_submission,
)  # noqa: E402
from autograder.variants import variants_for  # noqa: E402

CHAPTERS = assignments()

# The suite's tiers, by module: `make check` runs what is in none of them (see the Makefile).
TIERS = {
    "grading": (
        "test_grading",
        "test_adversarial",
        "test_demo",
        "test_grade_command",
        "test_dask_engine",
        "test_postgres_gradebook",
    ),
    "browser": ("test_browser", "test_jupyterhub"),
    # "sweep" (CI's second pass, `make sweep`) is set per test: the mutants beyond the covering
    # ones (see covering_mutants) and the backbone's rebuilds.
    "slow": (
        "test_notebooks",
        "test_benchmarks",
        "test_backbone",
        "test_ch05_oracle",
        "test_ch07_oracle",
        "test_ch08_oracle",
        "test_stages",
    ),
}


def pytest_collection_modifyitems(items):
    """Mark each test with its module's tier (``pytest -m "not slow and not grading and not browser"``)."""
    for item in items:
        module = item.module.__name__.rsplit(".", 1)[-1]
        for tier, modules in TIERS.items():
            if module in modules:
                item.add_marker(tier)


def class_notebooks(assignment, mutants=None):
    """``{student: notebook}``: the solution, the untouched release, one student per variant and
    one per mutant in ``mutants`` (default: all the chapter's mutants)."""
    notebook, answers = released_notebook(assignment), solution_answers(assignment)
    students = {"solution": fill(notebook, answers), "untouched": fill(notebook, {})}
    for mutant in mutants_for(assignment) if mutants is None else mutants:
        students[f"mutant-{mutant.name}"] = fill(notebook, mutate(answers, mutant))
    for variant in variants_for(assignment):
        students[f"variant-{variant.name}"] = vary(notebook, answers, variant)
    return students


def covering_mutants(assignment):
    """The few mutants ``make test`` grades: between them, every test cell that any mutant of the
    chapter should fail does fail.

    Greedy and in file order (the mutant failing most cells not yet covered first), so the choice
    is stable. The others are graded by ``make sweep`` (marker ``sweep``), which CI also runs.
    """
    mutants, chosen = mutants_for(assignment), []
    uncovered = {cell for m in mutants for cell in m.loses}
    while uncovered:
        best = max(mutants, key=lambda m: len(uncovered.intersection(m.loses)))
        chosen.append(best)
        uncovered -= set(best.loses)
    return [m for m in mutants if m in chosen]


def swept_mutants(assignment):
    """The chapter's mutants that only ``make sweep`` grades."""
    quick = covering_mutants(assignment)
    return [m for m in mutants_for(assignment) if m not in quick]


@pytest.fixture(scope="session")
def graded_class(tmp_path_factory):
    """A function ``(assignment, sweep=False) -> {student: StudentResult}``, each class graded once.

    The class holds the solution, the untouched release, every variant and the covering mutants
    (:func:`covering_mutants`); with ``sweep``, the solution and the other mutants.
    """
    cache = {}

    def grade(assignment, sweep=False):
        if unavailable_reason() is not None:  # the grader refuses to grade without its sandbox
            pytest.skip(f"no sandbox here: {unavailable_reason()}")
        if (assignment, sweep) not in cache:
            root = tmp_path_factory.mktemp(f"class-{assignment}{'-sweep' if sweep else ''}")
            mutants = (swept_mutants if sweep else covering_mutants)(assignment)
            for student, notebook in class_notebooks(assignment, mutants).items():
                if sweep and student != "solution" and not student.startswith("mutant-"):
                    continue  # the sweep grades the solution (to compare with) and its mutants
                write_submission(notebook, root / "submissions", student, assignment)
            results = grade_class(root / "submissions", assignment, workdir=root / "work")
            cache[assignment, sweep] = {r.student: r for r in results}
        return cache[assignment, sweep]

    return grade


def pytest_terminal_summary(terminalreporter):
    """Print what tests reported with ``record_property("report", ...)`` (e.g. whether a rebuild was bit for bit)."""
    lines = [
        value
        for report in terminalreporter.stats.get("passed", [])
        + terminalreporter.stats.get("skipped", [])
        for key, value in getattr(report, "user_properties", [])
        if key == "report"
    ]
    if lines:
        terminalreporter.section("reports")
        for line in lines:
            terminalreporter.line(line)
