"""Chapter 05's solution against an independent oracle: PyTorch.

The notebook checks its fast layers against chapter 04's loops and centred
differences; here the same functions, taken from the solution source itself,
are compared with ``torch.nn.functional.unfold / fold / conv2d / max_pool2d``
and ``torch.autograd`` in float64, on shapes the notebook does not use
(relative error, :func:`backproplab.gradcheck.rel_error`, below 1e-9 for the
layers), and Table 3.2's network and its AdamW step with the same network built
from ``torch.nn`` modules and ``torch.optim.AdamW``.
"""

import numpy as np
import pytest

from autograder.submissions import solution_namespace
from backproplab import conv_naive
from tests.oracle import assert_close, t, torch_table_3_2

torch = pytest.importorskip("torch")
F = torch.nn.functional

ASSIGNMENT = "05_im2col_gpu"
SETUP = "ch05_setup"
TIGHT = 1e-9  # fast against naive or torch, float64

# (x shape, w shape, stride, pad): shapes the notebook does not use
CONV_CASES = [
    ((3, 2, 9, 11), (5, 2, 3, 3), 2, 1),
    ((1, 4, 6, 6), (2, 4, 5, 5), 1, 2),
    ((2, 1, 10, 7), (3, 1, 4, 4), 3, 0),
    ((2, 3, 5, 5), (4, 3, 1, 1), 2, 0),
    ((4, 2, 13, 8), (3, 2, 2, 2), 2, 2),
]
POOL_CASES = [
    ((2, 3, 9, 11), 2, 2),
    ((3, 2, 8, 10), 3, 2),
    ((2, 2, 11, 7), 2, 3),
    ((1, 3, 6, 9), 3, 1),
    ((2, 1, 5, 4), 1, 1),
]


@pytest.fixture(scope="module")
def ch05():
    """The namespace of the setup cell and every answer cell, run with ``exec``."""
    return solution_namespace(ASSIGNMENT, SETUP)


def _case(x_shape, w_shape, seed):
    rng = np.random.default_rng(seed)
    return rng, rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_im2col_and_col2im_are_torch_unfold_and_fold(ch05, x_shape, w_shape, stride, pad):
    """cols = unfold with the images moved into the columns; col2im (both) = fold, its adjoint."""
    rng, x, _, _ = _case(x_shape, w_shape, sum(x_shape) + stride)
    K = w_shape[2]
    unfolded = F.unfold(t(x, grad=False), K, padding=pad, stride=stride)  # (N, C K K, L)
    cols = ch05["im2col"](x, K, stride, pad)
    assert_close(cols, unfolded.permute(1, 0, 2).reshape(cols.shape[0], -1), "im2col", tol=TIGHT)
    Y = rng.normal(size=cols.shape)
    folded = F.fold(
        t(Y, grad=False).reshape(Y.shape[0], x_shape[0], -1).permute(1, 0, 2),
        x_shape[2:],
        K,
        padding=pad,
        stride=stride,
    )
    assert_close(ch05["col2im"](Y, x_shape, K, stride, pad), folded, "col2im", tol=TIGHT)
    assert_close(
        ch05["col2im_add_at"](Y, x_shape, K, stride, pad), folded, "col2im_add_at", tol=TIGHT
    )


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_layer_against_torch(ch05, x_shape, w_shape, stride, pad):
    rng, x, w, b = _case(x_shape, w_shape, 10 * sum(x_shape) + pad)
    tx, tw, tb = t(x), t(w), t(b)
    out_t = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    dout = rng.normal(size=tuple(out_t.shape))
    (out_t * t(dout, grad=False)).sum().backward()
    out, cache = ch05["conv_forward_im2col"](x, w, b, stride, pad)
    assert_close(out, out_t, "conv out", tol=TIGHT)
    dx, dw, db = ch05["conv_backward_im2col"](dout, cache)
    assert_close(dx, tx.grad, "conv dx", tol=TIGHT)
    assert_close(dw, tw.grad, "conv dw", tol=TIGHT)
    assert_close(db, tb.grad, "conv db", tol=TIGHT)


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_fast_conv_matches_the_naive_loops(ch05, x_shape, w_shape, stride, pad):
    rng, x, w, b = _case(x_shape, w_shape, 20 * sum(x_shape) + stride)
    out, cache = ch05["conv_forward_im2col"](x, w, b, stride, pad)
    out_naive, cache_naive = conv_naive.conv_forward_naive(x, w, b, stride, pad)
    assert_close(out, out_naive, "out", tol=TIGHT)
    dout = rng.normal(size=out.shape)
    for name, fast, naive in zip(
        ("dx", "dw", "db"),
        ch05["conv_backward_im2col"](dout, cache),
        conv_naive.conv_backward_naive(dout, cache_naive),
        strict=True,
    ):
        assert_close(fast, naive, name, tol=TIGHT)


