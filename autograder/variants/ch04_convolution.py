"""Correct answers of chapter 04 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

# Exercises 1-3 with a star import at the top of the cells (it rebinds record, max, sum... in the notebook).
NUMPY_STAR_1D = """from numpy import *


def conv1d(a, b):
    a, b = asarray(a, dtype=float), asarray(b, dtype=float)
    out = zeros(len(a) + len(b) - 1)
    for t in range(len(out)):
        for tau in range(len(a)):  # eq. (1) term by term: b is read backwards as tau grows
            if 0 <= t - tau < len(b):
                out[t] += a[tau] * b[t - tau]
    return out


def xcorr1d(x, k):
    x, k = asarray(x, dtype=float), asarray(k, dtype=float)
    return array([dot(x[t:t + len(k)], k) for t in range(len(x) - len(k) + 1)])
"""

NUMPY_STAR_2D = """from numpy import *


def _valid_xcorr(padded, kernel):
    KH, KW = kernel.shape
    out = zeros((padded.shape[0] - KH + 1, padded.shape[1] - KW + 1))
    for i, j in ndindex(*out.shape):
        out[i, j] = vdot(padded[i:i + KH, j:j + KW], kernel)
    return out


def conv2d(image, kernel):
    image, kernel = asarray(image, dtype=float), asarray(kernel, dtype=float)
    KH, KW = kernel.shape
    return _valid_xcorr(pad(image, ((KH - 1, KH - 1), (KW - 1, KW - 1))), flip(kernel))


def xcorr2d(image, kernel, pad=0):
    image, kernel = asarray(image, dtype=float), asarray(kernel, dtype=float)
    H, W = image.shape
    padded = zeros((H + 2 * pad, W + 2 * pad))
    padded[pad:pad + H, pad:pad + W] = image
    return _valid_xcorr(padded, kernel)
"""

NUMPY_STAR_SIZES = """from numpy import *


def conv_output_size(n, kernel_size, stride=1, pad=0):
    return int(floor((n + 2 * pad - kernel_size) / stride)) + 1


def pool_output_size(n, pool_size, stride):
    return conv_output_size(n, pool_size, stride, 0)
"""

# Exercises 4, 5, 7, 8 vectorised: sliding windows, loops over the kernel offsets, np.add.at.
VECTORISED_CONV = """import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def conv_forward_naive(x, w, b, stride=1, pad=0):
    F, C, KH, KW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(x_pad, (KH, KW), axis=(2, 3))[:, :, ::stride, ::stride]  # (N, C, H', W', KH, KW)
    out = np.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, H', W', F)
    return out.transpose(0, 3, 1, 2) + b[None, :, None, None], (x, w, b, stride, pad)
"""

VECTORISED_CONV_BACKWARD = """import numpy as np


def conv_backward_naive(dout, cache):
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros(x_pad.shape)
    dw = np.zeros(w.shape)
    for k in range(KH):  # loop over the kernel offsets instead of the output positions
        for l in range(KW):
            rows = slice(k, k + stride * (H_out - 1) + 1, stride)
            cols = slice(l, l + stride * (W_out - 1) + 1, stride)
            dw[:, :, k, l] = np.einsum("nfij,ncij->fc", dout, x_pad[:, :, rows, cols])
            dx_pad[:, :, rows, cols] += np.einsum("nfij,fc->ncij", dout, w[:, :, k, l])
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, dout.sum(axis=(0, 2, 3))
"""

VECTORISED_MAX_POOL = """import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def _pool_windows(x, pool_size, stride):
    return sliding_window_view(x, (pool_size, pool_size), axis=(2, 3))[:, :, ::stride, ::stride]


def max_pool_forward_naive(x, pool_size=2, stride=2):
    return _pool_windows(x, pool_size, stride).max(axis=(4, 5)), (x, pool_size, stride)


def max_pool_backward_naive(dout, cache):
    x, pool_size, stride = cache
    windows = _pool_windows(x, pool_size, stride)
    N, C, H_out, W_out = windows.shape[:4]
    first = windows.reshape(N, C, H_out, W_out, -1).argmax(axis=4)  # first maximum, row-major
    k, l = np.unravel_index(first, (pool_size, pool_size))
    n, c, i, j = np.indices((N, C, H_out, W_out))
    dx = np.zeros(x.shape)
    np.add.at(dx, (n, c, i * stride + k, j * stride + l), dout)
    return dx
