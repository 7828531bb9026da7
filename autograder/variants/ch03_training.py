"""Correct answers of chapter 03 written unlike the solution (see autograder.variants)."""

from autograder.variants import Variant

# Exercise 1 and 8 with a star import at the top of the cell (it rebinds record, max, sum... in the
# notebook), the Hessian as a loop over examples.
NUMPY_STAR_HESSIAN = """from numpy import *


def least_squares_hessian(X):
    N, D = X.shape
    H = zeros((D + 1, D + 1))
    for n in range(N):
        a = append(X[n], 1.0)  # the example with a constant input for the bias
        H += outer(a, a)
    return H / N


def max_stable_lr(H):
    return 2.0 / max(linalg.eigvalsh(H))
"""

MATH_STAR_SCHEDULES = """from math import *


def step_decay(lr0, t, drop=0.5, every=5):
    return lr0 * pow(drop, floor(t / every))


def exponential_decay(lr0, t, k):
    return lr0 * exp(-k * t)


def inverse_time_decay(lr0, t, k):
    return lr0 / (1.0 + k * t)
"""

# Exercise 2: one call to rng.normal with a unit scale, then scaled; an if/elif chain.
INIT_IF_CHAIN = """import math


def init_weights(fan_in, fan_out, scheme, rng):
    if scheme == "naive":
        std = 0.01
    elif scheme == "xavier":
        std = math.sqrt(1.0 / fan_in)
    elif scheme == "he":
        std = math.sqrt(2.0 / fan_in)
    else:
        raise ValueError(f"unknown scheme {scheme!r}")
    return rng.normal(size=(fan_in, fan_out)) * std
"""

# Exercise 3 with a helper for the defaults, a new config dict returned, and the PyTorch form of Nesterov.
OPTIMISERS_WITH_HELPERS = '''import numpy as np


def _with_defaults(config, **defaults):
    """A new dict: the defaults, overridden by what config already holds."""
    merged = dict(defaults)
    merged.update(config)
    return merged


def sgd(w, dw, config):
    config = _with_defaults(config, lr=1e-2)
    next_w = w.copy()
    next_w -= config["lr"] * dw
    return next_w, config


def sgd_momentum(w, dw, config):
    config = _with_defaults(config, lr=1e-2, mu=0.9)
    velocity = config["velocity"] if "velocity" in config else np.zeros(w.shape)
    config["velocity"] = config["mu"] * velocity - config["lr"] * dw
    return w + config["velocity"], config


def nesterov_momentum(w, dw, config):
    config = _with_defaults(config, lr=1e-2, mu=0.9)
    velocity = config["velocity"] if "velocity" in config else np.zeros(w.shape)
    new_velocity = config["mu"] * velocity - config["lr"] * dw
    config["velocity"] = new_velocity
    return w + config["mu"] * new_velocity - config["lr"] * dw, config
'''

# Exercise 4: the cache updated in place, RMSprop's leaky average written as an increment.
ADAGRAD_RMSPROP_IN_PLACE = """import numpy as np


def adagrad(w, dw, config):
    lr, eps = config.setdefault("lr", 1e-2), config.setdefault("eps", 1e-8)
    if "cache" not in config:
        config["cache"] = np.zeros_like(w)
    config["cache"] += dw * dw
    return w - lr * dw / (np.sqrt(config["cache"]) + eps), config


def rmsprop(w, dw, config):
    lr = config.setdefault("lr", 1e-2)
    rho = config.setdefault("decay_rate", 0.99)
    eps = config.setdefault("eps", 1e-8)
    cache = config.get("cache")
    if cache is None:
        cache = np.zeros_like(w)
    cache = cache + (1 - rho) * (dw * dw - cache)
    config["cache"] = cache
    return w - lr * dw / (np.sqrt(cache) + eps), config
"""

