"""Classic wrong versions of each chapter's solution, for the mutation tests.

A chapter's module ``chNN_name.py`` defines ``MUTANTS``, a list of
:class:`Mutant`. Each one replaces the text ``old`` (which must occur exactly
once in the solution code of cell ``cell``) by ``new``; graded with the real
autograder, the test cells named in ``loses`` must then score below their
maximum.
"""

import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """One classic mistake, as an exact text edit of one solution cell."""

    name: str
    cell: str
    old: str
    new: str
    loses: tuple


def both(cell):
    """The visible and the hidden test cell of an exercise: ``("<cell>_visible", "<cell>_hidden")``."""
    return (f"{cell}_visible", f"{cell}_hidden")


def mutants_for(assignment):
    """The ``MUTANTS`` list of an assignment such as ``01_gradient_descent``, each checked against the chapter."""
    number, _, name = assignment.partition("_")
    module = importlib.import_module(f"autograder.mutants.ch{number}_{name}")
    answers, tests = chapter_cells(assignment)
    for mutant in module.MUTANTS:
        where = f"mutant {mutant.name!r} in {module.__name__}"
        if mutant.cell not in answers:
            raise ValueError(
                f"{where}: {mutant.cell!r} is not an answer cell of {assignment} (answer cells: {sorted(answers)})"
            )
        unknown = (
            [g for g in mutant.loses if g not in tests]
            if isinstance(mutant.loses, tuple)
            else ["loses must be a tuple"]
        )
        if unknown or not mutant.loses:
            raise ValueError(
                f"{where}: loses names no test cell of {assignment}: {unknown or 'empty'}"
            )
    return module.MUTANTS


def chapter_cells(assignment):
    """``(answer cell grade_ids, test cell grade_ids)`` of a chapter's source."""
    from autograder.build import read_source

    meta = [c.metadata.get("nbgrader", {}) for c in read_source(assignment).cells]
    return {m["grade_id"] for m in meta if m.get("solution")}, {
        m["grade_id"] for m in meta if m.get("grade") and not m.get("solution")
    }
