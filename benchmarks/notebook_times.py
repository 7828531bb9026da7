"""Time each chapter's solution notebook, top to bottom, against its budget.

This is where the budgets are checked: tests only guard against hangs.

Usage: ``python benchmarks/notebook_times.py [CHAPTER ...]``. Writes
``benchmarks/results/notebook_times.json`` and prints a table; with chapters
named, only their rows change. Run it on the machine whose times you report
(the budgets assume 2 CPU cores).
"""

import json
import os
import platform
import sys
import tempfile

from autograder.budgets import budget_seconds, run_solution
from autograder.course import assignments
from report import RESULTS as RESULTS_DIR

RESULTS = RESULTS_DIR / "notebook_times.json"


def main(names):
    rows = []
    for assignment in names or assignments():
        with tempfile.TemporaryDirectory() as workdir:
            _, seconds = run_solution(assignment, workdir)
        budget = budget_seconds(assignment)
        rows.append(
            {
                "chapter": assignment,
                "seconds": round(seconds, 2),
                "budget": budget,
                "within": seconds <= budget,
            }
        )
        print(
            f"{assignment:<24} {seconds:7.1f} s  (budget {budget} s){'' if seconds <= budget else '  OVER BUDGET'}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    meta = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    RESULTS.write_text(json.dumps({"machine": meta, "notebooks": merged(rows)}, indent=2) + "\n")


def merged(rows):
    """The rows of the results file, with those of the chapters just timed replaced, in course order."""
    old = json.loads(RESULTS.read_text())["notebooks"] if RESULTS.exists() else []
    by_chapter = {row["chapter"]: row for row in old + rows}  # the new rows last: they win
    return [by_chapter[name] for name in assignments() if name in by_chapter]


if __name__ == "__main__":
    main(sys.argv[1:])
