"""Our layers against PyTorch's, side by side, with the classic copying mistakes to try (chapter 07).

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
from backproplab.panel import Panel
from backproplab.student_code import Unusable

__all__ = [
    "oracle_explorer",
    "OracleExplorer",
    "LAYERS",
    "COPIES",
    "QUANTITIES",
    "PRECISIONS",
    "verdict",
    "difference_limit",
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
#: The largest relative error that is still rounding, by precision.
ROUNDING = {"float64": 1e-10, "float32": 1e-4}


def difference_limit(diff, limit, precision):
    """The colour limit of the difference map: its largest entry, but never below rounding.

    diff: the difference map; limit: the largest |value| of ours and theirs. Below
    ``ROUNDING[precision] * 2 * limit`` (rel_error's threshold), a difference is
    rounding and should look white, not saturated.
    """
    return max(float(np.abs(diff).max()), ROUNDING[precision] * 2 * limit)


def verdict(error, precision):
    """A sentence on a relative error: rounding of the precision, or a real disagreement."""
    if error <= ROUNDING[precision]:
        return f"agrees: a relative error of {error:.1e} is rounding in {precision}"
    return f"disagrees: a relative error of {error:.2g} is far above {precision}'s rounding; the copy is wrong"


class OracleExplorer(Panel):
    """Menus for the layer, the copy, the quantity and the precision, a slider for the inputs, and three heat maps.

    Attributes: ``layer``, ``copy``, ``quantity``, ``precision`` (Dropdowns), ``seed`` (IntSlider),
    ``status`` (HTML: the relative error in words, or what went wrong), ``output`` (the figure),
    ``error`` (the last relative error, or ``None``).
    """

    def __init__(self, linear_from_ours, conv2d_from_ours):
        import torch  # noqa: F401  (PyTorch is needed; fail here, not on the first redraw)

        self.functions = {"dense": linear_from_ours, "conv": conv2d_from_ours}
        self.error = None
        style = {"description_width": "initial"}
        self.layer = widgets.Dropdown(
            options=LAYERS, value="dense", description="layer", style=style
        )
        self.copy = widgets.Dropdown(
            options=COPIES["dense"],
            value="right",
            description="copy",
            style=style,
            layout=widgets.Layout(width="360px"),
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
        rows = [[self.layer, self.copy], [self.quantity, self.precision, self.seed]]
        super().__init__(rows, watched=(self.copy, self.quantity, self.precision, self.seed))
        self.layer.observe(self._new_layer, names="value")
        self.redraw()

    def _new_layer(self, change):
        """Offer the copies of the new layer (starting with the right one), then draw once."""
        with self.held():
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

    def theirs(self, function, x, w, b, dout):
        """The output, input and weight gradient of the PyTorch layer ``function`` builds, in our layout.

        function: the student's ``linear_from_ours`` or ``conv2d_from_ours``, given the
        weights of :meth:`handed_over`. Raises what the student's code raises, or :class:`Unusable`.
        """
        import torch

        dtype = torch.float64 if self.precision.value == "float64" else torch.float32
        dense = self.layer.value == "dense"
        layer = (
            function(self.handed_over(w), b) if dense else function(self.handed_over(w), b, 1, 1)
        )
        wanted = torch.nn.Linear if dense else torch.nn.Conv2d
        if not isinstance(layer, wanted):
            raise Unusable(f"returned a {type(layer).__name__}, not a torch.nn.{wanted.__name__}")
        layer = layer.to(dtype)
        tx = torch.tensor(x, dtype=dtype, requires_grad=True)
        out = layer(tx)
        out.backward(torch.as_tensor(dout, dtype=dtype))
        dW = layer.weight.grad.detach().double().numpy()
        return out.detach().double().numpy(), tx.grad.double().numpy(), dW.T if dense else dW

    def compared(self, function, x, w, b, dout):
        """Ours and theirs for the chosen quantity, two arrays of one shape, or :class:`Unusable`."""
        index = [value for _, value in QUANTITIES].index(self.quantity.value)
        ours, theirs = self.ours(x, w, b, dout)[index], self.theirs(function, x, w, b, dout)[index]
        if ours.shape != theirs.shape:
            raise Unusable(
                f"built a layer whose {self.quantity.label} has shape {theirs.shape}; "
                f"ours has {ours.shape}."
            )
        return ours, theirs

    def draw(self):
        """Compare ours and theirs for the chosen settings, or say what went wrong."""
        pair, message = self.call(
            self.functions[self.layer.value], *self.inputs(), through=self.compared
        )
        self.error = None if pair is None else rel_error(pair[1], pair[0])
        if pair is None:
            self.show_message(message)
            return
        status = (
            f"{self.layer.label}, copied {self.copy.label}; {self.quantity.label}, PyTorch in "
            f"{self.precision.value}: {verdict(self.error, self.precision.value)}."
        )
        # one map: image 0, channel 0 (or filter 0, channel 0)
        shown = pair if pair[0].ndim == 2 else (pair[0][0, 0], pair[1][0, 0])
        self.show_figure(self._figure(*shown), self._alt(*shown), status)

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
        difference = self._difference_title(theirs - ours).split("\n")[1]
        return (
            f"Three heat maps of {self._title()}: our layer's, PyTorch's (copied {self.copy.label}, "
            f"in {self.precision.value}) and their difference, {difference}; the relative error "
            f"is {self.error:.2g}."
        )

    def _figure(self, ours, theirs):
        """Ours and theirs on one colour scale; their difference on a symmetric scale no narrower than rounding."""
        fig = Figure(figsize=(10.5, 3.4), layout="constrained")
        limit = float(max(np.abs(ours).max(), np.abs(theirs).max(), 1e-12))
        diff = theirs - ours
        panels = (
            (ours, f"ours: {self._title()}", limit),
            (theirs, "PyTorch's", limit),
            (
                diff,
                self._difference_title(diff),
                difference_limit(diff, limit, self.precision.value),
            ),
        )
        for ax, (data, title, lim) in zip(fig.subplots(1, 3), panels):
            image = ax.imshow(data, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
            ax.set_title(title, fontsize=9)
            ax.set(xticks=[], yticks=[])
            fig.colorbar(image, ax=ax, shrink=0.8)
        fig.suptitle(f"relative error {self.error:.1e}", fontsize=10)
        return fig

    def _difference_title(self, diff):
        """The difference panel's title: its largest entry, and whether that is only rounding."""
        largest = float(np.abs(diff).max())
        rounding = self.error <= ROUNDING[self.precision.value]
        words = f"PyTorch's - ours\nmax |difference| {largest:.0e}"
        return words + (": equal to rounding" if rounding else "")


def oracle_explorer(linear_from_ours, conv2d_from_ours):
    """A panel comparing our dense and convolution layers with the PyTorch layers the student's functions build.

    linear_from_ours: ``(W (D, M), b (M,)) -> torch.nn.Linear`` computing X W + b.
    conv2d_from_ours: ``(w (F, C, KH, KW), b (F,), stride, pad) -> torch.nn.Conv2d``.
    Returns an :class:`OracleExplorer` (an ``ipywidgets.VBox``).
    """
    return OracleExplorer(linear_from_ours, conv2d_from_ours)
