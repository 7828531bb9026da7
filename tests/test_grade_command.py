"""The instructor's grading command on a zip, with a student whose notebook is missing."""

import shutil
import subprocess
import sys

import pytest

from autograder.course import REPO
from autograder.submissions import released_notebook, write_submission

pytestmark = pytest.mark.xdist_group("grade_command")
ASSIGNMENT = "01_gradient_descent"


def test_grade_zip_reports_missing_notebook_and_grades_the_rest(tmp_path):
    """A misnamed notebook is reported with a reason; the other student is still graded."""
    folder = tmp_path / "class"
    write_submission(released_notebook(ASSIGNMENT), folder, "ada", ASSIGNMENT)
    renamed = write_submission(released_notebook(ASSIGNMENT), folder, "bob", ASSIGNMENT)
    renamed.rename(renamed.with_name("my_homework.ipynb"))
    archive = shutil.make_archive(str(tmp_path / "class"), "zip", folder)
    run = subprocess.run(
        [sys.executable, "-m", "autograder", "grade", archive, "--chapter", ASSIGNMENT, "--workdir", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    table = {line.split()[0]: line for line in run.stdout.splitlines() if line.split()}
    assert "graded" in table["ada"] and "0 / " in table["ada"]
    assert "no gradient_descent.ipynb" in table["bob"] and "my_homework.ipynb" in table["bob"]
    assert (tmp_path / "work" / "grades.csv").read_text().count("\n") == 3
