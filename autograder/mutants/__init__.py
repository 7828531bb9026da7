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


def mutants_for(assignment):
    """The ``MUTANTS`` list of an assignment such as ``01_gradient_descent``."""
    number, _, name = assignment.partition("_")
    module = importlib.import_module(f"autograder.mutants.ch{number}_{name}")
    return module.MUTANTS
