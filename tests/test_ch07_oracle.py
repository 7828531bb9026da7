"""Chapter 07's solution against independent oracles, on shapes the notebook does not use.

The notebook checks its answers against PyTorch; here the same functions, taken from the
solution source itself, are checked the other way round as well: the two networks written
as ``nn.Module``s against the same computation with chapters 02 and 04's NumPy layers
(``backproplab.layers``, ``backproplab.conv_naive``), the training step against a step of
chapter 02's backward pass done by hand, and the checkpoint functions by a resumed run.
(Chapter 08 receives three of these answers as ``backproplab.torch_training``, generated from
these very cells: ``tests/test_provided.py``.)
"""

import numpy as np
import pytest

from autograder.submissions import solution_namespace
from backproplab import conv_naive, layers
from tests.oracle import assert_close

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn

ASSIGNMENT = "07_pytorch"
SETUP = "ch07_setup"
TIGHT = 1e-10


@pytest.fixture(scope="module")
def ch06():
    """The namespace of the setup cell and every answer cell, run with ``exec``."""
    return solution_namespace(ASSIGNMENT, SETUP)


@pytest.mark.parametrize("N, D, M", [(3, 8, 5), (1, 1, 1), (6, 4, 4)])
def test_linear_from_ours_is_affine_forward_and_backward(ch06, N, D, M):
    rng = np.random.default_rng(N + 10 * D + 100 * M)
    X, W, b, dout = (
        rng.normal(size=(N, D)),
        rng.normal(size=(D, M)),
        rng.normal(size=M),
        rng.normal(size=(N, M)),
    )
    layer = ch06["linear_from_ours"](W, b)
    tX = torch.tensor(X, requires_grad=True)
    out = layer(tX)
    out.backward(torch.as_tensor(dout))
    assert_close(out.detach().numpy(), layers.affine_forward(X, W, b)[0], "out", tol=TIGHT)
    dX, dW, db = layers.affine_backward(dout, (X, W))
    assert_close(tX.grad.numpy(), dX, "dX", tol=TIGHT)
    assert_close(layer.weight.grad.numpy().T, dW, "dW", tol=TIGHT)
    assert_close(layer.bias.grad.numpy(), db, "db", tol=TIGHT)


def test_copies_keep_the_dtype_and_do_not_share_memory(ch06):
    W, b = np.ones((3, 2), dtype=np.float32), np.zeros(2, dtype=np.float32)
    layer = ch06["linear_from_ours"](W, b)
    assert layer.weight.dtype == torch.float32
    W[0, 0] = 5.0  # changing our array afterwards must not change the layer
    assert layer.weight[0, 0].item() == 1.0
    conv = ch06["conv2d_from_ours"](np.ones((2, 1, 3, 1)), np.zeros(2), stride=2, pad=1)
    assert conv.weight.dtype == torch.float64 and conv.stride == (2, 2) and conv.padding == (1, 1)
    assert conv.kernel_size == (3, 1)


