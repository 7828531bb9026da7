"""Chapter 02's dense layers, given to later chapters as provided code.

Every layer is a pair ``*_forward(inputs...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``; each gradient has the shape of the
input or parameter it belongs to. Rows are examples: ``X`` is ``(N, D)``,
``W`` is ``(D, M)``, ``b`` is ``(M,)``. Chapter 02 derives all of them
(its eqs. 9-16); chapter 03 and later use them without writing them again.
They run on NumPy or CuPy arrays alike: each computes with the module of its
input (:func:`backproplab.backend.array_module`).
"""

from backproplab.backend import array_module

__all__ = [
    "affine_forward",
    "affine_backward",
    "relu_forward",
    "relu_backward",
    "tanh_forward",
    "tanh_backward",
    "softmax_loss",
]


def affine_forward(X, W, b):
    """out = X W + b. X: (N, D), W: (D, M), b: (M,). Returns (out (N, M), cache)."""
    return X @ W + b, (X, W)


def affine_backward(dout, cache):
    """dout: (N, M). Returns (dX (N, D), dW (D, M), db (M,)): dout W^T, X^T dout, sum of dout's rows."""
    X, W = cache
    return dout @ W.T, X.T @ dout, dout.sum(axis=0)


def relu_forward(x):
    """out = max(x, 0), elementwise, any shape. Returns (out, cache)."""
    return array_module(x).maximum(x, 0.0), x


def relu_backward(dout, cache):
    """dx = dout * 1[x > 0], x's shape."""
    return dout * (cache > 0)


def tanh_forward(x):
    """out = tanh(x), elementwise, any shape. Returns (out, cache)."""
    out = array_module(x).tanh(x)
    return out, out


def tanh_backward(dout, cache):
    """dx = dout * (1 - tanh(x)^2), x's shape."""
    return dout * (1.0 - cache**2)


def softmax_loss(scores, y):
    """Softmax + negative log-likelihood, mean over the batch.

    scores: (N, C) raw class scores. y: (N,) integer labels in 0..C-1.
    Returns (loss, dscores): a float and dL/dscores (N, C) = (p - onehot(y)) / N.
    Stable for large scores (shifted by each row's maximum).
    """
    xp = array_module(scores)
    N = scores.shape[0]
    rows = xp.arange(N)
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_p = shifted - xp.log(xp.exp(shifted).sum(axis=1, keepdims=True))
    loss = -float(xp.mean(log_p[rows, y]))
    dscores = xp.exp(log_p)
    dscores[rows, y] -= 1.0
    return loss, dscores / N