def test_window_view_is_a_read_of_the_same_memory(ch05):
    x = np.random.default_rng(0).normal(size=(2, 3, 9, 8))[:, :, ::-1]  # negative strides
    view = ch05["window_view"](x, 3, 2)
    expected = np.lib.stride_tricks.sliding_window_view(x, (3, 3), axis=(2, 3))[
        :, :, ::2, ::2
    ].transpose(0, 1, 4, 5, 2, 3)
    np.testing.assert_array_equal(view, expected)
    assert np.shares_memory(view, x)


def test_offsets_and_strides_against_numpy(ch05):
    for shape in ((5,), (3, 4), (2, 3, 5, 6), (2, 1, 3, 1, 2)):
        for index in np.ndindex(*shape):
            assert ch05["row_major_offset"](index, shape) == np.ravel_multi_index(index, shape)
        for dtype in (np.int16, np.float32, np.complex128):
            assert (
                ch05["row_major_strides"](shape, np.dtype(dtype).itemsize)
                == np.empty(shape, dtype=dtype).strides
            )


@pytest.mark.parametrize("x_shape, size, stride", POOL_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_against_torch(ch05, x_shape, size, stride, ties):
    """Forward and backward; integer images tie often, and torch's CPU kernel sends the gradient to the first maximum."""
    rng = np.random.default_rng(sum(x_shape) + size + 7 * stride + ties)
    x = rng.integers(0, 3, size=x_shape).astype(np.float64) if ties else rng.normal(size=x_shape)
    tx = t(x)
    out_t = F.max_pool2d(tx, kernel_size=size, stride=stride)
    dout = rng.normal(size=tuple(out_t.shape))
    (out_t * t(dout, grad=False)).sum().backward()
    out, cache = ch05["max_pool_forward_fast"](x, size, stride)
    assert_close(out, out_t, "max pool out", tol=TIGHT)
    assert_close(ch05["max_pool_backward_fast"](dout, cache), tx.grad, "max pool dx", tol=TIGHT)


def test_table_3_2_network_against_torch_modules(ch05):
    """Scores, loss and every gradient of Table 3.2's network, float64, eval mode."""
    net = ch05["table_3_2_network"](seed=3, dtype=np.float64)
    assert net.num_params() == 3274634
    model, pairs = torch_table_3_2(net)
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(3, 1, 28, 28)), rng.integers(0, 10, size=3)
    scores_t = model(t(X, grad=False))
    loss_t = F.cross_entropy(scores_t, torch.tensor(y))
    loss_t.backward()
    scores = net.forward(X, train=False)
    loss, dscores = ch05["softmax_loss"](scores, y)
    net.backward(dscores)
    assert_close(scores, scores_t, "scores", tol=TIGHT)
    assert_close(loss, loss_t, "loss", tol=TIGHT)
    for ours, theirs in pairs:
        dW = ours.grads["W"]
        assert_close(dW if dW.ndim == 4 else dW.T, theirs.weight.grad, f"{ours!r} dW", tol=1e-8)
        assert_close(ours.grads["b"], theirs.bias.grad, f"{ours!r} db", tol=1e-8)


def assert_three_steps_are_torch_adamw(net, train_step, batch):
    """Three steps of train_step on net against torch.optim.AdamW (weights decayed by 0.05, biases not), float64."""
    model, pairs = torch_table_3_2(net)
    opt = torch.optim.AdamW(
        [
            {"params": [m.weight for _, m in pairs], "weight_decay": 0.05},
            {"params": [m.bias for _, m in pairs], "weight_decay": 0.0},
        ],
        lr=1e-3,
    )
    rng = np.random.default_rng(6)
    X, y = rng.normal(size=(batch, 1, 28, 28)), rng.integers(0, 10, size=batch)
    configs = {}
    for step in range(3):
        loss, _ = train_step(net, X, y, configs, lr=1e-3, weight_decay=0.05)
        opt.zero_grad()
        loss_t = F.cross_entropy(model(t(X, grad=False)), torch.tensor(y))
        loss_t.backward()
        opt.step()
        assert_close(loss, loss_t, f"loss at step {step + 1}", tol=1e-8)
    for ours, theirs in pairs:
        W = ours.params["W"]
        assert_close(
            W if W.ndim == 4 else W.T, theirs.weight, f"{ours!r} W after 3 steps", tol=1e-6
        )
        assert_close(ours.params["b"], theirs.bias, f"{ours!r} b after 3 steps", tol=1e-6)


def test_train_step_is_torch_adamw_with_decay_on_weights_only(ch05):
    """Three train_step calls against torch.optim.AdamW (weights decayed, biases not), no dropout (keep 1)."""
    net = ch05["table_3_2_network"](seed=5, keep_prob=1.0, dtype=np.float64)
    assert_three_steps_are_torch_adamw(net, ch05["train_step"], batch=4)


