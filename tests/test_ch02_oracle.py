"""Chapter 02's solution against an independent oracle: PyTorch autograd.

The notebook checks every backward pass against centred differences; here the
same functions, taken from the solution source itself, are compared with
``torch.autograd`` on random float64 inputs, for batch sizes 1 and 17
(relative error, :func:`backproplab.gradcheck.rel_error`, below 1e-7).
"""

import numpy as np
import pytest

from autograder.submissions import solution_namespace
from tests.oracle import assert_close, t

torch = pytest.importorskip("torch")
F = torch.nn.functional

ASSIGNMENT = "02_backprop"
SETUP = "ch02_setup"
# The solution cells that define functions (in notebook order); the SymPy
# exercise needs the symbols cell and is checked by the notebook itself.
SOLUTION_CELLS = (
    "ch02_add_mul_circuit",
    "ch02_fanout_circuit",
    "ch02_affine",
    "ch02_relu",
    "ch02_sigmoid",
    "ch02_tanh",
    "ch02_mse_loss",
    "ch02_bce_loss",
    "ch02_softmax_loss",
    "ch02_svm_loss",
    "ch02_numerical_grad",
    "ch02_mlp",
    "ch02_sgd_train",
    "ch02_confusion_matrix",
)
BATCH_SIZES = (1, 17)


@pytest.fixture(scope="module")
def ch02():
    """The namespace of the setup cell and the solution cells, run with ``exec``."""
    return solution_namespace(ASSIGNMENT, SETUP, SOLUTION_CELLS)


def test_every_solution_cell_is_extracted(ch02):
    for name in (
        "affine_forward",
        "affine_backward",
        "relu_forward",
        "relu_backward",
        "sigmoid_forward",
        "sigmoid_backward",
        "tanh_forward",
        "tanh_backward",
        "mse_loss",
        "bce_with_logits_loss",
        "softmax_loss",
        "svm_loss",
        "numerical_grad",
        "MLP",
        "sgd_train",
        "confusion_matrix",
    ):
        assert callable(ch02[name]), name


@pytest.mark.parametrize("N", BATCH_SIZES)
def test_circuits(ch02, N):
    rng = np.random.default_rng(N)
    x, y, z, g = (rng.normal(size=N) for _ in range(4))
    for fn, torch_fn in (
        (ch02["add_mul_circuit"], lambda a, b, c: (a + b) * c),
        (ch02["fanout_circuit"], lambda a, b, c: (a * b + c) * a),
    ):
        tx, ty, tz = t(x), t(y), t(z)
        out = torch_fn(tx, ty, tz)
        (out * t(g, grad=False)).sum().backward()
        f, dx, dy, dz = fn(x, y, z, dout=g)
        assert_close(f, out, f"{fn.__name__}: f")
        for name, ours, leaf in (("dx", dx, tx), ("dy", dy, ty), ("dz", dz, tz)):
            assert_close(ours, leaf.grad, f"{fn.__name__}: {name}")


@pytest.mark.parametrize("N", BATCH_SIZES)
@pytest.mark.parametrize("D, M", [(6, 4), (3, 7)])
def test_affine(ch02, N, D, M):
    rng = np.random.default_rng(100 + N + D)
    X, W, b, dout = (
        rng.normal(size=(N, D)),
        rng.normal(size=(D, M)),
        rng.normal(size=M),
        rng.normal(size=(N, M)),
    )
    tX, tW, tb = t(X), t(W), t(b)
    out_t = tX @ tW + tb
    (out_t * t(dout, grad=False)).sum().backward()
    out, cache = ch02["affine_forward"](X, W, b)
    dX, dW, db = ch02["affine_backward"](dout, cache)
    assert_close(out, out_t, "affine out")
    assert_close(dX, tX.grad, "dX")
    assert_close(dW, tW.grad, "dW")
    assert_close(db, tb.grad, "db")


@pytest.mark.parametrize("N", BATCH_SIZES)
@pytest.mark.parametrize(
    "name, torch_fn", [("relu", torch.relu), ("sigmoid", torch.sigmoid), ("tanh", torch.tanh)]
)
def test_activations(ch02, N, name, torch_fn):
    rng = np.random.default_rng(200 + N)
    x, dout = rng.normal(scale=2.0, size=(N, 5)), rng.normal(size=(N, 5))
    x[np.abs(x) < 1e-3] = 0.5  # ReLU's kink: both derivatives are right there
    tx = t(x)
    out_t = torch_fn(tx)
    (out_t * t(dout, grad=False)).sum().backward()
    out, cache = ch02[f"{name}_forward"](x)
    assert_close(out, out_t, f"{name} out")
    assert_close(ch02[f"{name}_backward"](dout, cache), tx.grad, f"{name} dx")


def test_sigmoid_is_stable_at_1000(ch02):
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # an overflow would raise here
        out, cache = ch02["sigmoid_forward"](np.array([[-1000.0, 1000.0, 0.0]]))
    assert_close(out, torch.sigmoid(t([[-1000.0, 1000.0, 0.0]], grad=False)), "sigmoid at +-1000")


def _loss_case(N, K, seed, scale=2.0):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(scale=scale, size=(N, K))


