"""Every chapter, graded by the real autograder: the solution scores full marks,
the untouched release scores zero, and every classic mistake loses points."""

import pytest

from autograder.mutants import mutants_for
from tests.conftest import CHAPTERS

pytestmark = pytest.mark.xdist_group("graded_class")

MUTANT_CASES = [(a, m) for a in CHAPTERS for m in mutants_for(a)]


def _failed_cells(result):
    return sorted(name for name, c in result.cells.items() if c.autograded and c.score < c.max_score)


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_solution_scores_full_marks(graded_class, assignment):
    """The solution notebook gets every autograded point."""
    result = graded_class(assignment)["solution"]
    assert result.status == "graded", result.reason
    assert result.auto_max > 0
    assert _failed_cells(result) == [], f"the solution fails {_failed_cells(result)}"


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_untouched_release_scores_zero(graded_class, assignment):
    """A student who hands in the release unchanged gets 0 autograded points."""
    result = graded_class(assignment)["untouched"]
    assert result.status == "graded", result.reason
    assert result.auto_score == 0
    assert result.manual_pending == 0, "an unanswered written question is scored 0, not left pending"


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_chapter_has_enough_mutants(assignment):
    """Each chapter ships at least 8 classic mistakes, each in a real answer cell."""
    mutants = mutants_for(assignment)
    assert len(mutants) >= 8
    assert len({m.name for m in mutants}) == len(mutants), "mutant names must be unique"


@pytest.mark.parametrize(("assignment", "mutant"), MUTANT_CASES, ids=[f"{a}-{m.name}" for a, m in MUTANT_CASES])
def test_mutant_loses_points(graded_class, assignment, mutant):
    """A classic mistake loses points in the test cells that should catch it."""
    result = graded_class(assignment)[f"mutant-{mutant.name}"]
    solution = graded_class(assignment)["solution"]
    assert result.status == "graded", result.reason
    assert result.auto_score < solution.auto_score
    missed = [cell for cell in mutant.loses if result.cells[cell].score >= result.cells[cell].max_score]
    assert not missed, f"{mutant.name} still gets full points in {missed}"
