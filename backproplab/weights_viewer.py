"""A viewer for the incoming weights of one hidden unit, as an image, during training.

A first fully connected layer with weights ``W`` of shape ``(D, H)`` (the
course's convention: ``out = X @ W + b``) gives hidden unit ``j`` the weight
vector ``W[:, j]``, one weight per input pixel. For 8x8 digits (``D = 64``)
that vector *is* an 8x8 image: where it is positive the unit is excited by
ink, where it is negative the unit is inhibited.

:func:`weights_viewer` takes the snapshots of ``W`` a training loop saved
(one per epoch) and shows, for the unit and epoch chosen with two sliders,

- the unit's weights at that epoch, reshaped to the image, and
- the change since the first snapshot, ``W_t[:, j] - W_0[:, j]``: what
  training added to the random start.

Both panels use a diverging colour map centred on 0, with one colour scale
per unit across all epochs, so that images of different epochs compare.
The module contains no exercise answer: it only draws arrays it is given.

The viewer opens on the unit whose weights training changed most (a unit
picked at random often hardly changes) and on the last epoch.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.panel import Panel

__all__ = ["weights_viewer", "WeightsViewer", "most_changed_unit"]


def most_changed_unit(stack):
    """The hidden unit whose incoming weights changed most from the first to the last snapshot.

    stack: (T, D, H) snapshots. Returns an index in ``range(H)`` (largest norm of ``W_T[:, j] - W_0[:, j]``).
    """
    return int(np.argmax(np.linalg.norm(stack[-1] - stack[0], axis=0)))


class WeightsViewer(Panel):
    """Two sliders (``unit``, ``epoch``) over snapshots of a first-layer weight matrix.

    Attributes: ``snapshots`` (float array ``(T, D, H)``), ``image_shape``,
    ``epochs`` (the epoch number of each snapshot, length ``T``),
    ``sliders`` (dict: ``"unit"``, an IntSlider, and ``"epoch"``, a
    SelectionSlider labelled with the epoch numbers whose value is the
    snapshot's index), ``output`` (the ``ipywidgets.Output`` holding the
    figure), ``status`` (an ``HTML`` line describing what is shown).
    """

    def __init__(self, snapshots, image_shape, unit, epochs):
        self.snapshots, self.image_shape, self.epochs = snapshots, image_shape, epochs
        style = {"description_width": "initial"}
        self.sliders = {
            "unit": widgets.IntSlider(
                value=unit,
                min=0,
                max=snapshots.shape[2] - 1,
                description="hidden unit",
                style=style,
            ),
            "epoch": widgets.SelectionSlider(
                options=[(str(epoch), index) for index, epoch in enumerate(epochs)],
                value=len(epochs) - 1,
                description="epoch",
                style=style,
            ),
        }
        super().__init__([self.sliders.values()], watched=self.sliders.values())
        self.redraw()

    def image(self, unit, index):
        """Unit ``unit``'s incoming weights in snapshot ``index``, shaped like the input image."""
        return self.snapshots[index][:, unit].reshape(self.image_shape)

    def change(self, unit, index):
        """What training changed in those weights since the first snapshot."""
        return self.image(unit, index) - self.image(unit, 0)

    def draw(self):
        """Redraw both panels for the slider values."""
        unit, index = self.sliders["unit"].value, self.sliders["epoch"].value
        weights, delta = self.image(unit, index), self.change(unit, index)
        most = (
            " (the unit training changed most)" if unit == most_changed_unit(self.snapshots) else ""
        )
        status = (
            f"hidden unit {unit}{most}, epoch {self.epochs[index]} of {self.epochs[-1]}: weights in "
            f"[{weights.min():.3f}, {weights.max():.3f}], "
            f"largest change since epoch {self.epochs[0]}: {np.abs(delta).max():.3f}"
        )
        alt = (
            f"Two {self.image_shape[0]}x{self.image_shape[1]} images: the incoming weights of hidden unit "
            f"{unit} at epoch {self.epochs[index]}, and their change since epoch {self.epochs[0]}; "
            "red is positive, blue negative, white zero."
        )
        self.show_figure(self._figure(unit, index), alt, status)

    def _figure(self, unit, index):
        """The two panels: the weights and the change since the first snapshot."""
        column = self.snapshots[:, :, unit]
        scale = max(float(np.abs(column).max()), 1e-12)
        delta_scale = max(float(np.abs(column - column[0]).max()), 1e-12)
        fig = Figure(figsize=(7.5, 3.4), layout="constrained")
        axes = fig.subplots(1, 2)
        panels = (
            (self.image(unit, index), scale, f"weights of unit {unit}, epoch {self.epochs[index]}"),
            (self.change(unit, index), delta_scale, f"change since epoch {self.epochs[0]}"),
        )
        for ax, (img, vmax, title) in zip(axes, panels):
            shown = ax.imshow(img, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
            ax.set(title=title, xticks=[], yticks=[])
            fig.colorbar(shown, ax=ax, shrink=0.8)
        return fig


def weights_viewer(snapshots, image_shape=(8, 8), unit=None, epochs=None):
    """A panel showing how one hidden unit's incoming weights change during training.

    snapshots: a sequence of first-layer weight matrices, each of shape
        ``(D, H)`` with ``D = prod(image_shape)`` (or one array ``(T, D, H)``),
        e.g. a copy of ``model.params["W1"]`` saved after every epoch.
    image_shape: how the ``D`` inputs form an image, ``(8, 8)`` for digits.
    unit: the hidden unit shown first (default: the one training changed
        most, :func:`most_changed_unit`). epochs: the epoch number of each
        snapshot (default ``0, 1, ..., T - 1``).
    Returns a :class:`WeightsViewer` (an ``ipywidgets.VBox``).
    """
    try:
        stack = np.asarray([np.asarray(s, dtype=float) for s in snapshots], dtype=float)
    except ValueError as exc:
        raise ValueError(f"all snapshots must have the same shape (D, H): {exc}") from None
    image_shape = tuple(int(n) for n in image_shape)
    size = int(np.prod(image_shape))
    if stack.ndim != 3 or stack.shape[0] == 0:
        raise ValueError(
            f"snapshots must be a non-empty list of (D, H) weight matrices; got an array of shape {stack.shape}"
        )
    if stack.shape[1] != size:
        hint = (
            ": is the matrix transposed? The course stores W as (D, H)"
            if stack.shape[2] == size
            else ""
        )
        raise ValueError(
            f"each snapshot has {stack.shape[1]} rows but an image {image_shape} has {size} pixels{hint}"
        )
    H = stack.shape[2]
    unit = most_changed_unit(stack) if unit is None else unit
    if not 0 <= unit < H:
        raise ValueError(f"unit must be between 0 and {H - 1}, got {unit}")
    epochs = list(range(len(stack))) if epochs is None else [int(e) for e in epochs]
    if len(epochs) != len(stack):
        raise ValueError(f"got {len(epochs)} epoch numbers for {len(stack)} snapshots")
    return WeightsViewer(stack, image_shape, int(unit), epochs)
