"""A viewer for the filters of a network's first convolution layer, during training (chapter 05).

The first layer's filters multiply the input image directly, so they are the
one part of a CNN that can be read as pictures (von Hacht, sec. 3.6.4).
:func:`filter_viewer` takes the snapshots of that layer's weights that a
training run saved, ``(F, C, K, K)`` each, and draws the ``F`` filters as a
grid of small images, with a slider over the snapshots. Each filter is
normalised to [0, 1] by the thesis' eq. (3.8),

.. math::
    w \\leftarrow \\frac{w - \\min(w)}{\\max(w) - \\min(w)},

with the minimum and maximum of that filter (``"per filter"``) or of all
filters of the snapshot (``"shared"``, to compare their sizes). One channel
is drawn in grey levels (0 black, 1 white), three channels as RGB. A filter
whose weights are all equal has no contrast to show and is drawn mid-grey.
A menu switches between the weights themselves and their change since the
first snapshot, ``W_t - W_0``: what training has added to the random start,
which early in training is much smaller than the start and invisible in it.

The module contains no exercise answer: it draws the arrays it is given.
Snapshots holding ``nan`` or ``inf`` (a training run that diverged) are
reported in words in the panel instead of a picture.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.panel import Panel

__all__ = ["filter_viewer", "FilterViewer", "normalise_filters", "SCALINGS", "SHOW"]

SCALINGS = (("per filter (eq. 3.8)", "per_filter"), ("one scale for all filters", "shared"))
SHOW = (("weights", "weights"), ("change since the first checkpoint", "change"))


def normalise_filters(bank, scaling="per_filter"):
    """Eq. (3.8): map a filter bank to [0, 1], per filter or with one scale for the whole bank.

    bank: (F, C, K, K) finite weights. scaling: ``"per_filter"`` or ``"shared"``.
    Returns (F, K, K) for one channel or (F, K, K, 3) for three (channels last, as imshow wants).
    A range of 0 (all weights equal) gives 0.5 everywhere.
    """
    axes = (1, 2, 3) if scaling == "per_filter" else (0, 1, 2, 3)
    low, high = bank.min(axis=axes, keepdims=True), bank.max(axis=axes, keepdims=True)
    span = high - low
    scaled = np.where(span > 0, (bank - low) / np.where(span > 0, span, 1.0), 0.5)
    return scaled[:, 0] if bank.shape[1] == 1 else scaled.transpose(0, 2, 3, 1)


class FilterViewer(Panel):
    """A slider over snapshots of a first-layer filter bank, and menus for what is drawn and how it is scaled.

    Attributes: ``snapshots`` (float array ``(T, F, C, K, K)``), ``steps`` (the
    training step of each snapshot), ``checkpoint`` (IntSlider from 1 to ``T``,
    opening on ``T``, the trained filters), ``show`` (Dropdown, :data:`SHOW`),
    ``scaling`` (Dropdown, :data:`SCALINGS`), ``status`` (HTML: what is shown,
    or why nothing is), ``output`` (the figure).
    """

    def __init__(self, snapshots, steps, columns):
        self.snapshots, self.steps, self.columns = snapshots, steps, columns
        style = {"description_width": "initial"}
        T = len(snapshots)
        self.checkpoint = widgets.IntSlider(
            value=T, min=1, max=T, description="checkpoint", style=style
        )
        self.show = widgets.Dropdown(options=SHOW, value="weights", description="show", style=style)
        self.scaling = widgets.Dropdown(
            options=SCALINGS, value="per_filter", description="scaling", style=style
        )
        controls = [self.checkpoint, self.show, self.scaling]
        super().__init__([controls], watched=controls)
        self.redraw()

    @property
    def index(self):
        """The index (0 to T - 1) of the snapshot the slider points at (it counts from 1)."""
        return self.checkpoint.value - 1

    def bank(self, index):
        """What is drawn for snapshot ``index``: its weights, or their change since the first snapshot (F, C, K, K)."""
        if self.show.value == "change":
            return self.snapshots[index] - self.snapshots[0]
        return self.snapshots[index]

    def draw(self):
        """Draw the snapshot, quantity and scaling chosen, or say why it cannot be drawn."""
        index, step = self.index, self.steps[self.index]
        bank = self.bank(index)
        if not np.all(np.isfinite(bank)):
            self.show_message(
                f"The filters at step {step} hold nan or inf values: the training diverged. "
                f"Try a smaller learning rate, then train again."
            )
            return
        self.show_figure(self._figure(bank, step), self._alt(bank, step), self._status(bank))

    def _status(self, bank):
        """The status line: which checkpoint, the weights' range and their largest change."""
        index, weights = self.index, self.snapshots[self.index]
        change_since_start = float(np.abs(weights - self.snapshots[0]).max())
        flat = int(np.sum(bank.max(axis=(1, 2, 3)) == bank.min(axis=(1, 2, 3))))
        return (
            f"checkpoint {index + 1} of {len(self.steps)} (step {self.steps[index]}): weights in "
            f"[{weights.min():.3g}, {weights.max():.3g}], largest change since step {self.steps[0]}: "
            f"{change_since_start:.3g}"
            + (f"; {flat} constant filter(s) drawn grey" if flat else "")
        )

    def _what(self):
        return (
            "filters"
            if self.show.value == "weights"
            else f"filter changes since step {self.steps[0]}"
        )

    def _alt(self, bank, step):
        """The figure in words, for screen readers."""
        colours = "grey levels" if bank.shape[1] == 1 else "colour"
        return (
            f"A grid of {len(bank)} small {bank.shape[-1]}x{bank.shape[-1]} images in {colours}: the first-layer "
            f"{self._what()} at step {step}, each scaled {self.scaling.label}, from black (smallest) to white (largest)."
        )

    def _figure(self, bank, step):
        """The F filters of one snapshot, normalised, as one mosaic image with a gap between filters."""
        mosaic = tile(normalise_filters(bank, self.scaling.value), self.columns)
        F, K = len(bank), bank.shape[-1]
        rows = -(-F // self.columns)
        fig = Figure(figsize=(0.8 * self.columns + 0.3, 0.95 * rows + 0.5), layout="constrained")
        ax = fig.subplots()
        ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
        for f in range(F):  # the filter's index in the band above it
            ax.text(
                (f % self.columns) * (K + 1) - 0.5,
                (f // self.columns) * (K + 2) + 0.5,
                str(f),
                fontsize=6.5,
                color="tab:blue",
                va="center",
            )
        ax.set_axis_off()
        ax.set_title(
            f"{F} first-layer {self._what()} ({K}x{K}) at step {step}, scaled {self.scaling.label}",
            fontsize=9,
        )
        return fig


def tile(images, columns):
    """Images (F, K, K) or (F, K, K, 3) in [0, 1] as one white mosaic, ``columns`` per row.

    Each filter sits below a band of 2 white rows (for its index) and 1 white column apart.
    """
    F, K = images.shape[:2]
    rows = -(-F // columns)
    mosaic = np.ones((rows * (K + 2), columns * (K + 1) - 1) + images.shape[3:])
    for f in range(F):
        top, left = (f // columns) * (K + 2) + 2, (f % columns) * (K + 1)
        mosaic[top : top + K, left : left + K] = images[f]
    return mosaic


def filter_viewer(snapshots, steps=None, *, columns=8):
    """A panel showing a first convolution layer's filters, snapshot by snapshot.

    snapshots: a sequence of filter banks, each ``(F, C, K, K)`` with ``C`` 1
        (grey) or 3 (RGB), e.g. the copies of the first layer's ``W`` a
        training run saved.
    steps: the training step of each snapshot (default ``0, 1, ..., T - 1``).
    columns: filters per row of the grid.
    Returns a :class:`FilterViewer` (an ``ipywidgets.VBox``).
    """
    try:
        stack = np.asarray([np.asarray(s, dtype=np.float64) for s in snapshots], dtype=np.float64)
    except (ValueError, TypeError) as exc:
        raise ValueError(
            f"all snapshots must be filter banks of one shape (F, C, K, K): {exc}"
        ) from None
    if stack.ndim != 5 or len(stack) == 0:
        raise ValueError(
            f"snapshots must be a non-empty list of filter banks (F, C, K, K); "
            f"got an array of shape {stack.shape}"
        )
    if stack.shape[2] not in (1, 3):
        raise ValueError(
            f"a filter bank (F, C, K, K) with C = {stack.shape[2]} channels cannot be drawn: "
            f"the viewer draws first-layer filters of grey (C = 1) or RGB (C = 3) images"
        )
    steps = list(range(len(stack))) if steps is None else [int(s) for s in steps]
    if len(steps) != len(stack):
        raise ValueError(f"got {len(steps)} step numbers for {len(stack)} snapshots")
    return FilterViewer(stack, steps, int(columns))