@pytest.mark.parametrize(
    "x_shape, w_shape, stride, pad",
    [
        ((2, 3, 10, 7), (4, 3, 2, 3), 2, 1),
        ((1, 1, 5, 5), (1, 1, 5, 5), 1, 0),
        ((3, 2, 6, 9), (2, 2, 1, 1), 3, 2),
    ],
)
def test_conv2d_from_ours_is_conv_naive(ch06, x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(sum(x_shape) + stride)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    layer = ch06["conv2d_from_ours"](w, b, stride=stride, pad=pad)
    tx = torch.tensor(x, requires_grad=True)
    out = layer(tx)
    want, cache = conv_naive.conv_forward_naive(x, w, b, stride, pad)
    assert_close(out.detach().numpy(), want, "out", tol=TIGHT)
    dout = rng.normal(size=want.shape)
    out.backward(torch.as_tensor(dout))
    for name, got, ref in zip(
        ("dx", "dw", "db"),
        (tx.grad, layer.weight.grad, layer.bias.grad),
        conv_naive.conv_backward_naive(dout, cache),
        strict=True,
    ):
        assert_close(got.numpy(), ref, name, tol=TIGHT)


def test_torch_vjp_against_the_provided_backward_passes(ch06):
    rng = np.random.default_rng(3)
    x, dout = rng.normal(size=(4, 2, 6, 6)), rng.normal(size=(4, 2, 3, 3))
    _, cache = conv_naive.max_pool_forward_naive(x, 2, 2)
    (dx,) = ch06["torch_vjp"](lambda t: F.max_pool2d(t, 2, 2), [x], dout)
    assert_close(dx, conv_naive.max_pool_backward_naive(dout, cache), "max pool dx", tol=TIGHT)
    scores, y = rng.normal(size=(9, 5)), rng.integers(0, 5, size=9)
    (dscores,) = ch06["torch_vjp"](
        lambda s: F.cross_entropy(s, torch.as_tensor(y), reduction="sum"), [scores], 1.0
    )
    assert_close(
        dscores,
        9 * layers.softmax_loss(scores, y)[1],
        "a summed loss has N times the mean's gradient",
        tol=TIGHT,
    )


def _numpy_table_3_2(model, X):
    """Table 3.2's forward pass (eval mode) with the course's NumPy layers and the module's weights."""
    p = {name: value.detach().double().numpy() for name, value in model.state_dict().items()}
    out = conv_naive.conv_forward_naive(X, p["conv1.weight"], p["conv1.bias"], 1, 2)[0]
    out = conv_naive.max_pool_forward_naive(layers.relu_forward(out)[0], 2, 2)[0]
    out = conv_naive.conv_forward_naive(out, p["conv2.weight"], p["conv2.bias"], 1, 2)[0]
    out = conv_naive.max_pool_forward_naive(layers.relu_forward(out)[0], 2, 2)[0].reshape(
        len(X), -1
    )
    out = layers.relu_forward(layers.affine_forward(out, p["fc1.weight"].T, p["fc1.bias"])[0])[0]
    return layers.affine_forward(out, p["fc2.weight"].T, p["fc2.bias"])[0]


def test_table_3_2_module_against_our_numpy_layers(ch06):
    torch.manual_seed(1)
    model = ch06["Table32Net"](keep_prob=0.5).double().eval()
    assert sum(p.numel() for p in model.parameters()) == 3_274_634
    X = np.random.default_rng(2).normal(size=(2, 1, 28, 28))
    with torch.no_grad():
        scores = model(torch.as_tensor(X)).numpy()
    assert_close(scores, _numpy_table_3_2(model, X), "Table 3.2 scores", tol=1e-9)


def test_seed003_module_shapes_and_batch_norm_modes(ch06):
    torch.manual_seed(4)
    model = ch06["Seed003Net"]().double()
    assert sum(p.numel() for p in model.parameters()) == 954_002
    assert sum(b.numel() for name, b in model.named_buffers() if "running" in name) == 2 * (8 + 32)
    X = torch.randn(5, 1, 28, 28, dtype=torch.float64)
    model.train()(X)
    assert model.batch_norm1.running_mean.abs().sum() > 0, (
        "a train-mode batch updates the running statistics"
    )
    before = model.batch_norm2.running_var.clone()
    with torch.no_grad():
        model.eval()(X)
    assert torch.equal(model.batch_norm2.running_var, before), "eval mode leaves them alone"
    # seed 003's text: padding 1 gives 32 * 6 * 6 = 1152 inputs, not 1568
    with pytest.raises(RuntimeError):
        bad = ch06["Seed003Net"]()
        bad.cnn2 = nn.Conv2d(8, 32, 5, padding=1)
        bad(torch.randn(2, 1, 28, 28))


def test_train_step_is_one_sgd_step_of_chapter_02s_backprop(ch06):
    """A two-layer network: train_step with SGD against affine/ReLU forward and backward by hand."""
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(7, 4)), rng.integers(0, 3, size=7)
    W1, b1, W2, b2 = (
        rng.normal(size=(4, 6)),
        rng.normal(size=6),
        rng.normal(size=(6, 3)),
        rng.normal(size=3),
    )
    model = nn.Sequential(
        ch06["linear_from_ours"](W1, b1), nn.ReLU(), ch06["linear_from_ours"](W2, b2)
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    loss = ch06["train_step"](
        model, torch.as_tensor(X), torch.as_tensor(y), optimizer, nn.CrossEntropyLoss()
    )
    h, h_cache = layers.affine_forward(X, W1, b1)
    a, a_cache = layers.relu_forward(h)
    scores, s_cache = layers.affine_forward(a, W2, b2)
    ref_loss, dscores = layers.softmax_loss(scores, y)
    da, dW2, db2 = layers.affine_backward(dscores, s_cache)
    _, dW1, db1 = layers.affine_backward(layers.relu_backward(da, a_cache), h_cache)
    assert loss == pytest.approx(ref_loss, rel=1e-12)
    for got, ours in zip(
        (model[0].weight.T, model[0].bias, model[2].weight.T, model[2].bias),
        (W1 - 0.5 * dW1, b1 - 0.5 * db1, W2 - 0.5 * dW2, b2 - 0.5 * db2),
        strict=True,
    ):
        assert_close(got.detach().numpy(), ours, "parameter after one SGD step", tol=TIGHT)


def test_topk_accuracy_against_a_sort(ch06):
    gen = torch.Generator().manual_seed(6)
    logits, y = torch.randn(200, 10, generator=gen), torch.randint(0, 10, (200,), generator=gen)
    rank = (np.argsort(-logits.numpy(), axis=1) == y.numpy()[:, None]).argmax(axis=1)
    got = ch06["topk_accuracy"](logits, y, ks=(1, 2, 5, 10))
    # a float32 mean, as in torch_training
    assert got == pytest.approx([np.mean(rank < k) for k in (1, 2, 5, 10)], abs=1e-7)
    assert all(isinstance(a, float) for a in got)


def test_checkpoint_resume_repeats_the_run(ch06, tmp_path):
    def make(seed):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Linear(3, 5), nn.BatchNorm1d(5), nn.ReLU(), nn.Dropout(0.2), nn.Linear(5, 2)
        ).double()
        return model, torch.optim.AdamW(model.parameters(), lr=0.03, weight_decay=0.1)

    gen = torch.Generator().manual_seed(7)
    batches = [
        (
            torch.randn(8, 3, generator=gen, dtype=torch.float64),
            torch.randint(0, 2, (8,), generator=gen),
        )
        for _ in range(6)
    ]

    def run(model, optimizer, part):
        for k, (X, y) in enumerate(part):
            torch.manual_seed(k)
            ch06["train_step"](model, X, y, optimizer, nn.CrossEntropyLoss())

    model_a, opt_a = make(0)
    run(model_a, opt_a, batches[:3])
    ch06["save_checkpoint"](tmp_path / "a.pt", model_a, opt_a, 3)
    run(model_a, opt_a, batches[3:])
    model_b, opt_b = make(1)
    assert ch06["load_checkpoint"](tmp_path / "a.pt", model_b, opt_b) == 3
    run(model_b, opt_b, batches[3:])
    for (name, a), b in zip(
        model_a.state_dict().items(), model_b.state_dict().values(), strict=True
    ):
        assert torch.equal(a, b), name
