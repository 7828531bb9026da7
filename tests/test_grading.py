"""Every chapter, graded by the real autograder: the solution scores full marks,
the untouched release scores zero, and every classic mistake loses points."""

import pytest

from autograder.mutants import mutants_for
from autograder.variants import variants_for
from tests.conftest import CHAPTERS, covering_mutants


def _on_chapter_worker(assignment, *values, test_id, sweep=False):
    """A test parameter in its chapter's xdist group: each class is graded once, on one worker.

    With ``sweep`` the test is in ``make sweep``'s tier and its chapter's sweep group instead.
    """
    group = f"{'sweep' if sweep else 'graded'}-{assignment}"
    marks = [pytest.mark.xdist_group(group)] + ([pytest.mark.sweep] if sweep else [])
    return pytest.param(assignment, *values, id=test_id, marks=marks)


GRADED_CHAPTERS = [_on_chapter_worker(a, test_id=a) for a in CHAPTERS]
VARIANT_CASES = [
    _on_chapter_worker(a, v, test_id=f"{a}-{v.name}") for a in CHAPTERS for v in variants_for(a)
]
MUTANT_CASES = [
    _on_chapter_worker(a, m, test_id=f"{a}-{m.name}", sweep=m not in covering_mutants(a))
    for a in CHAPTERS
    for m in mutants_for(a)
]


def _failed_cells(result):
    return sorted(
        name for name, c in result.cells.items() if c.autograded and c.score < c.max_score
    )


@pytest.mark.parametrize("assignment", GRADED_CHAPTERS)
def test_solution_scores_full_marks(graded_class, assignment):
    """The solution notebook gets every autograded point."""
    result = graded_class(assignment)["solution"]
    assert result.status == "graded", result.reason
    assert result.auto_max > 0
    assert _failed_cells(result) == [], f"the solution fails {_failed_cells(result)}"


@pytest.mark.parametrize("assignment", GRADED_CHAPTERS)
def test_untouched_release_scores_zero(graded_class, assignment):
    """A student who hands in the release unchanged gets 0 autograded points."""
    result = graded_class(assignment)["untouched"]
    assert result.status == "graded", result.reason
    assert result.auto_score == 0
    assert result.manual_pending == 0, (
        "an unanswered written question is scored 0, not left pending"
    )


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_chapter_has_enough_mutants(assignment):
    """Each chapter ships at least 8 classic mistakes, each in a real answer cell."""
    mutants = mutants_for(assignment)
    assert len(mutants) >= 8
    assert len({m.name for m in mutants}) == len(mutants), "mutant names must be unique"


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_covering_mutants_fail_every_cell_the_mutants_target(assignment):
    """``make test`` grades fewer mutants than ``make sweep``, but they still fail every targeted cell."""
    targeted = {cell for m in mutants_for(assignment) for cell in m.loses}
    covering = covering_mutants(assignment)
    assert {cell for m in covering for cell in m.loses} == targeted
    assert len(covering) < len(mutants_for(assignment))


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_chapter_has_enough_variants(assignment):
    """Each chapter ships at least 4 correct submissions written unlike the solution."""
    variants = variants_for(assignment)
    assert len(variants) >= 4
    assert len({v.name for v in variants}) == len(variants), "variant names must be unique"


@pytest.mark.parametrize(("assignment", "variant"), VARIANT_CASES)
def test_correct_variant_gets_full_marks_and_no_flag(graded_class, assignment, variant):
    """A correct answer written unlike the solution gets every autograded point, and nobody calls it a cheat."""
    result = graded_class(assignment)[f"variant-{variant.name}"]
    assert result.status == "graded", result.reason
    assert _failed_cells(result) == [], {c: result.cells[c].reason for c in _failed_cells(result)}
    assert result.flags == [], result.notes


@pytest.mark.parametrize(("assignment", "mutant"), MUTANT_CASES)
def test_mutant_loses_points(graded_class, assignment, mutant):
    """A classic mistake loses points in the test cells that should catch it."""
    graded = graded_class(assignment, sweep=mutant not in covering_mutants(assignment))
    result, solution = graded[f"mutant-{mutant.name}"], graded["solution"]
    assert result.status == "graded", result.reason
    assert result.auto_score < solution.auto_score
    missed = [
        cell for cell in mutant.loses if result.cells[cell].score >= result.cells[cell].max_score
    ]
    assert not missed, f"{mutant.name} still gets full points in {missed}"


@pytest.mark.parametrize("assignment", GRADED_CHAPTERS)
def test_each_class_is_graded_on_one_worker(request, assignment):
    """Under ``make test`` (``--dist loadgroup``) a chapter's tests carry its group, so its class is graded once."""
    # pytest-xdist sets option.loadgroup under --dist loadgroup; without xdist there is no such option.
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not run with pytest-xdist --dist loadgroup")
    assert request.node.nodeid.endswith(f"@graded-{assignment}"), (
        "pytest-xdist did not tag the test with its xdist_group, so each worker would grade the class again "
        "(pytest 9.2 with pytest-xdist 3.8 does this: see the pin in pyproject.toml)"
    )


@pytest.mark.parametrize("assignment", GRADED_CHAPTERS)
def test_class_scores_are_reported(graded_class, assignment, record_property):
    """The class holds every variant and the covering mutants; their scores go to the suite's
    reports section, one line a chapter."""
    results = graded_class(assignment)
    variants = [results[f"variant-{v.name}"] for v in variants_for(assignment)]
    mutants = [results[f"mutant-{m.name}"] for m in covering_mutants(assignment)]
    full = results["solution"].auto_max
    assert len(variants) >= 4 and len(mutants) >= 3
    scores = sorted(m.auto_score for m in mutants)
    record_property(
        "report",
        (
            f"{assignment}: solution {results['solution'].auto_score:g}/{full:g}, untouched {results['untouched'].auto_score:g}; "
            f"{sum(v.auto_score == full and not v.flags for v in variants)} of {len(variants)} variants full with no flag; "
            f"{sum(m.auto_score < full for m in mutants)} of {len(mutants)} covering mutants lose points "
            f"(scores {scores[0]:g} to {scores[-1]:g}, median {scores[len(scores) // 2]:g})"
        ),
    )
