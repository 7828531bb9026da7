"""The batch-norm variant of Table 3.2's network that benchmarks/train_fashion_mnist.py trains."""

import sys

import numpy as np
import pytest

from autograder.course import REPO
from tests.oracle import assert_close, t, torch_table_3_2

torch = pytest.importorskip("torch")
F = torch.nn.functional


@pytest.fixture(scope="module")
def chapter05():
    """benchmarks/chapter05.py, imported as the benchmark scripts import it."""
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import chapter05
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    return chapter05


def test_loss_and_every_gradient_are_torch_batchnorm2d(chapter05):
    """Train mode, float64, no dropout: the loss and every parameter's gradient match torch.nn."""
    net = chapter05.table_3_2_batchnorm_network(seed=2, keep_prob=1.0, dtype=np.float64)
    model, pairs = torch_table_3_2(net, batchnorm=True)
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(4, 1, 28, 28)), rng.integers(0, 10, size=4)
    ns = chapter05.solution()
    loss, dscores = ns["softmax_loss"](net.forward(X, train=True), y)
    net.backward(dscores)
    loss_t = F.cross_entropy(model.train()(t(X, grad=False)), torch.tensor(y))
    loss_t.backward()
    assert_close(loss, loss_t, "loss", tol=1e-10)
    for layer, module in pairs:
        for name, param in zip(layer.params, (module.weight, module.bias)):
            _assert_gradient(layer, name, param, ns["Conv2D"])


def _assert_gradient(layer, name, param, Conv2D):
    """Our layer's gradient of ``name`` against the torch parameter's ``.grad``."""
    grad = layer.grads[name]
    if isinstance(layer, Conv2D) and name == "b":
        # batch norm subtracts each channel's mean, bias and all: the gradient is zero, up to rounding
        assert np.abs(grad).max() < 1e-12 and param.grad.abs().max() < 1e-12, layer
    else:
        assert_close(grad.T if grad.ndim == 2 else grad, param.grad, f"{layer!r} d{name}", tol=1e-8)


def test_dense_layers_start_at_pytorchs_scale_and_convolutions_at_hes(chapter05):
    """Dense W and b uniform in +-1/sqrt(D) (std 1/sqrt(3D)); conv W keeps He's std sqrt(2/fan_in)."""
    net = chapter05.table_3_2_batchnorm_network(seed=0)
    ns = chapter05.solution()
    for layer in net.layers:
        if isinstance(layer, ns["Dense"]):
            D = layer.params["W"].shape[0]
            for value in layer.params.values():
                assert np.abs(value).max() <= 1 / np.sqrt(D)
            assert layer.params["W"].std() == pytest.approx(1 / np.sqrt(3 * D), rel=0.05)
        elif isinstance(layer, ns["Conv2D"]):
            fan_in = np.prod(layer.params["W"].shape[1:])
            assert layer.params["W"].std() == pytest.approx(np.sqrt(2 / fan_in), rel=0.1)
