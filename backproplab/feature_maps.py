"""A panel showing what a backbone sees in one image, stage by stage, and what the model predicts (chapter 08).

:func:`feature_map_viewer` takes a model whose convolution stages are named
submodules (``stage1``, ``stage2``, ``stage3`` for :class:`backproplab.backbone.Backbone`),
a set of images and the student's ``predict_proba(model, X, batch_size)``. For
the image chosen with a slider it draws the image, the feature maps of the
chosen stage (each map min-max scaled on its own, from black to white; 16 maps
at a time, a menu pages through the channels or picks the 16 strongest, and the
status line says how many of how many are shown) and a bar chart of the five
classes ``predict_proba`` rates highest.

The panel computes no exercise answer: the probabilities are whatever the
student's ``predict_proba`` returns. When it raises, or returns something that
is not a row of probabilities, the panel says so in words and still shows the
feature maps. The feature maps are read with forward hooks, in eval mode under
``torch.no_grad()``, and every submodule's train/eval mode is restored.
"""

import html

import ipywidgets as widgets
import numpy as np
import torch
from matplotlib.figure import Figure

from backproplab.image_batches import image_batch, image_slider, student_array
from backproplab.panel import Panel, bold
from backproplab.student_code import Unusable

__all__ = ["feature_map_viewer", "FeatureMapViewer", "stage_maps", "map_pages", "MAX_MAPS"]

MAX_MAPS = 16
STRONGEST = "strongest"


def map_pages(count):
    """The choices of the maps menu for a stage of ``count`` maps: pages of MAX_MAPS channels, then the strongest.

    Returns ``[(label, value)]``: value the first channel of a page (int) or ``"strongest"``.
    """
    pages = [
        (f"channels {first}-{min(first + MAX_MAPS, count) - 1}", first)
        for first in range(0, count, MAX_MAPS)
    ]
    return pages + [(f"the {min(MAX_MAPS, count)} strongest", STRONGEST)]


def stage_maps(model, X, stages):
    """The outputs of the named submodules ``stages`` for X: ``{name: (N, C, H, W) NumPy array}``.

    X: (N, C_in, H_in, W_in). Runs the model once in eval mode under no_grad with forward
    hooks, then restores every submodule's mode.
    """
    modes = [(m, m.training) for m in model.modules()]
    maps, hooks = {}, []
    for name in stages:
        module = model.get_submodule(name)
        hooks.append(
            module.register_forward_hook(
                lambda mod, inp, out, name=name: maps.__setitem__(name, out)
            )
        )
    try:
        model.eval()
        with torch.no_grad():
            model(X)
    finally:
        for hook in hooks:
            hook.remove()
        for module, mode in modes:
            module.training = mode
    return {name: maps[name].detach().cpu().numpy() for name in stages}


