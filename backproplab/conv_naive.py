"""Chapter 04's convolution and max pooling, given to later chapters as provided code.

These are the loop versions chapter 04 derives from the definitions (its
eqs. 6-14): the output sizes, a convolution layer (a cross-correlation, as in
every deep-learning library) and max pooling, forward and backward. Chapter 05
makes them fast and uses these as the reference the fast versions must match.
Arrays are NCHW: ``x`` is ``(N, C, H, W)``, filters ``w`` are ``(F, C, KH, KW)``.
``tests/test_ch04_oracle.py`` checks that they compute what chapter 04's
solution computes. NumPy only: they are the slow, obvious reference.
"""

import numpy as np

__all__ = [
    "conv_output_size",
    "pool_output_size",
    "conv_forward_naive",
    "conv_backward_naive",
    "max_pool_forward_naive",
    "max_pool_backward_naive",
]


def conv_output_size(n, kernel_size, stride=1, pad=0):
    """Number of outputs along one axis, eq. (6): floor((n + 2 pad - kernel_size) / stride) + 1 (an int)."""
    return (n + 2 * pad - kernel_size) // stride + 1


def pool_output_size(n, pool_size, stride):
    """Number of pooling outputs along one axis, no padding, eq. (7): floor((n - pool_size) / stride) + 1."""
    return (n - pool_size) // stride + 1


def conv_forward_naive(x, w, b, stride=1, pad=0):
    """Forward pass of a convolution layer (a cross-correlation, as in every DL library), eq. (8).

    x: (N, C, H, W) input; w: (F, C, KH, KW) filters; b: (F,) biases;
    stride: step S of the window along both axes; pad: P zeros added on every side of H and W.
    Returns (out, cache): out (N, F, H', W') with H' = (H + 2P - KH) // S + 1,
    W' = (W + 2P - KW) // S + 1; cache = (x, w, b, stride, pad).
    """
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = 1 + (H + 2 * pad - KH) // stride
    W_out = 1 + (W + 2 * pad - KW) // stride
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, H_out, W_out), dtype=np.result_type(x, w, b))
    for i in range(H_out):
        for j in range(W_out):
            # (N, C, KH, KW)
            window = x_pad[:, :, i * stride : i * stride + KH, j * stride : j * stride + KW]
            out[:, :, i, j] = np.einsum("nckl,fckl->nf", window, w) + b
    cache = (x, w, b, stride, pad)
    return out, cache


def conv_backward_naive(dout, cache):
    """Backward pass of conv_forward_naive, eqs. (9)-(11).

    dout: (N, F, H', W') upstream gradient; cache: what conv_forward_naive returned.
    Returns (dx, dw, db) with the shapes of x (N, C, H, W), w (F, C, KH, KW) and b (F,).
    """
    x, w, b, stride, pad = cache
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dx_pad = np.zeros_like(x_pad, dtype=np.result_type(x, dout))
    dw = np.zeros_like(w, dtype=np.result_type(w, dout))
    db = dout.sum(axis=(0, 2, 3))  # b[f] is added at every n, i, j of feature map f
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            d = dout[:, :, i, j]  # (N, F)
            dw += np.einsum("nf,nckl->fckl", d, x_pad[:, :, rows, cols])  # summed over the batch
            dx_pad[:, :, rows, cols] += np.einsum("nf,fckl->nckl", d, w)  # summed over the filters
    dx = dx_pad[:, :, pad : pad + H, pad : pad + W]  # the padding is not part of x
    return dx, dw, db


def max_pool_forward_naive(x, pool_size=2, stride=2):
    """Max pooling, eq. (14), no padding.

    x: (N, C, H, W); pool_size: F (F x F windows); stride: S.
    Returns (out, cache): out (N, C, H', W') with H' = (H - F) // S + 1, W' = (W - F) // S + 1;
    cache = (x, pool_size, stride).
    """
    N, C, H, W = x.shape
    H_out = (H - pool_size) // stride + 1
    W_out = (W - pool_size) // stride + 1
    out = np.zeros((N, C, H_out, W_out), dtype=x.dtype)
    for i in range(H_out):
        for j in range(W_out):
            window = x[
                :, :, i * stride : i * stride + pool_size, j * stride : j * stride + pool_size
            ]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out, (x, pool_size, stride)


def max_pool_backward_naive(dout, cache):
    """Backward pass of max pooling: each window's gradient goes to its maximum.

    dout: (N, C, H', W'); cache from max_pool_forward_naive. Returns dx: (N, C, H, W).
    Ties: the gradient goes to the first maximum of the window in row-major order (as in PyTorch).
    """
    x, pool_size, stride = cache
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x, dtype=np.result_type(x, dout))
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + pool_size)
            cols = slice(j * stride, j * stride + pool_size)
            window = x[:, :, rows, cols].reshape(N, C, -1)
            first = window.argmax(axis=2)  # the first maximum in row-major order
            mask = np.zeros_like(window)
            np.put_along_axis(mask, first[:, :, None], 1.0, axis=2)
            dx[:, :, rows, cols] += (mask * dout[:, :, i, j][:, :, None]).reshape(
                N, C, pool_size, pool_size
            )
    return dx