# Exercise 5: elementwise loops over the entries (np.nditer), AdamW written out in full.
ADAM_LOOPS = """import numpy as np


def adam(w, dw, config):
    lr = config.get("lr", 1e-3)
    b1, b2, eps = config.get("beta1", 0.9), config.get("beta2", 0.999), config.get("eps", 1e-8)
    config.update(lr=lr, beta1=b1, beta2=b2, eps=eps)
    m = np.array(config.get("m", np.zeros(w.shape)), dtype=float)
    v = np.array(config.get("v", np.zeros(w.shape)), dtype=float)
    t = config.get("t", 0) + 1
    next_w = np.empty_like(w, dtype=float)
    for index in np.ndindex(w.shape):
        m[index] = b1 * m[index] + (1 - b1) * dw[index]
        v[index] = b2 * v[index] + (1 - b2) * dw[index] ** 2
        m_hat = m[index] / (1 - b1**t)
        v_hat = v[index] / (1 - b2**t)
        next_w[index] = w[index] - lr * m_hat / (v_hat**0.5 + eps)
    config["m"], config["v"], config["t"] = m, v, t
    return next_w, config


def adamw(w, dw, config):
    wd = config.setdefault("weight_decay", 1e-2)
    w_before = w.copy()
    stepped, config = adam(w, dw, config)
    return stepped - config["lr"] * wd * w_before, config
"""

# Exercise 7: a dict comprehension and the builtin sum over a generator.
L2_COMPREHENSION = """import numpy as np


def l2_penalty(params, reg):
    weights = [name for name in params if name[0] == "W"]
    penalty = reg / 2 * sum(np.sum(params[name] * params[name]) for name in weights)
    grads = {name: (reg * value if name in weights else 0 * value) for name, value in params.items()}
    return penalty, grads
"""

# Exercise 9: a boolean mask and p in the cache, np.where in the forward pass.
DROPOUT_BOOLEAN_MASK = """import numpy as np


def dropout_forward(x, p, mode, rng):
    if mode != "train":
        return x.copy(), ("eval", None, p)
    keep = rng.random(x.shape) < p
    return np.where(keep, x / p, 0.0), ("train", keep, p)


def dropout_backward(dout, cache):
    mode, keep, p = cache
    if mode == "eval":
        return dout
    return np.where(keep, dout / p, 0.0)
"""

# Exercises 10-11 with a dict cache and the backward pass along the graph, eqs. (18)-(20) with x - mu.
BATCHNORM_DICT_CACHE_FORWARD = """import numpy as np


def batchnorm_forward(x, gamma, beta, bn_param):
    eps = bn_param.setdefault("eps", 1e-5)
    momentum = bn_param.setdefault("momentum", 0.9)
    D = x.shape[1]
    bn_param.setdefault("running_mean", np.zeros(D))
    bn_param.setdefault("running_var", np.ones(D))
    if bn_param["mode"] == "eval":
        x_hat = (x - bn_param["running_mean"]) / np.sqrt(bn_param["running_var"] + eps)
        return gamma * x_hat + beta, {}
    mean, var = np.mean(x, axis=0), np.var(x, axis=0)
    bn_param["running_mean"] = momentum * bn_param["running_mean"] + (1 - momentum) * mean
    bn_param["running_var"] = momentum * bn_param["running_var"] + (1 - momentum) * var
    x_hat = (x - mean) / np.sqrt(var + eps)
    cache = {"x": x, "mean": mean, "var": var, "eps": eps, "gamma": gamma, "x_hat": x_hat}
    return gamma * x_hat + beta, cache
"""

BATCHNORM_DICT_CACHE_BACKWARD = """import numpy as np


def batchnorm_backward(dout, cache):
    x, mean, var, eps = cache["x"], cache["mean"], cache["var"], cache["eps"]
    m = x.shape[0]
    centred = x - mean
    inv_std = 1.0 / np.sqrt(var + eps)
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * cache["x_hat"], axis=0)
    dx_hat = dout * cache["gamma"]
    dvar = np.sum(dx_hat * centred, axis=0) * -0.5 * inv_std**3
    dmean = -np.sum(dx_hat, axis=0) * inv_std + dvar * -2.0 * np.mean(centred, axis=0)
    dx = dx_hat * inv_std + dmean / m + dvar * 2.0 * centred / m
    return dx, dgamma, dbeta
"""

# Exercises 10-11 with another cache tuple (x, gamma, eps) and the compact form (21) for dx.
BATCHNORM_RECOMPUTE_FORWARD = """import numpy as np


def _normalise(x, eps):
    mu = x.sum(axis=0) / x.shape[0]
    var = ((x - mu) ** 2).sum(axis=0) / x.shape[0]
    return (x - mu) / np.sqrt(var + eps), mu, var


def batchnorm_forward(x, gamma, beta, bn_param):
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    D = x.shape[1]
    mean_run = bn_param.get("running_mean", np.zeros(D))
    var_run = bn_param.get("running_var", np.ones(D))
    if bn_param["mode"] == "train":
        x_hat, mu, var = _normalise(x, eps)
        bn_param["running_mean"] = momentum * mean_run + (1 - momentum) * mu
        bn_param["running_var"] = momentum * var_run + (1 - momentum) * var
        return x_hat * gamma + beta, (x.copy(), gamma, eps)
    bn_param["running_mean"], bn_param["running_var"] = mean_run, var_run
    scale = gamma / np.sqrt(var_run + eps)
    return x * scale + (beta - mean_run * scale), (x.copy(), gamma, eps)
"""

