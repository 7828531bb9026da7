"""The kernel explorer (chapter 04): a 3x3 kernel on a real photo, live.

:func:`kernel_explorer` builds a panel around the student's own layer
functions: a menu of canonical kernels (Xia, sec. 2.3, plus Sobel), a
3x3 grid of number boxes to edit the kernel cell by cell, menus for the
stride, the zero padding and an optional 2x2 pooling, a line with the sizes
of the input and of what the student's functions returned, and the picture
before and after. It calls

- ``conv_fn(x, w, b, stride, pad)`` with ``x`` of shape (1, 1, H, W), ``w`` of
  shape (1, 1, 3, 3) and ``b = [0.0]``, expecting ``(out, cache)`` with
  ``out`` of shape (1, 1, H', W') (the chapter's ``conv_forward_naive``);
- ``pool_fns[name](out, 2, 2)`` for the pooling picked (``"max"`` or
  ``"avg"``), expecting ``(pooled, cache)`` (``max_pool_forward_naive``,
  ``avg_pool_forward_naive``).

The module contains no exercise answer: it never computes a convolution, a
pooling or an output size itself; it draws and reports whatever the student's
functions return, and a function that raises or returns something unusable
is reported in words instead of a traceback.

The photo is matplotlib's bundled sample ``grace_hopper.jpg``, converted to
grey levels in [0, 1] and reduced by averaging blocks of pixels (8x8 by
default: 600x512 becomes 75x64), so that a loop implementation answers in a
fraction of a second (0.02 s for the chapter's solution, which loops over
output positions; about ten times that for one that loops over every weight).
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.panel import Panel
from backproplab.student_code import Unusable

__all__ = ["CANONICAL_KERNELS", "KernelExplorer", "kernel_explorer", "load_photo"]

#: The kernels of the menu, as 3x3 lists (rows top to bottom). "blur (as printed)"
#: is Xia's eq. (2.5), whose entries sum to 8; "blur" divides it by 8.
CANONICAL_KERNELS = {
    "identity": [[0, 0, 0], [0, 1, 0], [0, 0, 0]],
    "blur": [[0, 1 / 8, 0], [1 / 8, 4 / 8, 1 / 8], [0, 1 / 8, 0]],
    "blur (as printed)": [[0, 1, 0], [1, 4, 1], [0, 1, 0]],
    "sharpen": [[0, -1, 0], [-1, 5, -1], [0, -1, 0]],
    "edge": [[0, -1, 0], [-1, 4, -1], [0, -1, 0]],
    "Sobel vertical": [[1, 0, -1], [2, 0, -2], [1, 0, -1]],
    "Sobel horizontal": [[1, 2, 1], [0, 0, 0], [-1, -2, -1]],
}
CUSTOM = "custom"
PADDINGS = (("0 (valid)", 0), ("1 (half, for 3x3)", 1), ("2 (full, for 3x3)", 2))
POOLINGS = (("none", "none"), ("max 2x2, stride 2", "max"), ("average 2x2, stride 2", "avg"))


def load_photo(block=8):
    """Grace Hopper's photo (matplotlib's sample data) in grey levels in [0, 1].

    block: the side of the square blocks of pixels averaged into one; the
    600x512 photo becomes ``(600 // block, 512 // block)``.
    Returns a float64 array of shape (H, W).
    """
    from matplotlib import cbook, image

    rgb = (
        image.imread(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).astype(np.float64)
        / 255.0
    )
    grey = rgb[..., :3] @ np.array([0.299, 0.587, 0.114])  # ITU-R 601 luma
    H, W = grey.shape[0] // block, grey.shape[1] // block
    return grey[: H * block, : W * block].reshape(H, block, W, block).mean(axis=(1, 3))


class KernelExplorer(Panel):
    """Menus and a 3x3 kernel grid around the student's conv (and pooling) functions.

    Attributes: ``kernel_menu`` (Dropdown of :data:`CANONICAL_KERNELS` and
    ``"custom"``), ``cells`` (3x3 list of ``FloatText``), ``stride`` (Dropdown
    1-3), ``pad`` (Dropdown 0-2), ``pool`` (Dropdown ``"none"``, ``"max"``,
    ``"avg"``), ``size_label`` (HTML: the sizes), ``status`` (HTML: the output's
    range, or why nothing can be drawn), ``output`` (the figure), ``result``
    (the last 2-D array (H', W') drawn, or ``None``).
    """

    then = "come back to the explorer"

    def __init__(self, conv_fn, pool_fns, image, kernel, stride, pad, pool):
        self.conv_fn, self.pool_fns = conv_fn, dict(pool_fns or {})
        self.image = np.asarray(image, dtype=np.float64)
        self.result = None
        style = {"description_width": "7em"}  # one width for all four menus, so that they line up
        self.kernel_menu = widgets.Dropdown(
            options=list(CANONICAL_KERNELS) + [CUSTOM],
            value=kernel,
            description="kernel",
            style=style,
        )
        self.cells = [[_kernel_cell() for _ in range(3)] for _ in range(3)]
        self.stride = widgets.Dropdown(
            options=[1, 2, 3], value=stride, description="stride", style=style
        )
        self.pad = widgets.Dropdown(
            options=PADDINGS, value=pad, description="zero padding", style=style
        )
        pool_options = [p for p in POOLINGS if p[1] == "none" or p[1] in self.pool_fns]
        self.pool = widgets.Dropdown(
            options=pool_options, value=pool, description="pooling", style=style
        )
        self.size_label = widgets.HTML()
        super().__init__(self._rows(), watched=(self.stride, self.pad, self.pool))
        self._set_cells(kernel)
        self.kernel_menu.observe(self._kernel_picked, names="value")
        for cell in (cell for row in self.cells for cell in row):
            cell.observe(self._cell_edited, names="value")
        self.redraw()

    def _rows(self):
        """The menus beside the kernel grid, then the line of sizes."""
        grid_label = widgets.HTML("kernel weights: type a number, then Enter")
        grid = widgets.VBox([grid_label] + [widgets.HBox(row) for row in self.cells])
        menus = widgets.VBox([self.kernel_menu, self.stride, self.pad, self.pool])
        return [[menus, grid], [self.size_label]]

    @property
    def kernel(self):
        """The 3x3 kernel in the grid, as a float64 array."""
        return np.array([[cell.value for cell in row] for row in self.cells], dtype=np.float64)

    def _set_cells(self, name):
        """Write a canonical kernel into the grid without redrawing once per cell."""
        with self.held():
            for row, values in zip(self.cells, CANONICAL_KERNELS[name]):
                for cell, value in zip(row, values):
                    cell.value = float(value)

    def _kernel_picked(self, change):
        if change["new"] != CUSTOM:
            self._set_cells(change["new"])
        self.redraw()

    def _cell_edited(self, change):
        if self.holding:
            return
        if self.kernel_menu.value != CUSTOM:
            with self.held():  # the menu follows the grid; the grid keeps its values
                self.kernel_menu.value = CUSTOM
        self.redraw()

    def draw(self):
        """Call the student's latest functions with the current settings and draw what they return."""
        result, message, steps = self._run_layers()
        self.size_label.value = " &rarr; ".join(steps)
        self.result = None if result is None else result[0, 0]
        if result is None:
            self.show_message(message)
            return
        status = f"output values from {self.result.min():.3g} to {self.result.max():.3g}"
        title = " -> ".join(steps)
        figure = _figure(self.image, self.result, self.kernel, title)
        self.show_figure(figure, _alt(self.kernel, steps, self.result.shape), status)

    def _run_layers(self):
        """The convolution, then the pooling chosen: ``(out (1, 1, H', W') or None, message, steps)``."""
        stride, pad, pool = self.stride.value, self.pad.value, self.pool.value
        steps = [f"input {self.image.shape[0]}x{self.image.shape[1]}"]
        x, w = self.image[None, None], self.kernel[None, None]
        out, message = self.call(
            self.conv_fn, x, w, np.zeros(1), stride, pad, through=_layer_output
        )
        if out is None:
            return None, message, steps
        steps.append(f"conv (3x3, stride {stride}, padding {pad}) {_size(out)}")
        if pool == "none":
            return out, None, steps
        out, message = self.call(self.pool_fns[pool], out, 2, 2, through=_layer_output)
        if out is not None:
            steps.append(f"{pool}-pool (2x2, stride 2) {_size(out)}")
        return out, message, steps


def kernel_explorer(
    conv_fn, pool_fns=None, image=None, *, kernel="edge", stride=1, pad=1, pool="none"
):
    """A panel to try kernels, strides, paddings and pooling on a photo.

    conv_fn: ``conv_fn(x, w, b, stride, pad) -> (out, cache)``, e.g. the
        chapter's ``conv_forward_naive``.
    pool_fns: ``{"max": fn, "avg": fn}`` (either may be left out), each
        ``fn(x, pool_size, stride) -> (out, cache)``.
    image: a 2-D grey-level array (default: :func:`load_photo`).
    kernel, stride, pad, pool: the start values of the menus.
    Returns a :class:`KernelExplorer` (an ``ipywidgets.VBox``).
    """
    image = load_photo() if image is None else np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(
            f"the explorer draws a grey-level image of shape (H, W); got shape {image.shape}"
        )
    if kernel not in CANONICAL_KERNELS:
        raise ValueError(f"kernel must be one of {list(CANONICAL_KERNELS)}, not {kernel!r}")
    return KernelExplorer(conv_fn, pool_fns, image, kernel, stride, pad, pool)


def _kernel_cell():
    """One number box of the 3x3 kernel grid."""
    return widgets.FloatText(value=0.0, step=0.125, layout=widgets.Layout(width="70px"))


def _layer_output(fn, *args):
    """The ``out`` (1, 1, H', W') of ``fn(*args) -> (out, cache)``, or :class:`Unusable` saying why not."""
    returned = fn(*args)
    out = returned[0] if isinstance(returned, tuple) and len(returned) == 2 else returned
    try:
        out = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError):
        kind = type(out).__name__
        raise Unusable(f"should return (out, cache) with out a NumPy array, not {kind}.") from None
    if out.ndim != 4 or out.shape[:2] != (1, 1) or 0 in out.shape:
        raise Unusable(
            f"returned an array of shape {out.shape}; for one image and one filter it should be "
            "(1, 1, H', W')."
        )
    if not np.all(np.isfinite(out)):
        raise Unusable("returned nan or inf values.")
    return out


