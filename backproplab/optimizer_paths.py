"""An explorer of optimiser paths on 2-D test functions (chapter 03).

:func:`optimizer_paths` builds a panel: pick an optimiser (or all of them), a
surface (an ill-conditioned quadratic or the Rosenbrock function), the
learning rate, the number of steps, ``mu``/``beta1``, ``beta2``/``decay_rate``
and the start point; it runs the optimisers and draws their paths over the
contour lines of the surface, and the loss per step.

The module contains no exercise answer: it takes the student's step functions
as a dict ``{name: step}``, each with the chapter's signature
``step(w, dw, config) -> (next_w, config)``, and only draws what they return.
A step function that raises, returns the wrong thing, or is not written yet
gives a message in the panel, never a traceback.
"""

import warnings

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.plotting import CONTOUR_CMAP, control_row, only_rounding, png_output
from backproplab.student_code import latest

__all__ = ["optimizer_paths", "OptimizerPaths", "SURFACES", "run_optimizer"]


def _quadratic(w):
    """f = (w1^2 + 25 w2^2) / 2: curvatures 1 and 25 (condition number 25)."""
    return 0.5 * (w[0] ** 2 + 25.0 * w[1] ** 2), np.array([w[0], 25.0 * w[1]])


def _rosenbrock(w):
    """f = (1 - w1)^2 + 100 (w2 - w1^2)^2, minimum 0 at (1, 1) in a curved valley."""
    x, y = w
    f = (1.0 - x) ** 2 + 100.0 * (y - x**2) ** 2
    return f, np.array([-2.0 * (1.0 - x) - 400.0 * x * (y - x**2), 200.0 * (y - x**2)])


# name -> (function returning (f, grad), minimum, default start, plot box (x0, x1, y0, y1))
SURFACES = {
    "ill-conditioned quadratic": (_quadratic, (0.0, 0.0), (-4.0, 1.0), (-5.0, 5.0, -2.0, 2.0)),
    "Rosenbrock": (_rosenbrock, (1.0, 1.0), (-1.5, 1.5), (-2.0, 2.0, -1.0, 3.0)),
}


def run_optimizer(step, surface, start, num_steps, hyper):
    """Run ``step`` for ``num_steps`` steps from ``start`` on a surface of :data:`SURFACES`.

    hyper: the config's start values (``lr``, ``mu``, ``beta1``, ``beta2``, ``decay_rate``).
    Returns ``(path (num_steps+1, 2), losses (num_steps+1,))``; raises ``ValueError``
    with a readable message when ``step`` returns something unusable. A blow-up
    stops the run early (the path ends at the first non-finite point).
    """
    fn = SURFACES[surface][0]
    w = np.array(start, dtype=float)
    config = dict(hyper)
    path, losses = [w.copy()], [fn(w)[0]]
    for _ in range(int(num_steps)):
        _, dw = fn(w)
        result = step(w.copy(), dw, config)
        if not (isinstance(result, tuple) and len(result) == 2):
            raise ValueError(f"it returned {type(result).__name__}, not the pair (next_w, config)")
        next_w, config = result
        next_w = np.asarray(next_w, dtype=float)
        if next_w.shape != (2,):
            raise ValueError(f"next_w has shape {next_w.shape}, but w has shape (2,)")
        if not isinstance(config, dict):
            raise ValueError(f"config should be a dict, but it is a {type(config).__name__}")
        w = next_w
        path.append(w.copy())
        losses.append(fn(w)[0] if np.all(np.isfinite(w)) else np.inf)
        if not np.isfinite(losses[-1]) or losses[-1] > 1e12:
            break
    return np.array(path), np.array(losses, dtype=float)


