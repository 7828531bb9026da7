"""Interactive explorers for the notebooks (ipywidgets + matplotlib).

:func:`optimisation_explorer` builds a panel of sliders (learning rate, number
of epochs, momentum, start point) that reruns a training function the student
wrote and redraws two plots: the cost per step and the path of the weights in
the :math:`(w_1, w_2)` plane over contour lines of the cost

.. math::
    C(w_1, w_2) = \\tfrac12\\,(y - x_1 w_1 - x_2 w_2 - b_0)^2

at the starting bias :math:`b_0`. The module contains no exercise answer: it
only calls the function it is given and draws what comes back.

The explorer is a :class:`backproplab.panel.Panel`: it calls the student's
latest ``train_momentum`` at each redraw, so implementing it after the panel
was built is enough.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.panel import Panel, learning_rate_slider
from backproplab.plotting import CONTOUR_CMAP
from backproplab.student_code import Unusable

__all__ = ["optimisation_explorer", "OptimisationExplorer"]

_HISTORY_KEYS = ("W", "b", "z", "cost")


class OptimisationExplorer(Panel):
    """Sliders + plots around ``train_fn(X, y, W, b, lr, mu, num_epochs)``.

    Attributes: ``sliders`` (dict of slider widgets by name: ``lr``,
    ``num_epochs``, ``mu``, ``w1``, ``w2``, ``b``), ``output`` (the
    ``ipywidgets.Output`` holding the figure), ``status`` (an ``HTML`` line:
    final cost, or why nothing is drawn), ``history`` (the last history dict
    of arrays, ``"W"`` (n+1, 2), ``"b"``, ``"z"``, ``"cost"`` (n+1,), or ``None``).
    """

    then = "move a slider"

    def __init__(self, train_fn, X, y, W0, b0, lr, num_epochs, mu):
        self.train_fn, self.X, self.y = train_fn, np.asarray(X, float), float(y)
        self.sliders = _make_sliders(W0, b0, lr, num_epochs, mu)
        self.history = None
        rows = [[self.sliders[k] for k in names] for names in (("lr",), ("num_epochs", "mu"))]
        rows.append([self.sliders[k] for k in ("w1", "w2", "b")])
        super().__init__(rows, watched=self.sliders.values())
        self.redraw()

    def draw(self):
        """Rerun the student's latest ``train_fn`` with the slider values and redraw the plots."""
        s = {name: slider.value for name, slider in self.sliders.items()}
        W0, b0 = np.array([s["w1"], s["w2"]]), float(s["b"])
        run = (self.X, self.y, W0.copy(), b0, s["lr"], s["mu"], int(s["num_epochs"]))
        self.history, message = self.call(self.train_fn, *run, through=_history)
        if self.history is None:
            self.show_message(message)
            return
        cost, diverged = self.history["cost"], _diverged(self.history["cost"])
        figure = _figure(self.history, self.X, self.y, W0, b0, diverged)
        self.show_figure(figure, _alt(cost, W0, b0, diverged), _summary(cost, diverged))


def optimisation_explorer(train_fn, X, y, W0, b0, *, lr=0.01, num_epochs=15, mu=0.0):
    """A panel to explore gradient descent (with momentum) on one example.

    train_fn: ``train_fn(X, y, W, b, lr, mu, num_epochs)`` returning a dict
        with ``"W"`` (num_epochs+1, 2), ``"b"``, ``"z"`` and ``"cost"``
        (num_epochs+1,), e.g. the chapter's ``train_momentum``.
    X: inputs, shape (2,); y: target (float); W0: start weights, shape (2,);
    b0: start bias (float). lr, num_epochs, mu: the sliders' start values.
    Returns an :class:`OptimisationExplorer` (an ``ipywidgets.VBox``).
    """
    X = np.asarray(X, dtype=float)
    if X.shape != (2,) or np.shape(W0) != (2,):
        raise ValueError(
            f"the explorer draws the (w1, w2) plane, so X and W0 need shape (2,); "
            f"got X {X.shape} and W0 {np.shape(W0)}"
        )
    return OptimisationExplorer(train_fn, X, y, W0, b0, lr, num_epochs, mu)


