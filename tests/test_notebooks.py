"""Each solution notebook runs top to bottom, cleanly, within its budget."""

import pytest

from autograder.budgets import budget_seconds, run_solution
from tests.conftest import CHAPTERS


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_solution_runs_top_to_bottom_within_budget(assignment, tmp_path):
    """No cell errors, none writes to stderr, and the whole run fits the chapter's budget."""
    nb, seconds = run_solution(assignment, tmp_path)
    assert seconds <= budget_seconds(assignment)
    noisy = [
        c.id for c in nb.cells if c.cell_type == "code"
        for o in c.outputs if o.get("name") == "stderr"
    ]
    assert noisy == [], f"cells {noisy} write to stderr (a warning would cost a student points)"