class OptimizerPaths(widgets.VBox):
    """The panel. Attributes: ``controls`` (dict of widgets by name: ``optimizer``,
    ``surface``, ``lr``, ``num_steps``, ``beta1``, ``beta2``, ``x0``, ``y0``),
    ``output`` (the ``Output`` holding the figure or a message), ``status``
    (an ``HTML`` line per optimiser), ``runs`` (``{name: (path, losses)}`` of the last draw).
    """

    def __init__(self, step_fns, optimizer, surface, lr, num_steps, beta1, beta2):
        if not step_fns:
            raise ValueError("give at least one step function, e.g. {'sgd': sgd}")
        self.step_fns = dict(step_fns)
        self.controls = _make_controls(
            list(self.step_fns), optimizer, surface, lr, num_steps, beta1, beta2
        )
        self.output = widgets.Output()
        self.status = widgets.HTML()
        self.runs = {}
        self._moving_start = False
        for name, control in self.controls.items():
            control.observe(
                self._surface_changed if name == "surface" else self.redraw, names="value"
            )
        c = self.controls
        rows = [
            control_row([c["optimizer"], c["surface"]]),
            control_row([c["lr"], c["num_steps"]]),
            control_row([c["beta1"], c["beta2"]]),
            control_row([c["x0"], c["y0"]]),
        ]
        super().__init__(children=rows + [self.status, self.output])
        self.redraw()

    def _surface_changed(self, change):
        """A new surface: move the start to its default, then draw once."""
        start = SURFACES[change["new"]][2]
        self._moving_start = True
        try:
            self.controls["x0"].value, self.controls["y0"].value = start
        finally:
            self._moving_start = False
        self.redraw()

    def redraw(self, change=None):
        """Run the chosen optimiser(s) with the controls' values and redraw."""
        if self._moving_start or (change is not None and only_rounding(change)):
            return
        v = {name: control.value for name, control in self.controls.items()}
        names = list(self.step_fns) if v["optimizer"] == "all" else [v["optimizer"]]
        hyper = {
            "lr": v["lr"],
            "mu": v["beta1"],
            "beta1": v["beta1"],
            "beta2": v["beta2"],
            "decay_rate": v["beta2"],
        }
        self.runs, lines = {}, []
        for name in names:
            try:
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # a blow-up must not print warnings
                    self.runs[name] = run_optimizer(
                        latest(self.step_fns[name]),
                        v["surface"],
                        (v["x0"], v["y0"]),
                        v["num_steps"],
                        hyper,
                    )
            except NotImplementedError:
                lines.append(f"<b>{name}</b>: implement it above first, then move a control.")
                continue
            except Exception as exc:  # the student's error, in words, not a traceback
                lines.append(f"<b>{name}</b> raised {type(exc).__name__}: {exc}")
                continue
            lines.append(_summary(name, *self.runs[name]))
        self.status.value = "<br>".join(lines)
        if not self.runs:
            self.output.outputs = (
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": "Nothing to draw: " + _plain(lines) + "\n",
                },
            )
            return
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fig = _figure(self.runs, v["surface"], (v["x0"], v["y0"]))
            self.output.outputs = (
                png_output(fig, _alt(self.runs, v["surface"], (v["x0"], v["y0"]))),
            )


def optimizer_paths(
    step_fns,
    *,
    optimizer=None,
    surface="ill-conditioned quadratic",
    lr=0.03,
    num_steps=50,
    beta1=0.9,
    beta2=0.999,
):
    """A panel to watch optimisers walk on 2-D surfaces.

    step_fns: ``{name: step}``, each ``step(w, dw, config) -> (next_w, config)``
        with ``w``, ``dw`` of shape (2,); the config starts as
        ``{"lr", "mu", "beta1", "beta2", "decay_rate"}`` from the controls
        (``mu`` = ``beta1``, ``decay_rate`` = ``beta2``) and carries the state.
    optimizer: the name shown first (default: the first; ``"all"`` shows every one).
    surface: a key of :data:`SURFACES`. lr, num_steps, beta1, beta2: start values.
    Returns an :class:`OptimizerPaths` (an ``ipywidgets.VBox``).
    """
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {sorted(SURFACES)}, not {surface!r}")
    optimizer = optimizer or next(iter(step_fns), None)
    return OptimizerPaths(step_fns, optimizer, surface, lr, num_steps, beta1, beta2)


