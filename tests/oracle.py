"""What the oracle tests share: a chapter's solution as a namespace, and comparisons with PyTorch."""

import numpy as np

from autograder.build import read_source
from autograder.submissions import solution_answers
from backproplab.gradcheck import rel_error

TOL = 1e-7


def solution_namespace(assignment, setup, solution_cells):
    """The namespace of ``assignment``'s setup cell and solution cells (in that order), run with ``exec``."""
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in read_source(assignment).cells}
    answers = solution_answers(assignment)
    namespace = {"__name__": f"{assignment}_solution"}
    exec(compile(cells[setup].source, setup, "exec"), namespace)
    for grade_id in solution_cells:
        assert cells[grade_id].cell_type == "code", grade_id
        exec(compile(answers[grade_id], grade_id, "exec"), namespace)
    return namespace


def t(array, grad=True):
    """A float64 leaf tensor from a NumPy array."""
    import torch

    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


def assert_close(actual, expected, name, tol=TOL):
    """``actual`` has ``expected``'s shape (a tensor or an array) and relative error below ``tol``."""
    expected = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert np.shape(actual) == expected.shape, f"{name}: shape {np.shape(actual)} != {expected.shape}"
    err = rel_error(actual, expected)
    assert err < tol, f"{name}: relative error {err:.2e} against torch"
