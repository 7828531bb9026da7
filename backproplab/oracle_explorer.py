"""Our layers against PyTorch's, side by side, with the classic copying mistakes to try (chapter 06).

:func:`oracle_explorer` takes the student's two copying functions,
``linear_from_ours(W, b) -> nn.Linear`` and ``conv2d_from_ours(w, b, stride, pad)
-> nn.Conv2d``, and shows three heat maps: what our layer computes (chapter 02's
``affine_forward`` / ``affine_backward``, chapter 04's ``conv_forward_naive`` /
``conv_backward_naive``), what the PyTorch layer the student's function built
computes on the same inputs, and their difference, with the relative error in
words. Menus choose the layer, the quantity (the output, or the input or weight
gradient for a random upstream gradient), the precision (float64 or float32), and the
way the weights are copied: as they should be, or with a classic mistake — the
panel hands the student's function weights that are transposed, reshaped,
flipped or swapped first, so that the layer holds what the mistaken copy
would hold. A slider draws new random inputs. (A layer's weight gradient,
X^T dout or its convolution analogue, does not depend on the weights: a
wrong copy shows in the output and the input gradient, never in dW.)

The module contains no exercise answer: the PyTorch layers come from the
student's functions, our layers from ``backproplab.layers`` and
``backproplab.conv_naive``. When a student's function raises (or returns
something that is not a layer), the panel says so in words instead of a
picture.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.conv_naive import conv_backward_naive, conv_forward_naive
from backproplab.gradcheck import rel_error
from backproplab.layers import affine_backward, affine_forward
from backproplab.plotting import control_row, png_output
from backproplab.student_code import latest

__all__ = [
    "oracle_explorer",
    "OracleExplorer",
    "LAYERS",
    "COPIES",
    "QUANTITIES",
    "PRECISIONS",
    "verdict",
]

LAYERS = (("dense layer (chapter 02)", "dense"), ("convolution (chapter 04)", "conv"))
COPIES = {
    "dense": (
        ("as it should be: W.T", "right"),
        ("no transpose at all (W is square)", "untransposed"),
        ("W.reshape(M, D) instead of W.T", "reshaped"),
    ),
    "conv": (
        ("as it should be: w as it is", "right"),
        ("kernels flipped (ROT180)", "flipped"),
        ("kernel rows and columns swapped", "swapped"),
    ),
}
QUANTITIES = (("output", "out"), ("input gradient dX", "dX"), ("weight gradient dW", "dW"))
PRECISIONS = (("float64", "float64"), ("float32", "float32"))
DENSE = 6  # N = D = M: a square W, so that a copy without any transpose still runs
IMAGE, KERNEL = 9, 3  # one 9x9 image, two channels in, two filters of 3x3, padding 1


def verdict(error, precision):
    """A sentence on a relative error: rounding of the precision, or a real disagreement."""
    rounding = 1e-10 if precision == "float64" else 1e-4
    if error <= rounding:
        return f"agrees: a relative error of {error:.1e} is rounding in {precision}"
    return f"disagrees: a relative error of {error:.2g} is far above {precision}'s rounding; the copy is wrong"


class OracleExplorer(widgets.VBox):
    """Menus for the layer, the copy, the quantity and the precision, a slider for the inputs, and three heat maps.

    Attributes: ``layer``, ``copy``, ``quantity``, ``precision`` (Dropdowns), ``seed`` (IntSlider),
    ``status`` (HTML: the relative error in words, or what went wrong), ``output`` (the figure),
    ``error`` (the last relative error, or ``None``).
    """

    def __init__(self, linear_from_ours, conv2d_from_ours):
        import torch  # noqa: F401  (PyTorch is needed; fail here, not on the first redraw)

        self.functions = {"dense": linear_from_ours, "conv": conv2d_from_ours}
        style = {"description_width": "initial"}
        wide = widgets.Layout(width="360px")
        self.layer = widgets.Dropdown(
            options=LAYERS, value="dense", description="layer", style=style
        )
        self.copy = widgets.Dropdown(
            options=COPIES["dense"], value="right", description="copy", style=style, layout=wide
        )
        self.quantity = widgets.Dropdown(
            options=QUANTITIES, value="out", description="compare", style=style
        )
        self.precision = widgets.Dropdown(
            options=PRECISIONS, value="float64", description="PyTorch in", style=style
        )
        self.seed = widgets.IntSlider(
            value=0, min=0, max=9, description="random inputs", style=style
        )
        self.status, self.output, self.error = widgets.HTML(), widgets.Output(), None
        self.layer.observe(self._new_layer, names="value")
        for control in (self.copy, self.quantity, self.precision, self.seed):
            control.observe(self.redraw, names="value")
        super().__init__(
            children=[
                control_row([self.layer, self.copy]),
                control_row([self.quantity, self.precision, self.seed]),
                self.status,
                self.output,
            ]
        )
        self.redraw()

    def _new_layer(self, change):
        """Offer the copies of the new layer (starting with the right one), then draw."""
        with self.copy.hold_trait_notifications():
            self.copy.options = COPIES[self.layer.value]
            self.copy.value = "right"
        self.redraw()

    def inputs(self):
        """The random inputs of the current layer and seed: (x, weights, bias, dout) as float64 arrays."""
        rng = np.random.default_rng(self.seed.value)
        if self.layer.value == "dense":
            return (
                rng.normal(size=(DENSE, DENSE)),
                rng.normal(size=(DENSE, DENSE)),
                rng.normal(size=DENSE),
                rng.normal(size=(DENSE, DENSE)),
            )
        return (
            rng.normal(size=(1, 2, IMAGE, IMAGE)),
            rng.normal(size=(2, 2, KERNEL, KERNEL)),
            rng.normal(size=2),
            rng.normal(size=(1, 2, IMAGE, IMAGE)),
        )

    def ours(self, x, w, b, dout):
        """Our layer's output, input gradient and weight gradient (float64), in our layout."""
        if self.layer.value == "dense":
            out, cache = affine_forward(x, w, b)
            return (out, *affine_backward(dout, cache)[:2])
        out, cache = conv_forward_naive(x, w, b, 1, 1)
        return (out, *conv_backward_naive(dout, cache)[:2])

    def handed_over(self, w):
        """The weights given to the student's function, so that its layer holds what the chosen copy holds."""
        copy = self.copy.value
        # the layer should hold W itself: hand over W.T, which a right copy transposes
        if copy == "untransposed":
            return w.T.copy()
        if copy == "reshaped":  # the layer should hold W.reshape(M, D)
            D, M = w.shape
            return w.reshape(M, D).T.copy()
        if copy == "flipped":
            return w[:, :, ::-1, ::-1].copy()
        if copy == "swapped":
            return w.transpose(0, 1, 3, 2).copy()
        return w

    def theirs(self, x, w, b, dout):
        """The student's PyTorch layer's output, input and weight gradient, in our layout (raises what the student's code raises)."""
        import torch

        dtype = torch.float64 if self.precision.value == "float64" else torch.float32
        kind = self.layer.value
        # the student may have finished it since the panel was built
        function = latest(self.functions[kind])
        layer = (
            function(self.handed_over(w), b)
            if kind == "dense"
            else function(self.handed_over(w), b, 1, 1)
        )
        wanted = torch.nn.Linear if kind == "dense" else torch.nn.Conv2d
        if not isinstance(layer, wanted):
            raise TypeError(
                f"it returned a {type(layer).__name__}, not a torch.nn.{wanted.__name__}"
            )
        layer = layer.to(dtype)
        tx = torch.tensor(x, dtype=dtype, requires_grad=True)
        out = layer(tx)
        out.backward(torch.as_tensor(dout, dtype=dtype))
        dW = layer.weight.grad.detach().double().numpy()
        return (
            out.detach().double().numpy(),
            tx.grad.double().numpy(),
            dW.T if kind == "dense" else dW,
        )

    def redraw(self, change=None):
        """Compare ours and theirs for the chosen settings, or say what went wrong."""
        x, w, b, dout = self.inputs()
        name = "linear_from_ours" if self.layer.value == "dense" else "conv2d_from_ours"
        try:
            theirs = self.theirs(x, w, b, dout)
        except Exception as exc:  # the student's code: show the reason, not a traceback
            self.error = None
            message = f"Your {name} could not be used: {type(exc).__name__}: {exc}".rstrip(": ")
            if isinstance(exc, NotImplementedError):
                exercise = 2 if self.layer.value == "dense" else 3
                message = f"Implement {name} (Exercise {exercise}) above first; then this panel compares its layer with ours."
            self.status.value = f"<b>{message}</b>"
            self.output.outputs = (
                {"output_type": "stream", "name": "stdout", "text": message + "\n"},
            )
            return
        index = [value for _, value in QUANTITIES].index(self.quantity.value)
        a, t = self.ours(x, w, b, dout)[index], theirs[index]
        if a.shape != t.shape:
            self.error = None
            message = f"Your {name}'s layer gives {self.quantity.label} of shape {t.shape}, ours {a.shape}."
            self.status.value = f"<b>{message}</b>"
            self.output.outputs = (
                {"output_type": "stream", "name": "stdout", "text": message + "\n"},
            )
            return
        self.error = rel_error(t, a)
        self.status.value = (
            f"{self.layer.label}, copied {self.copy.label}; {self.quantity.label}, PyTorch in "
            f"{self.precision.value}: {verdict(self.error, self.precision.value)}."
        )
        # one map: image 0, channel 0 (or filter 0, channel 0)
        shown = (a, t) if a.ndim == 2 else (a[0, 0], t[0, 0])
        self.output.outputs = (png_output(self._figure(*shown), self._alt(*shown)),)

    def _title(self):
        if self.layer.value == "dense":
            return {"out": "out = X W + b (N x M)", "dX": "dX (N x D)", "dW": "dW (D x M)"}[
                self.quantity.value
            ]
        return {"out": "out[0, 0] (9 x 9)", "dX": "dx[0, 0] (9 x 9)", "dW": "dw[0, 0] (3 x 3)"}[
            self.quantity.value
        ]

    def _alt(self, ours, theirs):
        """The figure in words, for screen readers."""
        return (
            f"Three heat maps of {self._title()}: our layer's, PyTorch's (copied {self.copy.label}, in "
            f"{self.precision.value}) and their difference, largest {np.abs(theirs - ours).max():.2g}; the relative "
            f"error is {self.error:.2g}."
        )

    def _figure(self, ours, theirs):
        """Ours, theirs and the difference, on one colour scale for the first two and a symmetric one for the last."""
        fig = Figure(figsize=(10.5, 3.4), layout="constrained")
        axes = fig.subplots(1, 3)
        limit = float(max(np.abs(ours).max(), np.abs(theirs).max(), 1e-12))
        diff = theirs - ours
        diff_limit = float(max(np.abs(diff).max(), 1e-300))
        for ax, data, title, lim in (
            (axes[0], ours, f"ours: {self._title()}", limit),
            (axes[1], theirs, "PyTorch's", limit),
            (axes[2], diff, f"PyTorch's - ours (max {np.abs(diff).max():.1e})", diff_limit),
        ):
            image = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            fig.colorbar(image, ax=ax, shrink=0.8)
        fig.suptitle(f"relative error {self.error:.1e}", fontsize=10)
        return fig


def oracle_explorer(linear_from_ours, conv2d_from_ours):
    """A panel comparing our dense and convolution layers with the PyTorch layers the student's functions build.

    linear_from_ours: ``(W (D, M), b (M,)) -> torch.nn.Linear`` computing X W + b.
    conv2d_from_ours: ``(w (F, C, KH, KW), b (F,), stride, pad) -> torch.nn.Conv2d``.
    Returns an :class:`OracleExplorer` (an ``ipywidgets.VBox``).
    """
    return OracleExplorer(linear_from_ours, conv2d_from_ours)
