"""A notebook saved by Google Colab or VS Code grades exactly as the JupyterLab notebook it came from.

One class of six, chapter 01: the solution and the demo's student with three classic mistakes
(``sample_answers``), each as JupyterLab saves it, as Colab downloads it in the worst case
(format 4.0 with no cell ids, "Copy of" in its name, an install cell added on top, and none of
nbgrader's metadata left) and as VS Code saves it (keys sorted, a cell added, its own kernel).
Graded by the real autograder in the sandbox; the other editors' notebooks must score the same
points, cell by cell, for the same reasons, and no flag may call their students cheats. The
intermediate Colab cases (metadata kept, format 4.5) are in the adversarial corpus.
"""

import pytest

from autograder.demo import sample_answers
from autograder.grade import grade_class
from autograder.sandbox import unavailable_reason
from autograder.submissions import fill, released_notebook, write_submission
from tests.adversarial.editors import colab_saved, vscode_saved

ASSIGNMENT = "01_gradient_descent"
NOTEBOOK = "gradient_descent.ipynb"
BASES = ("perfect", "mistakes")
EDITORS = {
    "colab": lambda nb: colab_saved(nb, NOTEBOOK, minor=0, drop_metadata=True),
    "vscode": lambda nb: vscode_saved(nb, NOTEBOOK),
}

pytestmark = [
    pytest.mark.xdist_group("other-editors"),
    pytest.mark.skipif(
        unavailable_reason() is not None, reason=f"no sandbox here: {unavailable_reason()}"
    ),
]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """``{"<base>-<editor>": StudentResult}`` for the six notebooks, graded as one class."""
    root = tmp_path_factory.mktemp("other-editors")
    release, answers = released_notebook(ASSIGNMENT), sample_answers(ASSIGNMENT)
    for base in BASES:
        notebook = fill(release, answers[base])
        write_submission(notebook, root / "submissions", f"{base}-jupyterlab", ASSIGNMENT)
        for editor, saved in EDITORS.items():
            name, text = saved(notebook)
            folder = root / "submissions" / f"{base}-{editor}"
            folder.mkdir(parents=True)
            (folder / name).write_text(text, encoding="utf-8")
    results = grade_class(root / "submissions", ASSIGNMENT, workdir=root / "work", workers=2)
    return {r.student: r for r in results}


def test_the_jupyterlab_notebooks_score_full_marks_and_less(graded):
    """The references mean something: the solution has every point, the mistakes lose some."""
    perfect, mistakes = graded["perfect-jupyterlab"], graded["mistakes-jupyterlab"]
    assert perfect.status == "graded" and perfect.auto_score == perfect.auto_max
    assert 0 < mistakes.auto_score < mistakes.auto_max


@pytest.mark.parametrize("editor", EDITORS)
@pytest.mark.parametrize("base", BASES)
def test_graded_cell_by_cell_as_the_jupyterlab_notebook(graded, base, editor):
    lab, other = graded[f"{base}-jupyterlab"], graded[f"{base}-{editor}"]
    assert other.status == "graded", other.reason
    cells = {g: (c.score, c.max_score, c.reason) for g, c in other.cells.items()}
    assert cells == {g: (c.score, c.max_score, c.reason) for g, c in lab.cells.items()}
    assert set(other.flags) <= {"renamed"}, f"an honest student flagged {other.flags}"