def test_evaluate_and_shape_errors(ch05):
    net = ch05["table_3_2_network"](seed=0, dtype=np.float64)
    model, _ = torch_table_3_2(net)
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(7, 1, 28, 28)), rng.integers(0, 10, size=7)
    loss, acc, y_pred = ch05["evaluate"](net, X, y, batch_size=3)
    scores_t = model(t(X, grad=False))
    assert loss == pytest.approx(F.cross_entropy(scores_t, torch.tensor(y)).item(), rel=1e-9)
    np.testing.assert_array_equal(y_pred, scores_t.argmax(dim=1).numpy())
    assert acc == pytest.approx(np.mean(y_pred == y))
    with pytest.raises(ValueError, match=r"layer 2, .*MaxPool2D.*\(2, 3, 3\)"):
        ch05["Network"]((1, 5, 5), [ch05["Conv2D"](2, 3), ch05["ReLU"](), ch05["MaxPool2D"](4, 2)])


# --- the provided fast path (cell ch05_fast_path) -----------------------------------------

FAST_PATH = "ch05_fast_path"
# (input shape, batch): batches that the cores do not divide evenly, and a batch of one
FAST_BATCHES = [1, 3, 7]


@pytest.fixture(scope="module")
def fast():
    """The solution's namespace with the provided fast path cell run after it."""
    return solution_namespace(ASSIGNMENT, SETUP, provided_cells=(FAST_PATH,))


def _both_passes(layer, x, dout):
    out = layer.forward(x, True)
    return out, layer.backward(dout), dict(layer.grads)


@pytest.mark.parametrize("batch", FAST_BATCHES)
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_fast_conv_against_torch(fast, x_shape, w_shape, stride, pad, batch):
    """FastConv2D: out, dx, dW and db of conv2d and autograd, float64, at batches 1, 3 and 7."""
    rng, x, w, b = _case((batch, *x_shape[1:]), w_shape, seed=batch)
    layer = fast["FastConv2D"](w_shape[0], w_shape[2], stride, pad)
    layer.params = {"W": w, "b": b}
    tx, tw, tb = t(x), t(w), t(b)
    out_t = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    dout = rng.normal(size=out_t.shape)
    out_t.backward(t(dout, grad=False))
    out, dx, grads = _both_passes(layer, x, dout)
    assert_close(out, out_t, "fast conv out", tol=TIGHT)
    assert_close(dx, tx.grad, "fast conv dx", tol=TIGHT)
    assert_close(grads["W"], tw.grad, "fast conv dW", tol=TIGHT)
    assert_close(grads["b"], tb.grad, "fast conv db", tol=TIGHT)


def test_fast_layers_agree_with_the_students_layers(fast):
    """FastMaxPool2D, FastReLU and FastDense give the student's layers' outputs and gradients."""
    rng = np.random.default_rng(11)
    for yours, quick, shape in (
        (fast["MaxPool2D"](2, 2), fast["FastMaxPool2D"](2, 2), (5, 3, 9, 8)),
        (fast["ReLU"](), fast["FastReLU"](), (5, 3, 4, 4)),
        (fast["Dense"](6), fast["FastDense"](6), (5, 7)),
    ):
        output_shape = yours.build(shape[1:], rng)
        quick.params = yours.params
        x, dout = rng.normal(size=shape), rng.normal(size=(shape[0], *output_shape))
        want, got = _both_passes(yours, x, dout), _both_passes(quick, x, dout)
        for name, a, b in [("out", got[0], want[0]), ("dx", got[1], want[1])] + [
            (key, got[2][key], want[2][key]) for key in want[2]
        ]:
            assert_close(a, b, f"{quick!r} {name}", tol=TIGHT)


def test_fast_train_step_is_torch_adamw(fast):
    """fast_path + fast_train_step: three steps against torch.optim.AdamW, float64, no dropout."""
    net = fast["fast_path"](fast["table_3_2_network"](seed=5, keep_prob=1.0, dtype=np.float64))
    assert net.layers[0].input_gradient is False
    assert_three_steps_are_torch_adamw(net, fast["fast_train_step"], batch=5)


def test_adamw_in_place_is_adamw_on_every_number(fast, monkeypatch):
    """adamw_in_place in 3 slices of 3 * 2^18 + 5 numbers (runs that end inside a slice) equals adamw, float32."""
    monkeypatch.setitem(fast, "cores", lambda: 3)
    rng = np.random.default_rng(12)
    w = rng.normal(size=3 * 2**18 + 5).astype(np.float32)
    want, config = w.copy(), {"lr": 1e-2, "weight_decay": 0.1}
    got, config_fast = w.copy(), {"lr": 1e-2, "weight_decay": 0.1}
    for _ in range(3):
        dw = rng.normal(size=w.shape).astype(np.float32)
        want, config = fast["adamw"](want, dw, config)
        fast["adamw_in_place"](got, dw, config_fast)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert config_fast["t"] == 3
