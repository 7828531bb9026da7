"""What the oracle tests share: tensors and the relative-error comparison with PyTorch.

A chapter's solution as a namespace is ``autograder.submissions.solution_namespace``.
"""

import numpy as np

from backproplab.gradcheck import rel_error

TOL = 1e-7


def t(array, grad=True):
    """A float64 leaf tensor from a NumPy array."""
    import torch

    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


def assert_close(actual, expected, name, tol=TOL):
    """``actual`` has ``expected``'s shape (a tensor or an array) and relative error below ``tol``."""
    expected = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert np.shape(actual) == expected.shape, (
        f"{name}: shape {np.shape(actual)} != {expected.shape}"
    )
    err = rel_error(actual, expected)
    assert err < tol, f"{name}: relative error {err:.2e} against torch"
