"""Chapter 03's solution against an independent oracle: PyTorch.

The optimisers, taken from the solution source itself, must follow
``torch.optim`` step for step (SGD with momentum and Nesterov, Adagrad,
RMSprop, Adam, AdamW, and Adam with L2 through its ``weight_decay``), and batch
norm and dropout must agree with ``torch.autograd`` in float64 for batch sizes
2, 5 and 64 (relative error, :func:`backproplab.gradcheck.rel_error`).
"""

import numpy as np
import pytest

from autograder.submissions import solution_namespace
from backproplab.gradcheck import rel_error
from tests.oracle import assert_close

torch = pytest.importorskip("torch")

ASSIGNMENT = "03_training"
SETUP = "ch03_setup"
SOLUTION_CELLS = (
    "ch03_hessian",
    "ch03_init",
    "ch03_sgd_momentum",
    "ch03_adagrad_rmsprop",
    "ch03_adam",
    "ch03_l2",
    "ch03_schedules",
    "ch03_dropout",
    "ch03_batchnorm_forward",
    "ch03_batchnorm_backward",
)
NUM_STEPS = 6


@pytest.fixture(scope="module")
def ch03():
    """The namespace of the setup cell and the solution cells, run with ``exec``."""
    return solution_namespace(ASSIGNMENT, SETUP, SOLUTION_CELLS)