class FeatureMapViewer(Panel):
    """An image slider, a stage menu and a maps menu over one model's feature maps and top-5 chart.

    Attributes: ``image`` (IntSlider), ``stage`` (Dropdown of stage names), ``shown_maps``
    (Dropdown, :func:`map_pages`: a page of channels or the strongest), ``maps``
    (``{stage: (N, C, H, W) array}``), ``status`` (HTML: the prediction and how many maps
    are shown, or what went wrong), ``output`` (the figure).
    """

    def __init__(self, model, X, y, predict_proba, class_names, stages):
        self.model, self.X, self.y = model, X, y
        self.predict_proba, self.class_names = predict_proba, list(class_names)
        self.maps = stage_maps(model, X, stages)
        style = {"description_width": "initial"}
        self.image = image_slider(len(X))
        self.stage = widgets.Dropdown(
            options=list(stages), value=stages[0], description="stage", style=style
        )
        self.shown_maps = widgets.Dropdown(
            options=map_pages(self.maps[stages[0]].shape[1]), description="maps", style=style
        )
        controls = [self.image, self.stage, self.shown_maps]
        super().__init__([controls], watched=(self.image, self.shown_maps))
        self.stage.observe(self._new_stage, names="value")
        self.redraw()

    def _new_stage(self, change):
        """Offer the new stage's pages of maps (keeping "strongest" if chosen), then draw once."""
        strongest = self.shown_maps.value == STRONGEST
        with self.held():
            self.shown_maps.options = map_pages(self.maps[change["new"]].shape[1])
            self.shown_maps.value = STRONGEST if strongest else 0
        self.redraw()

    def probability_row(self, predict_proba, model, X, batch_size):
        """``predict_proba``'s class probabilities for one image X (1, C, H, W), shape (K,), or :class:`Unusable`."""
        probs = predict_proba(model, X, batch_size)
        row = student_array(probs, "probabilities")
        K = len(self.class_names)
        if row.shape != (1, K):
            raise Unusable(
                f"returned shape {tuple(row.shape)} for one image; expected (1, {K}): "
                f"one row of {K} probabilities"
            )
        if not np.all(np.isfinite(row)) or row.min() < 0 or abs(row.sum() - 1) > 1e-4:
            raise Unusable(
                f"gives a row that sums to {row.sum():.4g} (min {row.min():.3g}): probabilities "
                "are >= 0 and sum to 1 over the classes (softmax over dim=1)"
            )
        return row[0]

    def draw(self):
        """Draw the chosen image's maps at the chosen stage and the top-5 chart, or say why not."""
        index, stage = self.image.value, self.stage.value
        maps = self.maps[stage][index]
        image = self.X[index : index + 1]
        probs, message = self.call(
            self.predict_proba, self.model, image, 1, through=self.probability_row
        )
        probs = message if probs is None else probs
        shown = self._chosen(maps)
        status = self._status(index, stage, maps, shown, probs)
        truth = self.class_names[int(self.y[index])]
        alt = self._alt(index, stage, maps, shown, probs, truth)
        self.show_figure(self._figure(index, stage, maps, shown, probs), alt, status)

    def _status(self, index, stage, maps, shown, probs):
        """The status line: the prediction (or why there is none) and which maps are shown."""
        counted = (
            f"{stage}: {len(shown)} of {maps.shape[0]} maps of {maps.shape[1]}x{maps.shape[2]} "
            f"shown ({self.shown_maps.label})"
        )
        if isinstance(probs, str):
            return f"{bold(probs)}; {counted}"
        best, truth = int(np.argmax(probs)), self.class_names[int(self.y[index])]
        return (
            f"image {index}: true class <b>{html.escape(truth)}</b>, predicted "
            f"<b>{html.escape(self.class_names[best])}</b> with probability {probs[best]:.3f}; "
            + counted
        )

    def _chosen(self, maps):
        """Indices of the maps drawn: a page of MAX_MAPS channels, or the MAX_MAPS with the largest mean."""
        if self.shown_maps.value == STRONGEST:
            return np.argsort(-maps.mean(axis=(1, 2)), kind="stable")[:MAX_MAPS]
        first = self.shown_maps.value
        return np.arange(first, min(first + MAX_MAPS, len(maps)))

    def _alt(self, index, stage, maps, shown, probs, truth):
        """The figure in words, for screen readers."""
        text = (
            f"Left: image {index}, a {truth}. Middle: {len(shown)} of the {maps.shape[0]} feature maps of {stage}, "
            f"{maps.shape[1]}x{maps.shape[2]} each ({self.shown_maps.label}), black low, white high. "
        )
        if isinstance(probs, str):
            return text + "Right: no prediction chart, because " + probs
        top = np.argsort(-probs, kind="stable")[:5]
        return (
            text
            + "Right: the five most probable classes: "
            + ", ".join(f"{self.class_names[k]} {probs[k]:.2f}" for k in top)
        )

    def _figure(self, index, stage, maps, shown, probs):
        """Image, a 4x4 grid of maps, and the top-5 bars, side by side."""
        fig = Figure(figsize=(9.5, 3.4), layout="constrained")
        grid = fig.add_gridspec(4, 10)
        ax_image = fig.add_subplot(grid[:, 0:2])
        ax_image.imshow(np.asarray(self.X[index, 0]), cmap="gray", vmin=0, vmax=1)
        ax_image.set_title(f"image {index}", fontsize=9)
        ax_image.set_axis_off()
        for slot, channel in enumerate(shown):
            ax = fig.add_subplot(grid[slot // 4, 2 + slot % 4])
            fmap = maps[channel]
            span = fmap.max() - fmap.min()
            ax.imshow(
                (fmap - fmap.min()) / span if span > 0 else np.full_like(fmap, 0.5),
                cmap="gray",
                vmin=0,
                vmax=1,
                interpolation="nearest",
            )
            ax.set_title(str(int(channel)), fontsize=6, pad=1)
            ax.set_axis_off()
        ax_bars = fig.add_subplot(grid[:, 6:])
        if isinstance(probs, str):
            ax_bars.text(
                0.5,
                0.5,
                "no prediction:\nsee the message above",
                ha="center",
                va="center",
                fontsize=9,
            )
            ax_bars.set_axis_off()
        else:
            top = np.argsort(-probs, kind="stable")[:5][::-1]
            colours = ["tab:green" if k == int(self.y[index]) else "tab:blue" for k in top]
            ax_bars.barh([self.class_names[k] for k in top], probs[top], color=colours)
            ax_bars.set_xlim(0, 1)
            ax_bars.set_xlabel("probability (green: the true class)", fontsize=8)
            ax_bars.tick_params(labelsize=8)
            ax_bars.set_title("top-5 predictions", fontsize=9)
        fig.suptitle(
            f"{stage}: {len(shown)} of {len(maps)} maps, {self.shown_maps.label}",
            fontsize=9,
        )
        return fig


def feature_map_viewer(
    model, X, y, predict_proba, class_names, stages=("stage1", "stage2", "stage3")
):
    """A panel: one image's feature maps stage by stage, and the model's top-5 classes for it.

    model: a ``torch.nn.Module`` whose submodules named in ``stages`` output (N, C, H, W) maps.
    X: (N, 1, H, W) float tensor of images in [0, 1]; y: (N,) int64 true labels.
    predict_proba: the student's ``predict_proba(model, X, batch_size) -> (N, K)`` probabilities.
    class_names: K names. Returns a :class:`FeatureMapViewer` (an ``ipywidgets.VBox``).
    """
    X = image_batch(X)
    missing = [s for s in stages if not _has_submodule(model, s)]
    if missing:
        raise ValueError(
            f"the model has no submodule named {', '.join(missing)}; "
            f"its children are {', '.join(n for n, _ in model.named_children())}"
        )
    return FeatureMapViewer(model, X, torch.as_tensor(y), predict_proba, class_names, stages)


def _has_submodule(model, name):
    try:
        model.get_submodule(name)
    except AttributeError:
        return False
    return True
