"""Chapter 06's engine against an independent oracle: PyTorch autograd.

The notebook checks the engine against chapter 02's layers and centred differences; here the
solution's Variable, its rules, topological order and backward pass (taken from the solution
source itself) build random graphs whose gradients must equal ``torch.autograd``'s on the same
float64 numbers (relative error below 1e-7, :func:`backproplab.gradcheck.rel_error`).
"""

import numpy as np
import pytest

from autograder.build import read_source
from autograder.submissions import solution_answers, solution_namespace
from tests.oracle import assert_close, t

torch = pytest.importorskip("torch")

ASSIGNMENT = "06_autograd"
SOLUTION_CELLS = (
    "ch06_matmul",
    "ch06_rules",
    "ch06_topological_order",
    "ch06_backward",
    "ch06_mlp_loss",
)


@pytest.fixture(scope="module")
def ch06():
    """The setup cell, the locked cell that defines Variable, add and mul, and the solution cells."""
    namespace = solution_namespace(ASSIGNMENT, "ch06_setup", solution_cells=())
    provided = next(
        c
        for c in read_source(ASSIGNMENT).cells
        if c.metadata.get("nbgrader", {}).get("grade_id") == "ch06_variable"
    )
    exec(compile(provided.source, "ch06_variable", "exec"), namespace)
    answers = solution_answers(ASSIGNMENT)
    for grade_id in SOLUTION_CELLS:
        exec(compile(answers[grade_id], grade_id, "exec"), namespace)
    return namespace


@pytest.mark.parametrize("N", [1, 17])
def test_two_layer_network_gradients_equal_torch(ch06, N):
    rng = np.random.default_rng(N)
    arrays = {
        "W1": rng.normal(0, 0.5, (9, 6)),
        "b1": rng.normal(0, 0.1, 6),
        "W2": rng.normal(0, 0.5, (6, 4)),
        "b2": rng.normal(0, 0.1, 4),
    }
    X, y = rng.normal(size=(N, 9)), rng.integers(0, 4, N)
    ours = {k: ch06["Variable"](v) for k, v in arrays.items()}
    loss = ch06["mlp_loss"](X, y, ours)
    ch06["backward"](loss)
    theirs = {k: t(v) for k, v in arrays.items()}
    hidden = torch.relu(torch.from_numpy(X) @ theirs["W1"] + theirs["b1"])
    expected = torch.nn.functional.cross_entropy(
        hidden @ theirs["W2"] + theirs["b2"], torch.from_numpy(y)
    )
    expected.backward()
    assert_close(loss.data, expected, "loss")
    for name in arrays:
        assert_close(ours[name].grad, theirs[name].grad, f"d{name}")


def test_fan_out_and_broadcasting_equal_torch(ch06):
    """u = a * b + c (b over rows, c over columns), v = u * u + a * c, summed: every leaf's gradient."""
    rng = np.random.default_rng(7)
    arrays = {"a": rng.normal(size=(5, 3)), "b": rng.normal(size=3), "c": rng.normal(size=(5, 1))}
    Variable, sum_all = ch06["Variable"], ch06["sum_all"]
    ours = {k: Variable(v) for k, v in arrays.items()}
    u = ours["a"] * ours["b"] + ours["c"]
    ch06["backward"](sum_all(u * u + ours["a"] * ours["c"]))
    theirs = {k: t(v) for k, v in arrays.items()}
    u_t = theirs["a"] * theirs["b"] + theirs["c"]
    (u_t * u_t + theirs["a"] * theirs["c"]).sum().backward()
    for name in arrays:
        assert_close(ours[name].grad, theirs[name].grad, f"d{name}")


def test_deep_chain_with_every_node_used_twice_equals_torch(ch06):
    Variable = ch06["Variable"]
    s_ours, s_theirs = Variable(0.7), t(0.7)
    node_ours, node_theirs = s_ours, s_theirs
    for _ in range(20):
        node_ours = node_ours * node_ours + s_ours * 0.3
        node_theirs = node_theirs * node_theirs + s_theirs * 0.3
    ch06["backward"](node_ours)
    node_theirs.backward()
    assert_close(node_ours.data, node_theirs, "value")
    assert_close(s_ours.grad, s_theirs.grad, "ds")


@pytest.mark.parametrize("scale", [1.0, 500.0])
def test_cross_entropy_and_matmul_equal_torch_for_large_scores(ch06, scale):
    rng = np.random.default_rng(3)
    A, B, y = scale * rng.normal(size=(6, 4)), rng.normal(size=(4, 5)), rng.integers(0, 5, 6)
    Variable = ch06["Variable"]
    A_ours, B_ours = Variable(A), Variable(B)
    loss = ch06["softmax_cross_entropy"](ch06["matmul"](A_ours, B_ours), y)
    ch06["backward"](loss)
    A_t, B_t = t(A), t(B)
    expected = torch.nn.functional.cross_entropy(A_t @ B_t, torch.from_numpy(y))
    expected.backward()
    assert_close(loss.data, expected, "loss")
    assert_close(A_ours.grad, A_t.grad, "dA")
    assert_close(B_ours.grad, B_t.grad, "dB")
