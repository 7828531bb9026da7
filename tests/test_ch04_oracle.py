"""Chapter 04's solution against an independent oracle: PyTorch.

The notebook checks its layers against centred differences and SciPy; here the
same functions, taken from the solution source itself, are compared with
``torch.nn.functional.conv1d / conv2d / max_pool2d / avg_pool2d``, ``torch.nn.BatchNorm2d``,
``GroupNorm`` and ``LayerNorm``, and
``torch.autograd`` on random float64 inputs (relative error,
:func:`backproplab.gradcheck.rel_error`, below 1e-7), and the layer table with
the parameter counts and output shapes of the same networks built from
``torch.nn`` modules (on the meta device: no memory is allocated).
"""

import numpy as np
import pytest

from autograder.submissions import solution_namespace
from tests.oracle import assert_close, t

torch = pytest.importorskip("torch")
F = torch.nn.functional
nn = torch.nn

ASSIGNMENT = "04_convolution"
SETUP = "ch04_setup"
SOLUTION_CELLS = (
    "ch04_conv1d",
    "ch04_conv2d",
    "ch04_output_size",
    "ch04_conv_forward",
    "ch04_conv_backward",
    "ch04_rot180",
    "ch04_max_pool",
    "ch04_avg_pool",
    "ch04_layer_table",
    "ch04_fc_vs_conv",
    "ch04_spatial_batchnorm",
    "ch04_groupnorm",
)

# (x shape, w shape, stride, pad): non-square inputs, odd/even/non-square kernels, strides 1-3, padding 0-2
CONV_CASES = [
    ((2, 3, 7, 5), (4, 3, 3, 2), 2, 1),
    ((3, 2, 8, 6), (3, 2, 4, 3), 3, 2),
    ((2, 2, 5, 6), (3, 2, 5, 3), 1, 0),
    ((1, 1, 6, 9), (2, 1, 2, 2), 2, 0),
    ((2, 3, 9, 7), (2, 3, 3, 3), 1, 2),
]
# (x shape, pool size, stride): no overlap, overlap, gaps, stride 3, sides that do not divide
POOL_CASES = [
    ((2, 3, 7, 5), 2, 2),
    ((2, 2, 7, 8), 3, 2),
    ((3, 2, 8, 7), 2, 3),
    ((2, 2, 9, 6), 3, 3),
    ((1, 2, 4, 6), 2, 1),
]


@pytest.fixture(scope="module")
def ch04():
    """The namespace of the setup cell and the solution cells, run with ``exec``."""
    return solution_namespace(ASSIGNMENT, SETUP, SOLUTION_CELLS)


def test_every_solution_cell_is_extracted(ch04):
    for name in (
        "conv1d",
        "xcorr1d",
        "conv2d",
        "xcorr2d",
        "conv_output_size",
        "pool_output_size",
        "conv_forward_naive",
        "conv_backward_naive",
        "rot180",
        "conv_backward_dx_rot180",
        "max_pool_forward_naive",
        "max_pool_backward_naive",
        "avg_pool_forward_naive",
        "avg_pool_backward_naive",
        "layer_table",
        "fc_vs_conv_sizes",
        "spatial_batchnorm_forward",
        "spatial_batchnorm_backward",
        "groupnorm_forward",
        "groupnorm_backward",
    ):
        assert callable(ch04[name]), name


@pytest.mark.parametrize("n, k", [(9, 4), (6, 3), (5, 5), (7, 1)])
def test_1d_against_torch_conv1d(ch04, n, k):
    """torch's conv1d is a cross-correlation; with the kernel flipped and full padding it is eq. (1)."""
    rng = np.random.default_rng(n * 10 + k)
    x, ker = rng.normal(size=n), rng.normal(size=k)
    tx, tk = t(x, grad=False)[None, None], t(ker, grad=False)[None, None]
    assert_close(ch04["xcorr1d"](x, ker), F.conv1d(tx, tk)[0, 0], "xcorr1d")
    assert_close(
        ch04["conv1d"](x, ker),
        F.conv1d(tx, torch.flip(tk, dims=(2,)), padding=k - 1)[0, 0],
        "conv1d",
    )


