"""Each solution notebook runs top to bottom, cleanly (its time is benchmarked, not asserted)."""

import pytest

from autograder.budgets import LONGER, run_solution
from autograder.outside_check import records_by_cell
from tests.conftest import CHAPTERS

# The three long chapters (1-3 minutes each at full size) run at full size in `make sweep`; in
# `make test` they run in their short, graded form (the grading tests, and the browser test's
# Run All on the quick kernel).
FULL_SIZE = [pytest.param(a, marks=pytest.mark.sweep) if a in LONGER else a for a in CHAPTERS]


@pytest.mark.parametrize("assignment", FULL_SIZE)
def test_solution_runs_top_to_bottom_cleanly(assignment, tmp_path):
    """No cell errors or hangs, and none writes to stderr (benchmarks/notebook_times.py times the run)."""
    nb, _ = run_solution(assignment, tmp_path)
    noisy = [
        c.id
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
        if o.get("name") == "stderr"
    ]
    assert noisy == [], f"cells {noisy} write to stderr (a warning would cost a student points)"


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_every_test_cell_records_results_for_the_outside_check(assignment, tmp_path):
    """Graded, every test cell sends at least one record, under keys unique within the cell."""
    nb, _ = run_solution(assignment, tmp_path, graded=True)
    graded = {
        c.metadata["nbgrader"]["grade_id"]
        for c in nb.cells
        if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")
    }
    records = records_by_cell(nb)
    assert set(records) == graded
    for grade_id, recs in records.items():
        assert recs, f"{grade_id} records nothing: the grader could not check it"
        assert not [r.key for r in recs if "unrecordable" in r.value], (
            f"{grade_id} records something that is not plain data"
        )


@pytest.mark.parametrize("assignment", ["05_im2col_gpu", "07_pytorch"])
def test_runs_offline_with_only_what_ships(assignment, tmp_path, monkeypatch):
    """No Fashion-MNIST and no network: the chapter says so, falls back to the digits and runs to the end."""
    monkeypatch.setenv("BACKPROPLAB_DEBIAN_DATASETS", str(tmp_path / "no-debian-datasets"))
    monkeypatch.setenv("BACKPROPLAB_DATA", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("BACKPROPLAB_OFFLINE", "1")
    nb, _ = run_solution(assignment, tmp_path)
    printed = "".join(
        o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )
    assert (
        "Fashion-MNIST is not available here" in printed and "scikit-learn's 8x8 digits" in printed
    )
    assert "using" in printed and "for validation" in printed, (
        "the shrunk subsets are not announced"
    )
    if assignment == "07_pytorch":
        assert "CIFAR-10 is not on this machine, so this section trains nothing" in printed