def _make_controls(names, optimizer, surface, lr, num_steps, beta1, beta2):
    style = {"description_width": "initial"}
    start = SURFACES[surface][2]

    def wide():
        """A slider 360px wide: at the default 300px, "beta2 / decay rate" leaves a track of 84px."""
        return widgets.Layout(width="360px")

    def coordinate(label, value):
        return widgets.FloatSlider(
            value=value, min=-5.0, max=5.0, step=0.1, description=label, style=style
        )

    return {
        "optimizer": widgets.Dropdown(
            options=names + ["all"], value=optimizer, description="optimiser", style=style
        ),
        "surface": widgets.Dropdown(
            options=list(SURFACES), value=surface, description="surface", style=style
        ),
        "lr": widgets.FloatLogSlider(
            value=lr,
            base=10,
            min=-5,
            max=0,
            step=0.05,
            readout_format=".5f",
            description="learning rate",
            style=style,
        ),
        "num_steps": widgets.IntSlider(
            value=num_steps, min=1, max=1000, description="steps", style=style
        ),
        "beta1": widgets.FloatSlider(
            value=beta1,
            min=0.0,
            max=0.999,
            step=0.001,
            readout_format=".3f",
            description="mu / beta1",
            style=style,
            layout=wide(),
        ),
        "beta2": widgets.FloatSlider(
            value=beta2,
            min=0.0,
            max=0.9999,
            step=0.0001,
            readout_format=".4f",
            description="beta2 / decay rate",
            style=style,
            layout=wide(),
        ),
        "x0": coordinate("start w1", start[0]),
        "y0": coordinate("start w2", start[1]),
    }


def _summary(name, path, losses):
    if not np.isfinite(losses[-1]) or losses[-1] > losses[0]:
        return f"<b>{name}</b>: <b style='color:#b00'>diverged</b> (the loss grows: lower the learning rate)"
    return f"<b>{name}</b>: loss {losses[-1]:.3e} after {len(losses) - 1} steps, at ({path[-1][0]:.3f}, {path[-1][1]:.3f})"


def _plain(lines):
    return " ".join(line.replace("<b>", "").replace("</b>", "") for line in lines)


def _alt(runs, surface, start):
    """The figure in words, for screen readers."""
    return (
        f"Left: the paths of {', '.join(runs)} on the {surface} from ({start[0]:g}, {start[1]:g}) "
        "over its contour lines, with the minimum as a star. Right: the loss per step on a log scale."
    )


def _figure(runs, surface, start):
    fn, minimum, _, (x0, x1, y0, y1) = SURFACES[surface]
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=(1.4, 1))
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    values = fn(np.array([gx, gy]))[0]
    ax_path.contour(gx, gy, np.log10(values + 1e-3), levels=20, cmap=CONTOUR_CMAP, linewidths=0.7)
    for name, (path, losses) in runs.items():
        inside = np.all(np.isfinite(path), axis=1) & (np.abs(path).max(axis=1) < 1e3)
        (line,) = ax_path.plot(path[inside, 0], path[inside, 1], "o-", ms=2, lw=1, label=name)
        ok = np.isfinite(losses) & (losses > 0)
        ax_loss.semilogy(np.flatnonzero(ok), losses[ok], "-", color=line.get_color(), label=name)
    ax_path.plot(*start, "ks", label="start")
    ax_path.plot(*minimum, "k*", ms=12, label="minimum")
    ax_path.set(
        xlim=(x0, x1), ylim=(y0, y1), xlabel="w1", ylabel="w2", title=f"paths on the {surface}"
    )
    ax_path.legend(loc="upper right", fontsize=8)
    ax_loss.set(xlabel="step", ylabel="loss f(w)", title="loss per step")
    ax_loss.legend(fontsize=8)
    return fig
