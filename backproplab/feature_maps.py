"""A panel showing what a backbone sees in one image, stage by stage, and what the model predicts (chapter 07).

:func:`feature_map_viewer` takes a model whose convolution stages are named
submodules (``stage1``, ``stage2``, ``stage3`` for :class:`backproplab.backbone.Backbone`),
a set of images and the student's ``predict_proba(model, X, batch_size)``. For
the image chosen with a slider it draws the image, the feature maps of the
chosen stage (each map min-max scaled on its own, from black to white; up to
16 maps, in channel order or strongest first) and a bar chart of the five
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

from backproplab.plotting import control_row, png_output
from backproplab.student_code import call_student

__all__ = ["feature_map_viewer", "FeatureMapViewer", "stage_maps", "ORDERS", "MAX_MAPS"]

ORDERS = (("channel order", "channel"), ("strongest first", "strongest"))
MAX_MAPS = 16


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


class FeatureMapViewer(widgets.VBox):
    """An image slider, a stage menu and an order menu over one model's feature maps and top-5 chart.

    Attributes: ``image`` (IntSlider), ``stage`` (Dropdown of stage names), ``order``
    (Dropdown, :data:`ORDERS`), ``status`` (HTML: the prediction, or what went wrong),
    ``output`` (the figure).
    """

    def __init__(self, model, X, y, predict_proba, class_names, stages):
        self.model, self.X, self.y = model, X, y
        self.predict_proba, self.class_names, self.stages = (
            predict_proba,
            list(class_names),
            list(stages),
        )
        self.maps = stage_maps(model, X, self.stages)
        style = {"description_width": "initial"}
        self.image = widgets.IntSlider(
            value=0,
            min=0,
            max=len(X) - 1,
            description="image",
            style=style,
            layout=widgets.Layout(width="320px"),
        )
        self.stage = widgets.Dropdown(
            options=self.stages, value=self.stages[0], description="stage", style=style
        )
        self.order = widgets.Dropdown(
            options=ORDERS, value="channel", description="maps in", style=style
        )
        self.status, self.output = widgets.HTML(), widgets.Output()
        for control in (self.image, self.stage, self.order):
            control.observe(self.redraw, names="value")
        super().__init__(
            children=[control_row([self.image, self.stage, self.order]), self.status, self.output]
        )
        self.redraw()

    def probabilities(self, index):
        """The student's class probabilities for image ``index`` (a NumPy row), or an error message (str)."""
        probs, message = call_student(self.predict_proba, self.model, self.X[index : index + 1], 1)
        if message:
            return message
        try:
            row = np.asarray(torch.as_tensor(probs).detach().cpu(), dtype=np.float64)
        except (TypeError, ValueError, RuntimeError) as exc:
            return f"predict_proba returned {type(probs).__name__}, not a tensor of probabilities ({exc})"
        K = len(self.class_names)
        if row.shape != (1, K):
            return f"predict_proba returned shape {tuple(row.shape)} for one image; expected (1, {K}): one row of {K} probabilities"
        if not np.all(np.isfinite(row)) or row.min() < 0 or abs(row.sum() - 1) > 1e-4:
            return (
                f"predict_proba's row for this image sums to {row.sum():.4g} (min {row.min():.3g}): "
                f"probabilities are >= 0 and sum to 1 over the classes (softmax over dim=1)"
            )
        return row[0]

    def redraw(self, change=None):
        """Draw the chosen image's maps at the chosen stage and the top-5 chart, or say why not."""
        index, stage = self.image.value, self.stage.value
        maps = self.maps[stage][index]
        probs = self.probabilities(index)
        truth = self.class_names[int(self.y[index])]
        if isinstance(probs, str):
            self.status.value = f"<b>{html.escape(probs)}</b> (the feature maps are shown anyway)"
        else:
            best = int(np.argmax(probs))
            self.status.value = (
                f"image {index}: true class <b>{html.escape(truth)}</b>, predicted "
                f"<b>{html.escape(self.class_names[best])}</b> with probability {probs[best]:.3f}; "
                f"{stage}: {maps.shape[0]} maps of {maps.shape[1]}x{maps.shape[2]}"
            )
        shown = self._chosen(maps)
        fig = self._figure(index, stage, maps, shown, probs)
        self.output.outputs = (png_output(fig, self._alt(index, stage, maps, shown, probs, truth)),)

    def _chosen(self, maps):
        """Indices of the maps drawn: the first MAX_MAPS channels, or the MAX_MAPS with the largest mean."""
        if self.order.value == "strongest":
            return np.argsort(-maps.mean(axis=(1, 2)), kind="stable")[:MAX_MAPS]
        return np.arange(min(MAX_MAPS, len(maps)))

    def _alt(self, index, stage, maps, shown, probs, truth):
        """The figure in words, for screen readers."""
        text = (
            f"Left: image {index}, a {truth}. Middle: {len(shown)} of the {maps.shape[0]} feature maps of {stage}, "
            f"{maps.shape[1]}x{maps.shape[2]} each, {self.order.label}, black low, white high. "
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
            f"{stage}: maps {'by channel' if self.order.value == 'channel' else 'strongest first'}",
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
    X = torch.as_tensor(X, dtype=torch.float32)
    if X.ndim != 4 or len(X) == 0:
        raise ValueError(
            f"X must be a non-empty batch of images (N, C, H, W); got shape {tuple(X.shape)}"
        )
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
