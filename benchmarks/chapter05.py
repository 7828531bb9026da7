"""Chapter 05's code as the benchmarks use it: the solution's functions, and the naive reference.

The benchmarks time exactly what a student writes in chapter 05 (the
solution notebook's answer cells, run without its experiments), and the
chapter's provided fast path (the locked cell ``ch05_fast_path``: ``FastConv2D``,
``FastMaxPool2D``, ``FastDense``, ``FastReLU``, ``fast_path``, ``fast_train_step``), against chapter 04's naive loops
(``backproplab.conv_naive``) and PyTorch.
"""

from functools import cache

import numpy as np

from autograder.submissions import solution_namespace

ASSIGNMENT = "05_im2col_gpu"
FAST_PATH = "ch05_fast_path"  # the locked cell with the fast layers, fast_path and fast_train_step


@cache
def solution():
    """Chapter 05's setup and answer cells, then its provided fast path cell, run once: ``{name: object}``."""
    return solution_namespace(ASSIGNMENT, "ch05_setup", provided_cells=(FAST_PATH,))


@cache
def spatial_batchnorm():
    """Chapter 04's answers ``(spatial_batchnorm_forward, spatial_batchnorm_backward)`` (eqs. 15-18 there)."""
    ns = solution_namespace("04_convolution", "ch04_setup", ["ch04_spatial_batchnorm"])
    return ns["spatial_batchnorm_forward"], ns["spatial_batchnorm_backward"]


def batchnorm_layer(num_channels):
    """A chapter 05 layer of chapter 04's batch norm per channel: params gamma and beta (C,), no weight decay.

    train_step decays only the parameters called "W", so gamma and beta are not decayed;
    the running averages live in the layer's ``bn_param`` and serve in eval mode.
    """
    forward, backward = spatial_batchnorm()
    Layer = solution()["Layer"]

    class BatchNorm2D(Layer):
        def build(self, input_shape, rng):
            self.params = {"gamma": np.ones(num_channels), "beta": np.zeros(num_channels)}
            self.bn_param = {}
            return tuple(input_shape)

        def forward(self, x, train):
            self.bn_param["mode"] = "train" if train else "eval"
            out, self.cache = forward(x, self.params["gamma"], self.params["beta"], self.bn_param)
            return out.astype(x.dtype, copy=False)

        def backward(self, dout):
            dx, self.grads["gamma"], self.grads["beta"] = backward(dout, self.cache)
            return dx.astype(dout.dtype, copy=False)

    return BatchNorm2D()


def table_3_2_batchnorm_network(seed=0, keep_prob=0.5, xp=np, dtype=np.float32):
    """Table 3.2's network with batch norm per channel after each convolution.

    Its Dense layers start at PyTorch's default scale (:func:`pytorch_default_dense_init`),
    not He's: with batch norm, He's larger Dense weights trained more slowly
    (the README's Benchmarks section gives the runs).
    """
    ns = solution()
    layers = [
        ns["Conv2D"](32, 5, stride=1, pad=2),
        batchnorm_layer(32),
        ns["ReLU"](),
        ns["MaxPool2D"](2, 2),
        ns["Conv2D"](64, 5, stride=1, pad=2),
        batchnorm_layer(64),
        ns["ReLU"](),
        ns["MaxPool2D"](2, 2),
        ns["Flatten"](),
        ns["Dense"](1024),
        ns["ReLU"](),
        ns["Dropout"](keep_prob, seed=seed + 1),
        ns["Dense"](10),
    ]
    net = ns["Network"]((1, 28, 28), layers, seed=seed, dtype=dtype, xp=xp)
    return pytorch_default_dense_init(net, np.random.default_rng(seed), ns["Dense"], xp)


def pytorch_default_dense_init(net, rng, Dense, xp=np):
    r"""Draw each Dense layer's W (D, M) and b (M,) from :math:`U(-1/\sqrt{D}, 1/\sqrt{D})`; returns net.

    The scale of ``torch.nn.Linear``'s default initialisation: :math:`1/\sqrt{3}` of
    LeCun's standard deviation, about 0.41 of He's :math:`\sqrt{2/D}`.
    """
    for layer in net.layers:
        if isinstance(layer, Dense):
            bound = 1.0 / np.sqrt(layer.params["W"].shape[0])
            for name, value in layer.params.items():
                drawn = rng.uniform(-bound, bound, size=value.shape)
                layer.params[name] = xp.asarray(drawn, dtype=value.dtype)
    return net