"""

VECTORISED_AVG_POOL = """import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def avg_pool_forward_naive(x, pool_size=2, stride=2):
    windows = sliding_window_view(x, (pool_size, pool_size), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.mean(axis=(4, 5)), (x.shape, pool_size, stride)


def avg_pool_backward_naive(dout, cache):
    x_shape, F, S = cache
    _, _, H_out, W_out = dout.shape
    dx = np.zeros(x_shape)
    for k in range(F):
        for l in range(F):
            dx[:, :, k:k + S * (H_out - 1) + 1:S, l:l + S * (W_out - 1) + 1:S] += dout / F**2
    return dx
"""

# Exercises 4-6 in float32 (the input, the filters and the cache), every index in a Python loop.
FLOAT32_LOOPS_FORWARD = """import numpy as np


def conv_forward_naive(x, w, b, stride=1, pad=0):
    x32, w32, b32 = x.astype(np.float32), w.astype(np.float32), b.astype(np.float32)
    N, C, H, W = x32.shape
    F, _, KH, KW = w32.shape
    H_out = (H + 2 * pad - KH) // stride + 1
    W_out = (W + 2 * pad - KW) // stride + 1
    x_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=np.float32)
    x_pad[:, :, pad:pad + H, pad:pad + W] = x32
    out = np.zeros((N, F, H_out, W_out), dtype=np.float32)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    window = x_pad[n, :, i * stride:i * stride + KH, j * stride:j * stride + KW]
                    out[n, f, i, j] = np.sum(window * w32[f]) + b32[f]
    return out, (x32, w32, b32, stride, pad)
"""

FLOAT32_LOOPS_BACKWARD = """import numpy as np


def conv_backward_naive(dout, cache):
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    dout = dout.astype(np.float32)
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros(x_pad.shape, dtype=np.float32)
    dw = np.zeros(w.shape, dtype=np.float32)
    db = np.zeros(F, dtype=np.float32)
    for n in range(N):
        for f in range(F):
            for i in range(H_out):
                for j in range(W_out):
                    g = dout[n, f, i, j]
                    rows, cols = slice(i * stride, i * stride + KH), slice(j * stride, j * stride + KW)
                    db[f] += g
                    dw[f] += g * x_pad[n, :, rows, cols]
                    dx_pad[n, :, rows, cols] += g * w[f]
    return dx_pad[:, :, pad:pad + H, pad:pad + W], dw, db
"""

# Exercise 6 with np.rot90 and a helper that dilates; Exercises 7-8 with a loop over every index.
ROT90_DILATE = '''import numpy as np


def rot180(w):
    return np.rot90(w, 2, axes=(-2, -1))


def dilate(dout, stride):
    """Insert stride - 1 zeros between the entries of the last two axes."""
    N, F, H_out, W_out = dout.shape
    spread = np.zeros((N, F, (H_out - 1) * stride + 1, (W_out - 1) * stride + 1), dtype=dout.dtype)
    spread[:, :, ::stride, ::stride] = dout
    return spread


def conv_backward_dx_rot180(dout, w, x_shape, stride=1, pad=0):
    N, C, H, W = x_shape
    F, _, KH, KW = w.shape
    full = np.pad(dilate(dout, stride), ((0, 0), (0, 0), (KH - 1, KH - 1), (KW - 1, KW - 1)))
    filters = np.swapaxes(rot180(w), 0, 1)
    part, _ = conv_forward_naive(full, filters, np.zeros(C), stride=1, pad=0)
    dx = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    rows, cols = min(part.shape[2], H + 2 * pad), min(part.shape[3], W + 2 * pad)
    dx[:, :, :rows, :cols] = part[:, :, :rows, :cols]
    return dx[:, :, pad:H + pad, pad:W + pad]
'''

LOOP_MAX_POOL = """import numpy as np


