"""What the panels over a batch of images share (chapter 08's feature maps and saliency): the
batch checked and made float32, the slider that picks one image of it, and a student's
tensor read back as an array."""

import ipywidgets as widgets
import numpy as np
import torch

from backproplab.student_code import Unusable

__all__ = ["image_batch", "image_slider", "student_array"]


def image_batch(X):
    """``X`` as a float32 tensor (N, C, H, W); a ValueError that says what to give otherwise."""
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 4 or len(X) == 0:
        raise ValueError(
            f"X must be a non-empty batch of images (N, C, H, W); got shape {tuple(X.shape)}"
        )
    return X


def image_slider(count):
    """A slider over the images 0 to ``count - 1``, starting at 0."""
    return widgets.IntSlider(
        value=0,
        min=0,
        max=count - 1,
        description="image",
        style={"description_width": "initial"},
        layout=widgets.Layout(width="320px"),
    )


def student_array(result, what):
    """A student function's ``result`` (a tensor, array or list) as a float64 array, or
    :class:`~backproplab.student_code.Unusable` saying it is not a tensor of ``what``."""
    try:
        return np.asarray(torch.as_tensor(result).detach().cpu(), dtype=np.float64)
    except (TypeError, ValueError, RuntimeError) as exc:
        kind = type(result).__name__
        raise Unusable(f"returned {kind}, not a tensor of {what} ({exc})") from None
