"""Chapter 03's Adam and AdamW, given to later chapters as provided code.

An optimiser is an update rule with state: ``step(w, dw, config) -> (next_w,
config)``, where ``config`` holds the hyperparameters and the state (the
moments ``m``, ``v`` and the step count ``t``), created on the first step.
Chapter 03 derives both (its eqs. 10-12); seed 001's eq. (2.41) is AdamW.
``tests/test_ch03_oracle.py`` checks that they compute what chapter 03's
solution computes. They run on NumPy or CuPy arrays: the state is created
with the module of ``w`` (:func:`backproplab.backend.array_module`).
"""

from backproplab.backend import array_module

__all__ = ["adam", "adamw"]


def adam(w, dw, config):
    """Adam with bias correction (chapter 03, eqs. 10-11).

    config: "lr" (1e-3), "beta1" (0.9), "beta2" (0.999), "eps" (1e-8);
    state "m", "v" (w's shape, zeros if absent) and "t" (steps taken so far, 0 if absent), all updated.
    Returns (next_w, config).
    """
    xp = array_module(w)
    for key, default in (("lr", 1e-3), ("beta1", 0.9), ("beta2", 0.999), ("eps", 1e-8)):
        config.setdefault(key, default)
    beta1, beta2 = config["beta1"], config["beta2"]
    t = config.get("t", 0) + 1  # this step's number, counting from 1
    m = beta1 * config.get("m", xp.zeros_like(w)) + (1 - beta1) * dw
    v = beta2 * config.get("v", xp.zeros_like(w)) + (1 - beta2) * dw**2
    m_hat = m / (1 - beta1**t)  # bias correction
    v_hat = v / (1 - beta2**t)
    config.update(m=m, v=v, t=t)
    next_w = w - config["lr"] * m_hat / (xp.sqrt(v_hat) + config["eps"])
    return next_w, config


def adamw(w, dw, config):
    """AdamW (chapter 03, eq. 12): the Adam step on dw (the loss gradient without L2) plus lr * weight_decay * w.

    config: as adam's, plus "weight_decay" (default 1e-2). Returns (next_w, config).
    """
    config.setdefault("weight_decay", 1e-2)
    adam_w, config = adam(w, dw, config)  # the adaptive step, on the loss gradient only
    next_w = adam_w - config["lr"] * config["weight_decay"] * w  # decoupled decay
    return next_w, config
