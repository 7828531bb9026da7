"""Chapter 03's inverted dropout, given to later chapters as provided code.

In training mode each unit is kept with probability ``p`` and scaled by
``1/p``; in evaluation mode the layer is the identity (chapter 03, eq. 14;
seed 001, eqs. 2.42-2.46, where ``p`` is the keep probability).
``tests/test_ch03_oracle.py`` checks that it computes what chapter 03's
solution computes. It runs on NumPy or CuPy arrays: the mask is drawn with
the NumPy generator ``rng`` (so a seed gives the same mask on either) and
moved to where ``x`` lives, in ``x``'s dtype.
"""

from backproplab.backend import array_module

__all__ = ["dropout_forward", "dropout_backward"]


def dropout_forward(x, p, mode, rng):
    """Inverted dropout (chapter 03, eq. 14).

    x: array of any shape. p: keep probability in (0, 1]. mode: "train" or "eval".
    rng: a np.random.Generator; in "train" mode the mask is drawn with one call,
    keep = rng.random(x.shape) < p. In "eval" mode nothing is drawn and x is returned unchanged.
    Returns (out, cache): out has x's shape; cache holds what dropout_backward needs.
    """
    if mode == "train":
        keep = array_module(x).asarray(rng.random(x.shape) < p, dtype=x.dtype)
        mask = keep / p  # keep with probability p, scale by 1/p
        out = x * mask
    else:
        mask = None
        out = x
    return out, {"mask": mask, "p": p, "mode": mode}


def dropout_backward(dout, cache):
    """The backward pass of dropout_forward: dx = dout * (the forward pass's mask / p) in train mode, dout in eval.

    dout: upstream gradient, x's shape. Returns dx.
    """
    if cache["mode"] == "train":
        return dout * cache["mask"]
    return dout