def _size(array):
    return f"{array.shape[2]}x{array.shape[3]}"


def _alt(kernel, steps, shape):
    """The figure in words, for screen readers."""
    rows = "; ".join(" ".join(f"{v:g}" for v in row) for row in kernel)
    return (
        f"Three panels: the photo in grey levels, the 3x3 kernel (rows: {rows}), and what your functions "
        f"returned, {shape[0]}x{shape[1]} pixels ({' then '.join(steps)})."
    )


def _figure(image, result, kernel, title):
    """The photo, the kernel and the result, side by side."""
    fig = Figure(figsize=(10, 3.9), layout="constrained")
    ax_in, ax_k, ax_out = fig.subplots(1, 3, width_ratios=[3, 1.4, 3])
    ax_in.imshow(image, cmap="gray", vmin=0.0, vmax=1.0)
    ax_in.set(title=f"input {image.shape[0]}x{image.shape[1]}", xlabel="column", ylabel="row")
    top = max(float(np.abs(kernel).max()), 1e-12)
    ax_k.imshow(kernel, cmap="RdBu_r", vmin=-top, vmax=top)
    for (i, j), value in np.ndenumerate(kernel):
        # readable on the dark ends of the map
        colour = "white" if abs(value) > 0.6 * top else "black"
        ax_k.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=9, color=colour)
    ax_k.set(title="kernel", xticks=range(3), yticks=range(3), xlabel="column", ylabel="row")
    ax_out.imshow(result, cmap="gray")  # scaled to its own range
    ax_out.set(title=f"output {result.shape[0]}x{result.shape[1]}", xlabel="column", ylabel="row")
    fig.suptitle(title, fontsize=9)
    return fig