@pytest.mark.parametrize("N", BATCH_SIZES)
def test_mse_loss(ch02, N):
    rng, S = _loss_case(N, 3, 300 + N)
    Y = rng.normal(size=(N, 3))
    tS = t(S)
    loss_t = ((tS - t(Y, grad=False)) ** 2).sum() / (2 * N)
    loss_t.backward()
    loss, dS = ch02["mse_loss"](S, Y)
    assert_close(loss, loss_t, "mse loss")
    assert_close(dS, tS.grad, "mse dscores")


@pytest.mark.parametrize("N", BATCH_SIZES)
@pytest.mark.parametrize("scale", [2.0, 1000.0])
def test_bce_with_logits_loss(ch02, N, scale):
    rng, S = _loss_case(N, 4, 400 + N, scale)
    Y = rng.uniform(size=(N, 4))
    tS = t(S)
    loss_t = F.binary_cross_entropy_with_logits(tS, t(Y, grad=False), reduction="sum") / N
    loss_t.backward()
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        loss, dS = ch02["bce_with_logits_loss"](S, Y)
    assert_close(loss, loss_t, "bce loss")
    assert_close(dS, tS.grad, "bce dscores")


@pytest.mark.parametrize("N", BATCH_SIZES)
@pytest.mark.parametrize("scale", [2.0, 1000.0])
def test_softmax_loss(ch02, N, scale):
    rng, S = _loss_case(N, 6, 500 + N, scale)
    y = rng.integers(0, 6, size=N)
    tS = t(S)
    loss_t = F.cross_entropy(tS, torch.tensor(y))
    loss_t.backward()
    with np.errstate(over="raise"):
        loss, dS = ch02["softmax_loss"](S, y)
    assert_close(loss, loss_t, "softmax loss")
    assert_close(dS, tS.grad, "softmax dscores")


@pytest.mark.parametrize("N", BATCH_SIZES)
@pytest.mark.parametrize("delta", [1.0, 0.5])
def test_svm_loss(ch02, N, delta):
    rng, S = _loss_case(N, 5, 600 + N, 1.0)
    y = rng.integers(0, 5, size=N)
    tS = t(S)
    # torch's multi-margin loss divides each example's sum by the number of classes
    loss_t = F.multi_margin_loss(tS, torch.tensor(y), margin=delta, reduction="mean") * S.shape[1]
    loss_t.backward()
    loss, dS = ch02["svm_loss"](S, y, delta=delta)
    assert_close(loss, loss_t, "svm loss")
    assert_close(dS, tS.grad, "svm dscores")


@pytest.mark.parametrize("N", BATCH_SIZES)
@pytest.mark.parametrize(
    "sizes, activation", [([5, 7, 4, 3], "tanh"), ([4, 6, 3], "relu"), ([3, 5, 4], "sigmoid")]
)
def test_mlp_gradients(ch02, N, sizes, activation):
    rng = np.random.default_rng(700 + N + len(sizes))
    net = ch02["MLP"](sizes, activation=activation, seed=3)
    for key in net.params:
        net.params[key] = rng.normal(size=net.params[key].shape)
    X, y = rng.normal(size=(N, sizes[0])), rng.integers(0, sizes[-1], size=N)
    leaves = {key: t(value) for key, value in net.params.items()}
    act = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}[activation]
    h = t(X, grad=False)
    for i in range(1, len(sizes)):
        h = h @ leaves[f"W{i}"] + leaves[f"b{i}"]
        if i < len(sizes) - 1:
            h = act(h)
    loss_t = F.cross_entropy(h, torch.tensor(y))
    loss_t.backward()
    loss, grads = net.loss(X, y)
    assert_close(net.loss(X), h, "scores")
    assert_close(loss, loss_t, "loss")
    assert set(grads) == set(net.params)
    for key, leaf in leaves.items():
        assert_close(grads[key], leaf.grad, f"grads[{key}]")


def test_numerical_grad_matches_autograd(ch02):
    rng = np.random.default_rng(800)
    x = rng.normal(size=(3, 4))
    tx = t(x)
    (torch.sin(tx) * tx**2).sum().backward()
    grad = ch02["numerical_grad"](lambda v: float(np.sum(np.sin(v) * v**2)), x.copy())
    assert_close(grad, tx.grad, "numerical_grad", tol=1e-9)


def test_confusion_matrix_matches_a_bincount(ch02):
    rng = np.random.default_rng(900)
    y_true, y_pred = rng.integers(0, 10, size=300), rng.integers(0, 10, size=300)
    expected = np.bincount(10 * y_true + y_pred, minlength=100).reshape(10, 10)
    np.testing.assert_array_equal(ch02["confusion_matrix"](y_true, y_pred, 10), expected)


def test_sgd_step_is_a_gradient_step(ch02):
    """One epoch with one full batch equals one step params - lr * grads (grads from autograd)."""
    rng = np.random.default_rng(1000)
    X, y = rng.normal(size=(17, 4)), rng.integers(0, 3, size=17)
    net = ch02["MLP"]([4, 5, 3], activation="tanh", seed=2)
    leaves = {key: t(value) for key, value in net.params.items()}
    h = torch.tanh(t(X, grad=False) @ leaves["W1"] + leaves["b1"]) @ leaves["W2"] + leaves["b2"]
    F.cross_entropy(h, torch.tensor(y)).backward()
    ch02["sgd_train"](net, X, y, X, y, lr=0.3, num_epochs=1, batch_size=17, seed=0)
    for key, leaf in leaves.items():
        assert_close(
            net.params[key], leaf.detach() - 0.3 * leaf.grad, f"params[{key}] after one step"
        )
