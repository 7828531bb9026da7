"""How long each chapter's solution notebook may take, top to bottom, on 2 CPU cores.

The budgets are a goal that ``benchmarks/notebook_times.py`` measures and
reports; tests never assert them, because a slower or busier CPU would fail
CI through no fault of the notebook. Tests keep only a hang guard: a notebook
still running after ``HANG_GUARD_FACTOR`` times its budget is stuck.
"""

import contextlib
import os
import time

from nbclient import NotebookClient

from autograder.build import read_source

DEFAULT_SECONDS = 60
# The course design allows chapters 05-07 180 s: the long ones, now 05 (im2col), 07 (PyTorch training and a
# search) and 08 (transfer learning), since the autograd chapter came in as 06.
LONGER = {"05_im2col_gpu": 180, "07_pytorch": 180, "08_transfer_learning": 180}
HANG_GUARD_FACTOR = 3


def budget_seconds(assignment):
    """The chapter's time budget in seconds (the course design's table)."""
    return LONGER.get(assignment, DEFAULT_SECONDS)


def hang_guard_seconds(assignment):
    """How long a test lets the chapter's notebook run before calling it stuck: a multiple of its budget."""
    return HANG_GUARD_FACTOR * budget_seconds(assignment)


def run_solution(assignment, workdir, graded=False, nb=None):
    """Execute the solution notebook (or ``nb``, a changed copy of it) in ``workdir``; no cell
    may run past the hang guard.

    ``graded=True`` runs it as nbgrader's autograder would (``NBGRADER_EXECUTION=autograde``:
    long experiments shrink). Returns ``(executed notebook, seconds)``; raises nbclient's
    ``CellTimeoutError`` or ``CellExecutionError`` if a cell hangs or fails.
    """
    nb = nb if nb is not None else read_source(assignment)
    client = NotebookClient(
        nb,
        timeout=hang_guard_seconds(assignment),
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.monotonic()
    with _execution_mode("autograde" if graded else None):
        client.execute()
    return nb, time.monotonic() - start


@contextlib.contextmanager
def _execution_mode(mode):
    """Set ``NBGRADER_EXECUTION`` to ``mode`` (left alone when ``None``) for the kernels started inside."""
    if mode is None:
        yield
        return
    before = os.environ.get("NBGRADER_EXECUTION")
    os.environ["NBGRADER_EXECUTION"] = mode
    try:
        yield
    finally:
        if before is None:
            del os.environ["NBGRADER_EXECUTION"]
        else:
            os.environ["NBGRADER_EXECUTION"] = before