def conv_flops(x_shape, num_filters, kernel_size, out_hw):
    """Multiply-adds times 2 of one conv forward: ``2 N F C K^2 H' W'``."""
    N, C = x_shape[:2]
    return 2 * N * num_filters * C * kernel_size**2 * out_hw[0] * out_hw[1]


def fashion_mnist():
    """``(X_train, y_train, X_test, y_test)``: Fashion-MNIST standardised by the training pixels' mean and std.

    X: (N, 1, 28, 28) float32, y: (N,) int64; 60,000 training and 10,000 test images
    (von Hacht, sec. 3.4.1 standardises the same way).
    """
    from backproplab.datasets import load_fashion_mnist

    X_train, y_train = load_fashion_mnist("train", progress=False)
    X_test, y_test = load_fashion_mnist("test", progress=False)
    mean, std = float(X_train.mean()), float(X_train.std())
    return (X_train - mean) / std, y_train, (X_test - mean) / std, y_test


def epoch_ours(
    net, X, y, configs, lr, weight_decay, batch_size=100, seed=0, step="train_step", hflip=False
):
    """One epoch of chapter 05's ``step`` over shuffled mini-batches; returns the mean batch loss.

    X: (N, 1, 28, 28) and y: (N,) NumPy arrays; each batch is moved to where the
    network's parameters live (NumPy or CuPy). ``configs`` carries AdamW's state
    from one epoch to the next. step: the student's ``"train_step"``, or the fast
    path's ``"fast_train_step"``. hflip: mirror each training image left-right with
    probability 1/2 (the same draws for the same seed).
    """
    ns = solution()
    xp, dtype = ns["_where"](net)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(X))
    losses = []
    for start in range(0, len(X) - batch_size + 1, batch_size):
        batch = order[start : start + batch_size]
        Xb = random_hflip(X[batch], rng) if hflip else X[batch]
        Xb, yb = xp.asarray(Xb, dtype=dtype), xp.asarray(y[batch])
        losses.append(ns[step](net, Xb, yb, configs, lr, weight_decay)[0])
    return float(np.mean(losses))


def random_hflip(X, rng):
    """X (N, C, H, W) with each image mirrored left-right with probability 1/2: a new array."""
    flip = rng.random(len(X)) < 0.5
    return np.where(flip[:, None, None, None], X[..., ::-1], X)


def torch_table_3_2(keep_prob=0.5):
    """Table 3.2's network in PyTorch: the same layers as chapter 05's ``table_3_2_network``."""
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3136, 1024),
        nn.ReLU(),
        nn.Dropout(1 - keep_prob),
        nn.Linear(1024, 10),
    )


def torch_adamw(model, lr, weight_decay):
    """AdamW with decay on the weights only (biases get none), as chapter 05's ``train_step`` does."""
    import torch

    weights = [p for p in model.parameters() if p.dim() > 1]
    biases = [p for p in model.parameters() if p.dim() == 1]
    groups = [
        {"params": weights, "weight_decay": weight_decay},
        {"params": biases, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=lr)


def epoch_torch(model, optimizer, X, y, batch_size=100, seed=0, device="cpu"):
    """One epoch of PyTorch training, the same mini-batches as :func:`epoch_ours`; returns the mean loss."""
    import torch
    import torch.nn.functional as F

    model.train()
    order = np.random.default_rng(seed).permutation(len(X))
    losses = []
    for start in range(0, len(X) - batch_size + 1, batch_size):
        batch = order[start : start + batch_size]
        Xb, yb = torch.as_tensor(X[batch], device=device), torch.as_tensor(y[batch], device=device)
        optimizer.zero_grad()
        loss = F.cross_entropy(model(Xb), yb)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return float(torch.stack(losses).mean())