def _make_sliders(W0, b0, lr, num_epochs, mu):
    """The six sliders, by name, set to the given start values."""
    style = {"description_width": "initial"}

    def start(name, value):
        return widgets.FloatSlider(
            value=float(value),
            min=-3.0,
            max=3.0,
            step=0.05,
            description=f"start {name}",
            style=style,
        )

    return {
        "lr": learning_rate_slider(lr, -4),
        "num_epochs": widgets.IntSlider(
            value=num_epochs, min=1, max=200, description="epochs", style=style
        ),
        "mu": widgets.FloatSlider(
            value=mu, min=0.0, max=0.99, step=0.01, description="momentum mu", style=style
        ),
        "w1": start("w1", W0[0]),
        "w2": start("w2", W0[1]),
        "b": start("b", b0),
    }


def _history(train_fn, *args):
    """Call ``train_fn(*args)``; its history as float arrays, or :class:`Unusable` if keys are missing."""
    history = train_fn(*args)
    missing = [key for key in _HISTORY_KEYS if not isinstance(history, dict) or key not in history]
    if missing:
        raise Unusable(f"returned a history without the keys {missing}.")
    return {key: np.asarray(history[key], dtype=float) for key in _HISTORY_KEYS}


def _diverged(cost):
    """True when the cost is not finite or ends higher than it started."""
    return bool(not np.all(np.isfinite(cost)) or cost[-1] > cost[0])


def _summary(cost, diverged):
    """The status line under the sliders."""
    if diverged:
        return "<b style='color:#b00'>diverged</b>: the cost grows (is the learning rate above the stable limit?)"
    return f"cost after {len(cost) - 1} steps: {cost[-1]:.3e} (start {cost[0]:.3e})"


def _figure(history, X, y, W0, b0, diverged):
    """The two panels: cost per step (log scale) and the (w1, w2) path."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax_cost, ax_path = fig.subplots(1, 2)
    _plot_cost(ax_cost, history["cost"], diverged)
    _plot_path(ax_path, history["W"], X, y, W0, b0)
    return fig


def _plot_cost(ax, cost, diverged):
    """Cost against the step number, non-finite values left out."""
    steps = np.arange(len(cost))
    ok = np.isfinite(cost) & (cost > 0) & (cost < 1e100)  # beyond: off the chart
    ax.semilogy(steps[ok], cost[ok], "o-", ms=3)
    ax.set(xlabel="step n", ylabel="cost C", title="cost per step")
    if diverged:
        ax.text(
            0.5,
            0.9,
            "diverged",
            transform=ax.transAxes,
            ha="center",
            color="#b00",
            fontsize=14,
            fontweight="bold",
        )


def _plot_path(ax, W_hist, X, y, W0, b0):
    """The weights' path over contours of the cost at the starting bias."""
    W_hist = W_hist[np.all(np.isfinite(W_hist), axis=1)]
    W_hist = W_hist[np.all(np.abs(W_hist - W0) < 50, axis=1)]  # clip a blow-up
    target = W0 + X * (y - X @ W0 - b0) / max(X @ X, 1e-12)  # nearest zero-cost point
    box = np.vstack([W_hist, W0, target])
    centre = (box.min(axis=0) + box.max(axis=0)) / 2
    half = (box.max(axis=0) - box.min(axis=0)).max() / 2 + 0.3  # a square view
    grid = np.linspace(-half, half, 160)
    w1, w2 = np.meshgrid(centre[0] + grid, centre[1] + grid)
    surface = 0.5 * (y - X[0] * w1 - X[1] * w2 - b0) ** 2
    top = surface.max()
    if top > 0:  # contours evenly spaced in |y - z|; the darkest is the valley C = 0
        levels = top * np.linspace(0.01, 0.95, 10) ** 2
        ax.contour(w1, w2, surface, levels=levels, cmap=CONTOUR_CMAP, linewidths=0.8)
    ax.plot(W_hist[:, 0], W_hist[:, 1], "o-", color="#c33", ms=3, label="path")
    ax.plot(*W0, "ks", label="start")
    ax.set_aspect("equal", adjustable="box")
    ax.set(xlim=(centre[0] - half, centre[0] + half), ylim=(centre[1] - half, centre[1] + half))
    ax.set(xlabel="w1", ylabel="w2", title=f"path of W (contours: cost at b = {b0:g})")
    ax.legend(loc="best", fontsize=8)


def _alt(cost, W0, b0, diverged):
    """The figure in words, for screen readers."""
    trend = (
        "grows: training diverged" if diverged else f"falls from {cost[0]:.3g} to {cost[-1]:.3g}"
    )
    return (
        f"Left: the cost per step on a log scale over {len(cost) - 1} steps; it {trend}. "
        f"Right: the path of (w1, w2) from the start ({W0[0]:g}, {W0[1]:g}) over contour lines "
        f"of the cost at b = {b0:g}, darkest along the valley where the cost is 0."
    )