@pytest.mark.parametrize(
    "image_shape, kernel_shape, pad",
    [((5, 7), (3, 2), 0), ((6, 4), (2, 2), 1), ((4, 5), (3, 3), 2)],
)
def test_2d_against_torch_conv2d(ch04, image_shape, kernel_shape, pad):
    rng = np.random.default_rng(sum(image_shape) + pad)
    img, ker = rng.normal(size=image_shape), rng.normal(size=kernel_shape)
    ti, tk = t(img, grad=False)[None, None], t(ker, grad=False)[None, None]
    assert_close(ch04["xcorr2d"](img, ker, pad=pad), F.conv2d(ti, tk, padding=pad)[0, 0], "xcorr2d")
    full = F.conv2d(
        ti, torch.flip(tk, dims=(2, 3)), padding=(kernel_shape[0] - 1, kernel_shape[1] - 1)
    )
    assert_close(ch04["conv2d"](img, ker), full[0, 0], "conv2d")


def test_worked_example_of_seed_003(ch04):
    out = F.conv2d(
        t(np.arange(9.0).reshape(1, 1, 3, 3), grad=False),
        t([[[[0.0, 1.0], [2.0, 3.0]]]], grad=False),
        padding=1,
    )
    np.testing.assert_array_equal(
        out[0, 0].numpy(), [[0, 3, 8, 4], [9, 19, 25, 10], [21, 37, 43, 16], [6, 7, 8, 0]]
    )
    np.testing.assert_array_equal(
        ch04["xcorr2d"](np.arange(9.0).reshape(3, 3), [[0.0, 1.0], [2.0, 3.0]], pad=1),
        out[0, 0].numpy(),
    )