BATCHNORM_RECOMPUTE_BACKWARD = """import numpy as np


def batchnorm_backward(dout, cache):
    x, gamma, eps = cache
    x_hat, mu, var = _normalise(x, eps)
    dx_hat = gamma * dout
    dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / np.sqrt(var + eps)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
"""

PRINT_CELL = """print("my checks:", least_squares_hessian(np.array([[1.0, 2.0]])), max_stable_lr(np.eye(2)))
x, w, H, gamma, beta, config = "student", None, 3, "my gamma", 0, []  # names the tests also use
"""

WARN_CELL = """import warnings

warnings.warn("I am not sure about Nesterov yet")
print("sgd one step:", sgd(np.array([1.0]), np.array([1.0]), {"lr": 0.5}))
"""

PLOT_CELL = """import matplotlib.pyplot as plt

steps = np.arange(40)
plt.plot(steps, [step_decay(0.1, int(s)) for s in steps], label="step")
plt.plot(steps, [exponential_decay(0.1, int(s), 0.05) for s in steps], label="exp")
plt.legend()
plt.show()
"""

VARIANTS = [
    Variant(
        name="numpy_star_hessian_loop",
        about="`from numpy import *` at the top of Exercise 1 (rebinds record, max, sum...), the Hessian as a "
        "sum of outer products over the examples, and `from math import *` for the schedules",
        answers={"ch03_hessian": NUMPY_STAR_HESSIAN, "ch03_schedules": MATH_STAR_SCHEDULES},
    ),
    Variant(
        name="helpers_new_config_dicts",
        about="optimisers with a defaults helper that return a new config dict, Nesterov in PyTorch's form "
        "w + mu v_new - lr dw, He/Xavier by an if/elif chain and a unit-scale rng.normal call",
        answers={"ch03_sgd_momentum": OPTIMISERS_WITH_HELPERS, "ch03_init": INIT_IF_CHAIN},
    ),
    Variant(
        name="in_place_state_and_loops",
        about="Adagrad's cache updated in place, RMSprop as an increment, Adam entry by entry in Python loops, "
        "l2_penalty with a comprehension and the builtin sum",
        answers={
            "ch03_adagrad_rmsprop": ADAGRAD_RMSPROP_IN_PLACE,
            "ch03_adam": ADAM_LOOPS,
            "ch03_l2": L2_COMPREHENSION,
        },
    ),
    Variant(
        name="batchnorm_dict_cache_graph_backward",
        about="batch norm with a dict cache (x, mean, var, eps, gamma, x_hat) and the backward pass along the "
        "graph, eqs. (18)-(20) with x - mu; dropout with a boolean mask and np.where",
        answers={
            "ch03_batchnorm_forward": BATCHNORM_DICT_CACHE_FORWARD,
            "ch03_batchnorm_backward": BATCHNORM_DICT_CACHE_BACKWARD,
            "ch03_dropout": DROPOUT_BOOLEAN_MASK,
        },
    ),
    Variant(
        name="batchnorm_other_cache_tuple",
        about="batch norm whose cache is the tuple (x, gamma, eps): the backward pass recomputes the statistics "
        "with a helper and uses the compact form (21); eval mode as one affine map",
        answers={
            "ch03_batchnorm_forward": BATCHNORM_RECOMPUTE_FORWARD,
            "ch03_batchnorm_backward": BATCHNORM_RECOMPUTE_BACKWARD,
        },
    ),
    Variant(
        name="extra_cells_print_warn_plot",
        about="the solution's answers plus cells of the student's own that print, rebind names the tests use "
        "(x, w, H, gamma, beta, config), warn and plot",
        answers={},
        added=(
            ("ch03_hessian", PRINT_CELL),
            ("ch03_sgd_momentum", WARN_CELL),
            ("ch03_schedules", PLOT_CELL),
        ),
    ),
]
