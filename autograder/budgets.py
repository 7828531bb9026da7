"""How long each chapter's solution notebook may take, top to bottom, on 2 CPU cores."""

import time

from nbclient import NotebookClient

from autograder.build import read_source

DEFAULT_SECONDS = 60
# The course design allows 05 and 07 180 s; issue 8 gives chapter 06 (PyTorch training and a search) the same.
LONGER = {"05_im2col_gpu": 180, "06_pytorch": 180, "07_transfer_learning": 180}


def budget_seconds(assignment):
    """The chapter's time budget in seconds (the course design's table)."""
    return LONGER.get(assignment, DEFAULT_SECONDS)


def run_solution(assignment, workdir):
    """Execute the solution notebook in ``workdir`` under its budget.

    Returns ``(executed notebook, seconds)``; raises nbclient's
    ``CellTimeoutError`` or ``CellExecutionError`` if it overruns or fails.
    """
    nb = read_source(assignment)
    budget = budget_seconds(assignment)
    client = NotebookClient(nb, timeout=budget, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    start = time.monotonic()
    client.execute()
    return nb, time.monotonic() - start
