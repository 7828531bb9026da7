"""Correct answers written unlike the solution, for the grading tests.

A chapter's module ``chNN_name.py`` defines ``VARIANTS``, a list of
:class:`Variant`: whole answer cells written another way (loops instead of
vectorised code, another layer-creation order, float32, helpers,
``from numpy import *``, extra prints, warnings and plots) and, optionally,
cells a student added. Graded with the real autograder, each must get full
marks with no flag, just as each mutant (:mod:`autograder.mutants`) must
lose points.
"""

import importlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Variant:
    """A correct submission: answer cells replaced by other correct code.

    answers: ``{grade_id: source}`` of the answer cells written differently.
    added: ``((grade_id, source), ...)``: a new code cell of the student's own
        right after the cell ``grade_id``.
    """

    name: str
    about: str
    answers: dict
    added: tuple = field(default=())


def variants_for(assignment):
    """The ``VARIANTS`` list of an assignment such as ``01_gradient_descent``, each checked against the chapter."""
    from autograder.mutants import chapter_cells

    number, _, name = assignment.partition("_")
    module = importlib.import_module(f"autograder.variants.ch{number}_{name}")
    answers, tests = chapter_cells(assignment)
    for variant in module.VARIANTS:
        unknown = sorted(set(variant.answers) - answers) + [
            a for a, _ in variant.added if a not in answers | tests
        ]
        if unknown:
            raise ValueError(
                f"variant {variant.name!r} in {module.__name__} names cells {assignment} does not have: {unknown}"
            )
    return module.VARIANTS