@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_layer_against_torch(ch04, x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(sum(x_shape) + 10 * stride + pad)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    tx, tw, tb = t(x), t(w), t(b)
    out_t = F.conv2d(tx, tw, tb, stride=stride, padding=pad)
    dout = rng.normal(size=tuple(out_t.shape))
    (out_t * t(dout, grad=False)).sum().backward()
    out, cache = ch04["conv_forward_naive"](x, w, b, stride, pad)
    assert_close(out, out_t, "conv out")
    for size, axis in ((out.shape[2], 2), (out.shape[3], 3)):
        assert ch04["conv_output_size"](x_shape[axis], w_shape[axis], stride, pad) == size
    dx, dw, db = ch04["conv_backward_naive"](dout, cache)
    assert_close(dx, tx.grad, "conv dx")
    assert_close(dw, tw.grad, "conv dw")
    assert_close(db, tb.grad, "conv db")
    assert_close(
        ch04["conv_backward_dx_rot180"](dout, w, x_shape, stride, pad),
        tx.grad,
        "dx by ROT180, eq. (13)",
    )


def test_rot180_is_torch_rot90_twice(ch04):
    w = np.random.default_rng(1).normal(size=(2, 3, 2, 4))
    assert_close(ch04["rot180"](w), torch.rot90(t(w, grad=False), 2, dims=(2, 3)), "rot180")


@pytest.mark.parametrize("x_shape, size, stride", POOL_CASES)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_against_torch(ch04, x_shape, size, stride, kind):
    rng = np.random.default_rng(sum(x_shape) + size + stride)
    x = rng.normal(size=x_shape)
    tx = t(x)
    torch_pool = F.max_pool2d if kind == "max" else F.avg_pool2d
    out_t = torch_pool(tx, kernel_size=size, stride=stride)
    dout = rng.normal(size=tuple(out_t.shape))
    (out_t * t(dout, grad=False)).sum().backward()
    out, cache = ch04[f"{kind}_pool_forward_naive"](x, size, stride)
    assert_close(out, out_t, f"{kind} pool out")
    assert ch04["pool_output_size"](x_shape[2], size, stride) == out.shape[2]
    assert_close(ch04[f"{kind}_pool_backward_naive"](dout, cache), tx.grad, f"{kind} pool dx")


def test_max_pool_ties_go_to_the_first_maximum_as_in_torch(ch04):
    """Integer images with many ties (and all-equal windows): the same gradient as PyTorch's CPU kernel."""
    rng = np.random.default_rng(7)
    x = rng.integers(0, 3, size=(2, 3, 6, 7)).astype(np.float64)
    x[0, 0] = 1.0  # every window a tie
    for size, stride in ((2, 2), (3, 1), (2, 3)):
        tx = t(x)
        out_t = F.max_pool2d(tx, kernel_size=size, stride=stride)
        dout = rng.normal(size=tuple(out_t.shape))
        (out_t * t(dout, grad=False)).sum().backward()
        _, cache = ch04["max_pool_forward_naive"](x, size, stride)
        assert_close(
            ch04["max_pool_backward_naive"](dout, cache),
            tx.grad,
            f"max pool dx with ties ({size}, {stride})",
        )


def _torch_net(input_shape, spec):
    """The same network from torch.nn modules."""
    layers, channels = [], input_shape[0]
    flat = False
    for layer in spec:
        kind = layer[0]
        if kind == "conv":
            _, filters, k, s, p = layer
            layers.append(nn.Conv2d(channels, filters, k, stride=s, padding=p))
            channels = filters
        elif kind == "pool":
            layers.append(nn.MaxPool2d(layer[1], stride=layer[2]))
        elif kind == "bn":
            layers.append(nn.BatchNorm2d(channels) if not flat else nn.BatchNorm1d(channels))
        elif kind == "fc":
            if not flat:
                layers.append(nn.Flatten())
                flat = True
            layers.append(nn.LazyLinear(layer[1]))
            channels = layer[1]
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "dropout":
            layers.append(nn.Dropout(layer[1]))
        elif kind == "softmax":
            layers.append(nn.Softmax(dim=1))
    return layers


BLOCK = [("relu",), ("pool", 2, 2)]
HEAD_A = [("fc", 1024), ("relu",), ("dropout", 0.5), ("fc", 10), ("softmax",)]
HEAD_B = [
    ("fc", 2048),
    ("relu",),
    ("dropout", 0.5),
    ("fc", 2048),
    ("relu",),
    ("dropout", 0.5),
    ("fc", 10),
    ("softmax",),
]
NETWORKS = {
    "table_3_2": (
        (1, 28, 28),
        [("conv", 32, 5, 1, 2)] + BLOCK + [("conv", 64, 5, 1, 2)] + BLOCK + HEAD_A,
    ),
    "table_3_3": (
        (3, 32, 32),
        [("conv", 32, 5, 1, 2)] + BLOCK + [("conv", 64, 5, 1, 2)] + BLOCK + HEAD_A,
    ),
    "table_3_4": (
        (3, 32, 32),
        [("conv", 96, 5, 1, 2)] + BLOCK + [("conv", 192, 5, 1, 2)] + BLOCK + HEAD_B,
    ),
    "table_3_5": (
        (3, 32, 32),
        [("conv", 96, 5, 1, 2), ("relu",), ("conv", 96, 5, 1, 2)]
        + BLOCK
        + [("conv", 192, 5, 1, 2), ("relu",), ("conv", 192, 5, 1, 2)]
        + BLOCK
        + HEAD_B,
    ),
    "seed_003": (
        (1, 28, 28),
        [
            ("conv", 8, 3, 1, 1),
            ("bn",),
            ("relu",),
            ("pool", 2, 2),
            ("conv", 32, 5, 1, 2),
            ("bn",),
            ("relu",),
            ("pool", 2, 2),
            ("fc", 600),
            ("relu",),
            ("fc", 10),
        ],
    ),
    "odd_sizes": (
        (2, 13, 9),
        [("conv", 4, 4, 3, 2), ("pool", 3, 2), ("bn",), ("fc", 7), ("bn",), ("fc", 3)],
    ),
}


@pytest.mark.parametrize("name", list(NETWORKS))
def test_layer_table_against_torch_modules(ch04, name):
    input_shape, spec = NETWORKS[name]
    rows = ch04["layer_table"](input_shape, spec)
    with torch.device("meta"):
        layers = _torch_net(input_shape, spec)
        x = torch.zeros((2,) + tuple(input_shape))
        shapes, counts = [], []
        for module in layers:
            x = module(x)
            if isinstance(module, nn.Flatten):
                continue
            shapes.append(tuple(x.shape[1:]))
            counts.append(sum(p.numel() for p in module.parameters()))
    assert [tuple(int(v) for v in r[0]) for r in rows] == shapes
    assert [int(r[1]) for r in rows] == counts


@pytest.mark.parametrize("W, H, I, J, K", [(32, 32, 3, 16, 3), (28, 20, 1, 8, 5), (7, 9, 12, 5, 3)])
def test_units_weights_connections_against_torch(ch04, W, H, I, J, K):
    sizes = ch04["fc_vs_conv_sizes"](W, H, I, J, K)
    with torch.device("meta"):
        conv, fc = (
            nn.Conv2d(I, J, K, padding=K // 2, bias=False),
            nn.Linear(W * H * I, W * H * J, bias=False),
        )
        out = conv(torch.zeros(1, I, H, W))
    assert (
        sizes["conv"]["weights"] == conv.weight.numel()
        and sizes["fc"]["weights"] == fc.weight.numel()
    )
    assert sizes["conv"]["units"] == sizes["fc"]["units"] == out.numel()
    # multiply-adds of the forward pass
    assert sizes["conv"]["connections"] == out.numel() * I * K * K
    assert sizes["fc"]["connections"] == fc.weight.numel()


# (x shape, G): layer norm (G = 1), groups, instance norm (G = C); one image; non-square
NORM_CASES = [((3, 4, 5, 2), 1), ((2, 6, 3, 4), 3), ((1, 4, 3, 3), 4), ((4, 8, 2, 5), 2)]


def _norm_inputs(x_shape):
    rng = np.random.default_rng(sum(x_shape))
    C = x_shape[1]
    x = 2.0 * rng.normal(size=x_shape) + rng.normal(size=(1, C, 1, 1))
    return x, rng.normal(size=C), rng.normal(size=C), rng.normal(size=x_shape)


@pytest.mark.parametrize("x_shape", [case for case, _ in NORM_CASES])
def test_spatial_batchnorm_against_torch_batchnorm2d(ch04, x_shape):
    """Train mode (out, dx, dgamma, dbeta, running mean), then eval mode with the running averages.

    PyTorch's momentum 0.1 is our 0.9, and its running variance is the unbiased one (M / (M - 1)
    times ours, M = N H W): chapter 03 says so for the fully connected batch norm.
    """
    x, gamma, beta, dout = _norm_inputs(x_shape)
    N, C, H, W = x_shape
    layer = nn.BatchNorm2d(C, momentum=0.1, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(t(gamma, grad=False))
        layer.bias.copy_(t(beta, grad=False))
    tx = t(x)
    out_t = layer(tx)
    (out_t * t(dout, grad=False)).sum().backward()
    bn_param = {"mode": "train"}
    out, cache = ch04["spatial_batchnorm_forward"](x, gamma, beta, bn_param)
    assert_close(out, out_t, "batch norm out")
    dx, dgamma, dbeta = ch04["spatial_batchnorm_backward"](dout, cache)
    assert_close(dx, tx.grad, "batch norm dx")
    assert_close(dgamma, layer.weight.grad, "batch norm dgamma")
    assert_close(dbeta, layer.bias.grad, "batch norm dbeta")
    assert_close(bn_param["running_mean"], layer.running_mean, "running mean")
    M = N * H * W
    unbiased = 0.9 + (bn_param["running_var"] - 0.9) * M / (M - 1)  # 0.9 + 0.1 var M / (M - 1)
    assert_close(unbiased, layer.running_var, "running variance, unbiased as PyTorch keeps it")
    layer.eval()
    bn_param["mode"], bn_param["running_var"] = "eval", layer.running_var.numpy()
    out_eval, _ = ch04["spatial_batchnorm_forward"](x[::-1].copy(), gamma, beta, bn_param)
    assert_close(out_eval, layer(t(x[::-1].copy(), grad=False)), "batch norm out, eval mode")


@pytest.mark.parametrize("x_shape, G", NORM_CASES)
def test_groupnorm_against_torch_groupnorm(ch04, x_shape, G):
    x, gamma, beta, dout = _norm_inputs(x_shape)
    tx, tgamma, tbeta = t(x), t(gamma), t(beta)
    out_t = F.group_norm(tx, G, tgamma, tbeta, eps=1e-5)
    (out_t * t(dout, grad=False)).sum().backward()
    out, cache = ch04["groupnorm_forward"](x, gamma, beta, G)
    assert_close(out, out_t, f"group norm out, G = {G}")
    dx, dgamma, dbeta = ch04["groupnorm_backward"](dout, cache)
    assert_close(dx, tx.grad, f"group norm dx, G = {G}")
    assert_close(dgamma, tgamma.grad, f"group norm dgamma, G = {G}")
    assert_close(dbeta, tbeta.grad, f"group norm dbeta, G = {G}")


def test_one_group_is_layer_norm_over_channels_and_positions(ch04):
    """G = 1 is ``LayerNorm((C, H, W))`` whose elementwise scale and shift are constant per channel."""
    x, gamma, beta, _ = _norm_inputs((3, 4, 5, 2))
    shape = (4, 1, 1)
    weight = t(np.broadcast_to(gamma.reshape(shape), (4, 5, 2)), grad=False)
    bias = t(np.broadcast_to(beta.reshape(shape), (4, 5, 2)), grad=False)
    expected = F.layer_norm(t(x, grad=False), (4, 5, 2), weight, bias, eps=1e-5)
    assert_close(ch04["groupnorm_forward"](x, gamma, beta, 1)[0], expected, "layer norm")


def test_groupnorm_refuses_a_g_that_does_not_divide_c(ch04):
    x, gamma, beta, _ = _norm_inputs((2, 6, 3, 3))
    with pytest.raises(ValueError, match="G = 4 .* C = 6"):
        ch04["groupnorm_forward"](x, gamma, beta, 4)