def max_pool_forward_naive(x, pool_size=2, stride=2):
    N, C, H, W = x.shape
    out = np.empty((N, C, (H - pool_size) // stride + 1, (W - pool_size) // stride + 1))
    for n, c, i, j in np.ndindex(*out.shape):
        out[n, c, i, j] = x[n, c, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size].max()
    return out, {"x": x, "F": pool_size, "S": stride}


def max_pool_backward_naive(dout, cache):
    x, F, S = cache["x"], cache["F"], cache["S"]
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*dout.shape):
        window = x[n, c, i * S:i * S + F, j * S:j * S + F]
        k, l = np.unravel_index(np.argmax(window), window.shape)  # the first maximum, row by row
        dx[n, c, i * S + k, j * S + l] += dout[n, c, i, j]
    return dx
"""

LOOP_AVG_POOL = """import numpy as np


def avg_pool_forward_naive(x, pool_size=2, stride=2):
    N, C, H, W = x.shape
    out = np.empty((N, C, (H - pool_size) // stride + 1, (W - pool_size) // stride + 1))
    for n, c, i, j in np.ndindex(*out.shape):
        out[n, c, i, j] = np.sum(x[n, c, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size])
    return out / pool_size**2, {"shape": x.shape, "F": pool_size, "S": stride}


def avg_pool_backward_naive(dout, cache):
    F, S = cache["F"], cache["S"]
    dx = np.zeros(cache["shape"])
    for n, c, i, j in np.ndindex(*dout.shape):
        dx[n, c, i * S:i * S + F, j * S:j * S + F] += dout[n, c, i, j] / (F * F)
    return dx
"""

# Exercises 9-10 with a dispatch dict, lists instead of tuples, and math.prod.
LAYER_TABLE_DISPATCH = """import math


def _conv(shape, F, K, S, P):
    C, H, W = shape
    return [F, conv_output_size(H, K, S, P), conv_output_size(W, K, S, P)], F * C * K * K + F


def _pool(shape, K, S):
    return [shape[0], pool_output_size(shape[1], K, S), pool_output_size(shape[2], K, S)], 0


def _fc(shape, M):
    return [M], M * math.prod(shape) + M


HANDLERS = {"conv": _conv, "pool": _pool, "fc": _fc, "bn": lambda shape: (shape, 2 * shape[0])}


def layer_table(input_shape, layers):
    rows, shape = [], list(input_shape)
    for kind, *args in layers:
        handler = HANDLERS.get(kind, lambda shape, *_: (shape, 0))
        shape, params = handler(shape, *args)
        rows.append([list(shape), params])
    return rows
"""

FC_VS_CONV_OTHER_ORDER = """def fc_vs_conv_sizes(W, H, I, J, K):
    inputs, outputs = W * H * I, W * H * J
    per_unit = K * K * I
    return {
        "conv": {"connections": outputs * per_unit, "weights": per_unit * J, "units": outputs},
        "fc": {"connections": inputs * outputs, "weights": inputs * outputs, "units": outputs},
    }
"""

PRINT_CELL = """print("my conv1d:", conv1d([1, 2], [1, 1]), "my xcorr1d:", xcorr1d([1, 2, 3], [1, 1]))
rng, x_v, w_v, b_v, out, rows, sizes, x4 = None, "x", "w", "b", [], {}, 0, -1  # names the tests also use
"""

WARN_CELL = """import warnings

warnings.warn("my backward pass is slow")
print("db of a tiny case:", conv_backward_naive(np.ones((1, 1, 2, 2)), conv_forward_naive(np.ones((1, 1, 2, 2)), np.ones((1, 1, 1, 1)), np.zeros(1))[1])[2])
"""

PLOT_CELL = """import matplotlib.pyplot as plt

demo = np.random.default_rng(0).normal(size=(1, 1, 8, 8))
pooled, _ = max_pool_forward_naive(demo, 2, 2)
fig, axes = plt.subplots(1, 2)
axes[0].imshow(demo[0, 0])
axes[1].imshow(pooled[0, 0])
plt.show()
"""

# Exercises 13-14 as CS231n writes them: batch norm on the (N*H*W, C) matrix of chapter 03,
# group norm with a loop over the groups and the backward pass of eqs. (18)-(20) step by step.
FLATTENED_BATCHNORM = """def spatial_batchnorm_forward(x, gamma, beta, bn_param):
    N, C, H, W = x.shape
    rows = x.transpose(0, 2, 3, 1).reshape(-1, C)  # each position of each image is one sample
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    if bn_param["mode"] == "train":
        mu, var = rows.mean(axis=0), rows.var(axis=0)
        bn_param["running_mean"] = momentum * bn_param.get("running_mean", np.zeros(C)) + (1 - momentum) * mu
        bn_param["running_var"] = momentum * bn_param.get("running_var", np.ones(C)) + (1 - momentum) * var
        cache = {"rows": rows, "mu": mu, "var": var, "eps": eps, "gamma": gamma, "shape": x.shape}
    else:
        mu = bn_param.setdefault("running_mean", np.zeros(C))
        var = bn_param.setdefault("running_var", np.ones(C))
        cache = None
    out = gamma * (rows - mu) / np.sqrt(var + eps) + beta
    return out.reshape(N, H, W, C).transpose(0, 3, 1, 2), cache


def spatial_batchnorm_backward(dout, cache):
    N, C, H, W = cache["shape"]
    g = dout.transpose(0, 2, 3, 1).reshape(-1, C)
    m, xc = g.shape[0], cache["rows"] - cache["mu"]
    inv = 1.0 / np.sqrt(cache["var"] + cache["eps"])
    dxh = g * cache["gamma"]
    dvar = np.sum(dxh * xc, axis=0) * -0.5 * inv**3
    dmu = -np.sum(dxh * inv, axis=0) + dvar * np.mean(-2.0 * xc, axis=0)
    dx = dxh * inv + dvar * 2.0 * xc / m + dmu / m
    dgamma, dbeta = np.sum(g * xc * inv, axis=0), g.sum(axis=0)
    return dx.reshape(N, H, W, C).transpose(0, 3, 1, 2), dgamma, dbeta
"""

LOOPED_GROUPNORM = """def groupnorm_forward(x, gamma, beta, G, eps=1e-5):
    N, C, H, W = x.shape
    if C % G != 0:
        raise ValueError(f"cannot split C={C} channels into G={G} equal groups")
    size, x_hat, stds = C // G, np.empty_like(x, dtype=float), np.empty((N, G))
    for n in range(N):
        for g in range(G):
            block = x[n, g * size:(g + 1) * size]
            stds[n, g] = np.sqrt(block.var() + eps)
            x_hat[n, g * size:(g + 1) * size] = (block - block.mean()) / stds[n, g]
    return gamma[None, :, None, None] * x_hat + beta[None, :, None, None], {"x_hat": x_hat, "stds": stds, "gamma": gamma}


def groupnorm_backward(dout, cache):
    x_hat, stds, gamma = cache["x_hat"], cache["stds"], cache["gamma"]
    N, C, H, W = dout.shape
    G = stds.shape[1]
    size = C // G
    dx = np.empty_like(x_hat)
    dxh = dout * gamma[None, :, None, None]
    for n in range(N):
        for g in range(G):
            block = slice(g * size, (g + 1) * size)
            d, xh = dxh[n, block], x_hat[n, block]
            dx[n, block] = (d - d.mean() - xh * (d * xh).mean()) / stds[n, g]
    return dx, np.einsum("nchw,nchw->c", dout, x_hat), np.einsum("nchw->c", dout)
"""

VARIANTS = [
    Variant(
        name="numpy_star_definitions",
        about="`from numpy import *` at the top of Exercises 1-3 (rebinds record, max, sum...), conv1d term by term "
        "from eq. (1), conv2d through a helper and np.flip, output sizes with floor and int",
        answers={
            "ch04_conv1d": NUMPY_STAR_1D,
            "ch04_conv2d": NUMPY_STAR_2D,
            "ch04_output_size": NUMPY_STAR_SIZES,
        },
    ),
    Variant(
        name="vectorised_sliding_windows",
        about="conv forward with sliding_window_view and tensordot, backward looping over the kernel offsets, "
        "pooling vectorised with np.add.at",
        answers={
            "ch04_conv_forward": VECTORISED_CONV,
            "ch04_conv_backward": VECTORISED_CONV_BACKWARD,
            "ch04_max_pool": VECTORISED_MAX_POOL,
            "ch04_avg_pool": VECTORISED_AVG_POOL,
        },
    ),
    Variant(
        name="float32_full_loops",
        about="conv forward in float32 (input, filters and cache), forward and backward with a Python loop over "
        "every n, f, i, j; dx by eq. (13) then runs in float32 too",
        answers={
            "ch04_conv_forward": FLOAT32_LOOPS_FORWARD,
            "ch04_conv_backward": FLOAT32_LOOPS_BACKWARD,
        },
    ),
    Variant(
        name="rot90_loops_dict_caches",
        about="rot180 with np.rot90, a dilate helper, pooling with a loop over every index and dict caches, "
        "layer_table with a dispatch dict and lists, fc_vs_conv_sizes in another order",
        answers={
            "ch04_rot180": ROT90_DILATE,
            "ch04_max_pool": LOOP_MAX_POOL,
            "ch04_avg_pool": LOOP_AVG_POOL,
            "ch04_layer_table": LAYER_TABLE_DISPATCH,
            "ch04_fc_vs_conv": FC_VS_CONV_OTHER_ORDER,
        },
    ),
    Variant(
        name="flattened_batchnorm_looped_groupnorm",
        about="batch norm per channel on the (N*H*W, C) matrix with dict caches and CS231n's step-by-step "
        "backward; group norm with a loop over images and groups, einsum for dgamma and dbeta",
        answers={
            "ch04_spatial_batchnorm": FLATTENED_BATCHNORM,
            "ch04_groupnorm": LOOPED_GROUPNORM,
        },
    ),
    Variant(
        name="extra_cells_print_warn_plot",
        about="the solution's answers plus cells of the student's own that print, rebind names the tests use "
        "(rng, x_v, w_v, b_v, out, rows, sizes, x4), warn and plot",
        answers={},
        added=(
            ("ch04_conv1d", PRINT_CELL),
            ("ch04_conv_backward", WARN_CELL),
            ("ch04_max_pool", PLOT_CELL),
        ),
    ),
]
