"""Chapter 08's transfer-learning table, from a full run of its solution notebook.

Usage: ``python benchmarks/transfer_learning.py [--smoke] [--results DIR]``. Runs the solution notebook
top to bottom (no smoke test), takes the table its experiment displays (test
top-1 on the 719 test digits for scratch, frozen features and fine-tuning at
5, 20 and 100 labels per class, mean ± std over seeds) and the weight-change
printout, and writes ``benchmarks/results/transfer_learning.json`` and ``.md``.
``--smoke`` runs the notebook at the size the grader uses (one budget, one
seed, a few steps): a check that the script still reads the notebook.
"""

import argparse
import os
import re
import tempfile

from report import write

from autograder.budgets import run_solution

ROW = re.compile(r"^\| (?P<method>[^|]+?) \| (?P<cells>.+) \|$")
CELL = re.compile(r"(?P<mean>[0-9.]+) ± (?P<std>[0-9.]+)")
BUDGET = re.compile(r"(\d+) per class")


def output_text(output):
    """What an output shows as text: a stream's text, or the Markdown a cell displays (the table)."""
    if output.get("output_type") == "stream":
        return output.get("text", "")
    markdown = output.get("data", {}).get("text/markdown", "")
    return markdown if markdown.endswith("\n") or not markdown else markdown + "\n"


def experiment_output(nb):
    """The text of the cell that shows the transfer-learning table: what it prints and displays."""
    for cell in nb.cells:
        text = "".join(output_text(o) for o in cell.get("outputs", []))
        if "test top-1 accuracy on" in text:
            return text
    raise RuntimeError(
        "the notebook printed no transfer-learning table: did its experiment cell change?"
    )


def parse_table(text):
    """``[{"method", "per_class", "mean", "std"}, ...]`` from the displayed Markdown table."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    budgets = [int(b) for b in BUDGET.findall(lines[0])]
    rows = []
    for line in lines[1:]:
        match = ROW.match(line)
        cells = [CELL.search(c) for c in match["cells"].split(" | ")]
        rows += [
            {
                "method": match["method"],
                "per_class": b,
                "mean": float(c["mean"]),
                "std": float(c["std"]),
            }
            for b, c in zip(budgets, cells)
        ]
    return rows


def main(results_dir=None):
    """Run the notebook, write the results, return the parsed rows."""
    with tempfile.TemporaryDirectory() as workdir:
        nb, seconds = run_solution("08_transfer_learning", workdir)
    text = experiment_output(nb)
    rows = parse_table(text)
    table = [line for line in text.splitlines() if line.startswith("|")]
    moved = [line.strip() for line in text.splitlines() if line.startswith(("how far", "  "))]
    notes = [
        f"Solution notebook top to bottom in {seconds:.0f} s; {text.splitlines()[0].strip()}.",
        *moved,
    ]
    write("transfer_learning", rows, table, notes, results_dir)
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--smoke", action="store_true", help="the grader's smoke-test size (NBGRADER_EXECUTION)"
    )
    parser.add_argument(
        "--results", default=None, help="folder for the results (default benchmarks/results)"
    )
    args = parser.parse_args()
    if args.smoke:
        os.environ["NBGRADER_EXECUTION"] = "autograde"
    main(args.results)