# (our function, our config, torch optimiser class, its keyword arguments)
OPTIMISERS = [
    ("sgd", {"lr": 0.1}, "SGD", {"lr": 0.1}),
    ("sgd_momentum", {"lr": 0.05, "mu": 0.9}, "SGD", {"lr": 0.05, "momentum": 0.9}),
    (
        "nesterov_momentum",
        {"lr": 0.05, "mu": 0.8},
        "SGD",
        {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    ),
    ("adagrad", {"lr": 0.1, "eps": 1e-10}, "Adagrad", {"lr": 0.1, "eps": 1e-10}),
    (
        "rmsprop",
        {"lr": 0.01, "decay_rate": 0.9, "eps": 1e-3},
        "RMSprop",
        {"lr": 0.01, "alpha": 0.9, "eps": 1e-3},
    ),
    (
        "adam",
        {"lr": 0.01, "beta1": 0.8, "beta2": 0.95, "eps": 1e-3},
        "Adam",
        {"lr": 0.01, "betas": (0.8, 0.95), "eps": 1e-3},
    ),
    (
        "adamw",
        {"lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-4, "weight_decay": 0.3},
        "AdamW",
        {"lr": 0.01, "betas": (0.9, 0.99), "eps": 1e-4, "weight_decay": 0.3},
    ),
]


def _loss(w):
    """A non-quadratic loss, so that every step sees a new gradient."""
    return (torch.sin(3 * w) * w**2).sum() + (w**4).sum() / 4


def _grad(w):
    tw = torch.tensor(w, requires_grad=True)
    _loss(tw).backward()
    return tw.grad.numpy().copy()


@pytest.mark.parametrize(
    "name, config, torch_name, torch_kwargs", OPTIMISERS, ids=[o[0] for o in OPTIMISERS]
)
def test_optimiser_follows_torch(ch03, name, config, torch_name, torch_kwargs):
    w0 = np.random.default_rng(len(name)).normal(size=(3, 2))
    tw = torch.tensor(w0.copy(), requires_grad=True)
    opt = getattr(torch.optim, torch_name)([tw], **torch_kwargs)
    w, cfg = w0.copy(), dict(config)
    for step in range(NUM_STEPS):
        dw = _grad(w)
        w, cfg = ch03[name](w, dw, cfg)
        opt.zero_grad()
        _loss(tw).backward()
        opt.step()
        assert_close(w, tw, f"{name}, w after step {step + 1}")


def test_adam_with_l2_in_the_loss_is_torch_adam_weight_decay(ch03):
    """torch.optim.Adam(weight_decay) adds lambda w to the gradient: Adam + L2, not AdamW."""
    w0 = np.random.default_rng(7).normal(size=4)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    opt = torch.optim.Adam([tw], lr=0.05, weight_decay=0.5)
    w, cfg = w0.copy(), {"lr": 0.05}
    for step in range(NUM_STEPS):
        w, cfg = ch03["adam"](w, _grad(w) + 0.5 * w, cfg)
        opt.zero_grad()
        _loss(tw).backward()
        opt.step()
        assert_close(w, tw, f"Adam + L2, step {step + 1}")
    w_adamw, cfg_w = w0.copy(), {"lr": 0.05, "weight_decay": 0.5}
    for _ in range(NUM_STEPS):
        w_adamw, cfg_w = ch03["adamw"](w_adamw, _grad(w_adamw), cfg_w)
    assert rel_error(w_adamw, w) > 1e-4, "AdamW and Adam + L2 should differ"


@pytest.mark.parametrize("m", [2, 5, 64])
def test_batchnorm_matches_torch(ch03, m):
    rng = np.random.default_rng(m)
    D = 3
    x, dout = 2.0 * rng.normal(size=(m, D)) + 1.0, rng.normal(size=(m, D))
    gamma, beta = rng.normal(size=D), rng.normal(size=D)
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    running_mean, running_var = (
        torch.zeros(D, dtype=torch.float64),
        torch.ones(D, dtype=torch.float64),
    )
    out_t = torch.nn.functional.batch_norm(
        tx, running_mean, running_var, tg, tb, training=True, momentum=0.1, eps=1e-5
    )
    (out_t * torch.tensor(dout)).sum().backward()
    bn_param = {"mode": "train"}
    out, cache = ch03["batchnorm_forward"](x, gamma, beta, bn_param)
    dx, dgamma, dbeta = ch03["batchnorm_backward"](dout, cache)
    assert_close(out, out_t, f"batch norm out, m = {m}")
    assert_close(dx, tx.grad, f"dx, m = {m}")
    assert_close(dgamma, tg.grad, f"dgamma, m = {m}")
    assert_close(dbeta, tb.grad, f"dbeta, m = {m}")
    # torch's momentum 0.1 is our 1 - 0.9; torch keeps the unbiased variance in its running average
    assert_close(bn_param["running_mean"], running_mean, "running mean")
    unbiased_batch_var = x.var(axis=0, ddof=1)
    assert_close(
        bn_param["running_var"] + 0.1 * (unbiased_batch_var - x.var(axis=0)),
        running_var,
        "running var",
    )
    bn_param["mode"] = "eval"
    x_test = rng.normal(size=(4, D))
    out_eval, _ = ch03["batchnorm_forward"](x_test, gamma, beta, bn_param)
    out_eval_t = torch.nn.functional.batch_norm(
        torch.tensor(x_test),
        torch.tensor(bn_param["running_mean"]),
        torch.tensor(bn_param["running_var"]),
        torch.tensor(gamma),
        torch.tensor(beta),
        training=False,
        eps=1e-5,
    )
    assert_close(out_eval, out_eval_t, "batch norm in eval mode")


def test_dropout_backward_is_autograd_of_its_mask(ch03):
    rng = np.random.default_rng(0)
    x, dout = rng.normal(size=(64, 10)), rng.normal(size=(64, 10))
    out, cache = ch03["dropout_forward"](x, 0.7, "train", np.random.default_rng(1))
    keep = torch.tensor(np.random.default_rng(1).random(x.shape) < 0.7, dtype=torch.float64)
    tx = torch.tensor(x, requires_grad=True)
    out_t = tx * keep / 0.7
    (out_t * torch.tensor(dout)).sum().backward()
    assert_close(out, out_t, "dropout out")
    assert_close(ch03["dropout_backward"](dout, cache), tx.grad, "dropout dx")


def test_hessian_matches_torch(ch03):
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(9, 3)), rng.normal(size=9)
    theta = torch.tensor(rng.normal(size=4))
    H_t = torch.autograd.functional.hessian(
        lambda th: ((torch.tensor(X) @ th[:3] + th[3] - torch.tensor(y)) ** 2).mean() / 2, theta
    )
    assert_close(ch03["least_squares_hessian"](X), H_t, "least-squares Hessian")
    assert ch03["max_stable_lr"](H_t.numpy()) == pytest.approx(
        2 / torch.linalg.eigvalsh(H_t).max().item()
    )


@pytest.mark.parametrize("mode", ["train", "eval"])
def test_provided_dropout_is_chapter_03s_solution(ch03, mode):
    """The course's wrapper around chapter 03's dropout (backproplab.regularization) changes nothing in float64."""
    from backproplab.regularization import dropout_backward, dropout_forward

    rng = np.random.default_rng(12)
    x, dout = rng.normal(size=(16, 9)), rng.normal(size=(16, 9))
    out, cache = dropout_forward(x, 0.6, mode, np.random.default_rng(5))
    out_ch03, cache_ch03 = ch03["dropout_forward"](x, 0.6, mode, np.random.default_rng(5))
    assert_close(out, out_ch03, f"dropout out ({mode})", tol=1e-12)
    assert_close(
        dropout_backward(dout, cache),
        ch03["dropout_backward"](dout, cache_ch03),
        f"dropout dx ({mode})",
        tol=1e-12,
    )


def test_provided_dropout_keeps_float32():
    """The provided dropout keeps float32 activations float32 (chapter 05 trains in float32)."""
    from backproplab.regularization import dropout_forward

    out, cache = dropout_forward(
        np.ones((3, 4), dtype=np.float32), 0.5, "train", np.random.default_rng(0)
    )
    assert out.dtype == np.float32 and cache["mask"].dtype == np.float32
