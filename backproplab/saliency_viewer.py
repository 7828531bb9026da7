"""A panel showing which pixels one prediction depends on: the student's saliency map (chapter 08).

:func:`saliency_viewer` takes a model, images, their labels, the student's
``saliency_map(model, X, y) -> (N, H, W)`` and the class names. For the image chosen with a
slider and the class chosen in a menu (the true class, or any other: which pixels would
make the model say *that*?) it draws the image, the saliency map of that class's score
(black at 0, white at the map's own maximum) and the map laid over the image.

The panel computes no exercise answer: the map is whatever the student's ``saliency_map``
returns. When it raises, or returns something that is not one (H, W) map for one image,
the panel says so in words.
"""

import html

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from backproplab.image_batches import image_batch, image_slider, student_array
from backproplab.panel import Panel
from backproplab.student_code import Unusable

__all__ = ["saliency_viewer", "SaliencyViewer", "TRUE_CLASS"]

TRUE_CLASS = -1  # the class menu's first entry: each image's own label


class SaliencyViewer(Panel):
    """An image slider and a class menu over the student's saliency maps.

    Attributes: ``image`` (IntSlider), ``target`` (Dropdown: :data:`TRUE_CLASS` or a class
    index), ``status`` (HTML: which score the map is of, and where it peaks, or what went
    wrong), ``output`` (the figure).
    """

    def __init__(self, model, X, y, saliency_map, class_names):
        self.model, self.X, self.y = model, X, y
        self.saliency_map, self.class_names = saliency_map, list(class_names)
        style = {"description_width": "initial"}
        self.image = image_slider(len(X))
        self.target = widgets.Dropdown(
            options=[("the true class", TRUE_CLASS)]
            + [(name, k) for k, name in enumerate(self.class_names)],
            value=TRUE_CLASS,
            description="saliency of the score of",
            style=style,
        )
        super().__init__([[self.image, self.target]], watched=(self.image, self.target))
        self.redraw()

    def chosen_class(self):
        """The class whose score the map is of, for the chosen image."""
        index = self.image.value
        return int(self.y[index]) if self.target.value == TRUE_CLASS else self.target.value

    def one_map(self, saliency_map, model, X, y):
        """``saliency_map``'s map for one image X (1, C, H, W), shape (H, W), or :class:`Unusable`."""
        result = saliency_map(model, X, y)
        maps = student_array(result, "saliencies")
        expected = (1, *X.shape[2:])
        if maps.shape != expected:
            raise Unusable(
                f"returned shape {tuple(maps.shape)} for one image of shape {tuple(X.shape)}; "
                f"expected {expected}: one map per image, the channels reduced by their maximum"
            )
        if not np.all(np.isfinite(maps)) or maps.min() < 0:
            raise Unusable(
                "returned a map with negative or non-finite values: a saliency is the absolute "
                "value of a gradient"
            )
        return maps[0]

    def draw(self):
        """Draw the chosen image, its saliency for the chosen class, and the overlay, or say why not."""
        index, target = self.image.value, self.chosen_class()
        image = self.X[index : index + 1]
        labels = torch.tensor([target])
        saliency, message = self.call(
            self.saliency_map, self.model, image, labels, through=self.one_map
        )
        if saliency is None:
            self.show_message(message)
            return
        truth, name = self.class_names[int(self.y[index])], self.class_names[target]
        row, column = np.unravel_index(np.argmax(saliency), saliency.shape)
        status = (
            f"image {index}, a <b>{html.escape(truth)}</b>: the saliency of the score of "
            f"<b>{html.escape(name)}</b> peaks at {saliency.max():.3g} (row {row}, column {column})"
        )
        alt = (
            f"Left: image {index}, a {truth}. Middle: the saliency map of the score of class {name}, "
            f"black at 0 and white at its maximum {saliency.max():.3g} (row {row}, column {column}). "
            "Right: the map in red over the image."
        )
        self.show_figure(self._figure(index, name, saliency), alt, status)

    def _figure(self, index, name, saliency):
        """Image, map, overlay, side by side."""
        picture = np.asarray(self.X[index, 0])
        scaled = saliency / saliency.max() if saliency.max() > 0 else saliency
        fig = Figure(figsize=(7.5, 2.8), layout="constrained")
        axes = fig.subplots(1, 3)
        axes[0].imshow(picture, cmap="gray")
        axes[0].set_title(f"image {index}", fontsize=9)
        axes[1].imshow(scaled, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        axes[1].set_title(f"saliency of '{name}'", fontsize=9)
        axes[2].imshow(picture, cmap="gray")
        axes[2].imshow(scaled, cmap="Reds", alpha=0.6 * scaled, vmin=0, vmax=1)
        axes[2].set_title("over the image", fontsize=9)
        for ax in axes:
            ax.set_axis_off()
        return fig


def saliency_viewer(model, X, y, saliency_map, class_names):
    """A panel: the student's saliency map of one image, for its true class or any other.

    model: a ``torch.nn.Module`` mapping (N, C, H, W) to logits (N, K).
    X: (N, C, H, W) float tensor of images; y: (N,) int64 true labels.
    saliency_map: the student's ``saliency_map(model, X, y) -> (N, H, W)``.
    class_names: K names. Returns a :class:`SaliencyViewer` (an ``ipywidgets.VBox``).
    """
    X = image_batch(X)
    if len(y) != len(X):
        raise ValueError(f"y has {len(y)} labels for {len(X)} images: give one label per image")
    return SaliencyViewer(model, X, torch.as_tensor(y), saliency_map, class_names)
