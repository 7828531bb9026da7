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

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.panel import Panel, bold, learning_rate_slider
from backproplab.plotting import CONTOUR_CMAP
from backproplab.student_code import Unusable

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
    Returns ``(path (num_steps+1, 2), losses (num_steps+1,))``; raises :class:`Unusable`
    (a ``ValueError``) saying why when ``step`` returns something unusable. A blow-up
    stops the run early (the path ends at the first non-finite point).
    """
    fn = SURFACES[surface][0]
    w = np.array(start, dtype=float)
    config = dict(hyper)
    path, losses = [w.copy()], [fn(w)[0]]
    for _ in range(int(num_steps)):
        _, dw = fn(w)
        next_w, config = _checked_step(step(w.copy(), dw, config))
        w = next_w
        path.append(w.copy())
        losses.append(fn(w)[0] if np.all(np.isfinite(w)) else np.inf)
        if not np.isfinite(losses[-1]) or losses[-1] > 1e12:
            break
    return np.array(path), np.array(losses, dtype=float)


def _checked_step(result):
    """``(next_w (2,), config dict)`` from what a step function returned, or :class:`Unusable`."""
    if not (isinstance(result, tuple) and len(result) == 2):
        raise Unusable(f"returned {type(result).__name__}, not the pair (next_w, config)")
    next_w, config = np.asarray(result[0], dtype=float), result[1]
    if next_w.shape != (2,):
        raise Unusable(f"returned next_w of shape {next_w.shape}, but w has shape (2,)")
    if not isinstance(config, dict):
        raise Unusable(f"returned a config that is a {type(config).__name__}, not a dict")
    return next_w, config


class OptimizerPaths(Panel):
    """The panel. Attributes: ``controls`` (dict of widgets by name: ``optimizer``,
    ``surface``, ``lr``, ``num_steps``, ``beta1``, ``beta2``, ``x0``, ``y0``),
    ``output`` (the ``Output`` holding the figure), ``status`` (one ``HTML`` line
    of results, and one of problems if any), ``runs`` (``{name: (path (n+1, 2),
    losses (n+1,))}`` of the last draw).
    """

    def __init__(self, step_fns, optimizer, surface, lr, num_steps, beta1, beta2):
        if not step_fns:
            raise ValueError("give at least one step function, e.g. {'sgd': sgd}")
        self.step_fns = dict(step_fns)
        self.controls = c = _make_controls(
            list(self.step_fns), optimizer, surface, lr, num_steps, beta1, beta2
        )
        self.runs = {}
        rows = [("optimizer", "surface", "num_steps"), ("lr", "beta1"), ("beta2", "x0", "y0")]
        watched = [control for name, control in c.items() if name != "surface"]
        super().__init__([[c[name] for name in row] for row in rows], watched)
        c["surface"].observe(self._surface_changed, names="value")
        self.redraw()

    def _surface_changed(self, change):
        """A new surface: move the start to its default, then draw once."""
        with self.held():
            self.controls["x0"].value, self.controls["y0"].value = SURFACES[change["new"]][2]
        self.redraw()

    def draw(self):
        """Run the chosen optimiser(s) (the student's latest step functions) and redraw."""
        v = {name: control.value for name, control in self.controls.items()}
        names = list(self.step_fns) if v["optimizer"] == "all" else [v["optimizer"]]
        hyper = {"lr": v["lr"], "mu": v["beta1"], "beta1": v["beta1"]}
        hyper.update(beta2=v["beta2"], decay_rate=v["beta2"])
        setting = (v["surface"], (v["x0"], v["y0"]), v["num_steps"], hyper)
        self.runs, problems = {}, []
        for name in names:
            run, message = self.call(self.step_fns[name], *setting, through=run_optimizer)
            if message:
                problems.append(message)
            else:
                self.runs[name] = run
        if not self.runs:
            self.show_message(" ".join(problems))
            return
        status = _summary(self.runs, v["surface"]) + "".join(f"<br>{bold(p)}" for p in problems)
        start = (v["x0"], v["y0"])
        self.show_figure(
            _figure(self.runs, v["surface"], start), _alt(self.runs, v["surface"], start), status
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

    def fraction(value, top, label):
        """A slider over [0, top] in steps of top's last decimal; 360 px, so that a long label leaves a track."""
        decimals = len(f"{top}".split(".")[1])
        return widgets.FloatSlider(
            value=value,
            min=0.0,
            max=top,
            step=10.0**-decimals,
            readout_format=f".{decimals}f",
            description=label,
            style=style,
            layout=widgets.Layout(width="360px"),
        )

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
        "lr": learning_rate_slider(lr, -5),
        "num_steps": widgets.IntSlider(
            value=num_steps, min=1, max=1000, description="steps", style=style
        ),
        "beta1": fraction(beta1, 0.999, "mu / beta1"),
        "beta2": fraction(beta2, 0.9999, "beta2 / decay rate"),
        "x0": coordinate("start w1", start[0]),
        "y0": coordinate("start w2", start[1]),
    }


def _diverged(losses):
    """True when the loss is not finite at the end or ends above where it started."""
    return bool(not np.isfinite(losses[-1]) or losses[-1] > losses[0])


def _summary(runs, surface):
    """One status line: the best final loss, and which optimisers diverged."""
    steps = max(len(losses) - 1 for _, losses in runs.values())
    finals = {name: losses[-1] for name, (_, losses) in runs.items() if not _diverged(losses)}
    diverged = [name for name, (_, losses) in runs.items() if _diverged(losses)]
    line = f"{steps} steps on the {surface}"
    if finals:
        best = min(finals, key=finals.get)
        line += f"; lowest final loss: <b>{best}</b> {finals[best]:.2e} (all in the legend)"
    if diverged:
        line += (
            f"; <b style='color:#b00'>diverged</b>: {', '.join(diverged)} (lower the learning rate)"
        )
    return line


def _alt(runs, surface, start):
    """The figure in words, for screen readers."""
    finals = ", ".join(_label(name, losses) for name, (_, losses) in runs.items())
    return (
        f"Left: the paths of {', '.join(runs)} on the {surface} from ({start[0]:g}, {start[1]:g}) "
        "over its contour lines, with the minimum as a star. Right: the loss per step on a log "
        f"scale; final losses: {finals}."
    )


def _label(name, losses):
    """An optimiser's legend entry: its name and final loss, or that it diverged."""
    return f"{name}: diverged" if _diverged(losses) else f"{name}: {losses[-1]:.1e}"


def _figure(runs, surface, start):
    """Paths over the contours (left), loss per step (right), one legend outside both."""
    fn, minimum, _, (x0, x1, y0, y1) = SURFACES[surface]
    fig = Figure(figsize=(11, 3.9), layout="constrained")
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=(1.4, 1))
    gx, gy = np.meshgrid(np.linspace(x0, x1, 200), np.linspace(y0, y1, 200))
    values = fn(np.array([gx, gy]))[0]
    ax_path.contour(gx, gy, np.log10(values + 1e-3), levels=20, cmap=CONTOUR_CMAP, linewidths=0.7)
    for name, (path, losses) in runs.items():
        inside = np.all(np.isfinite(path), axis=1) & (np.abs(path).max(axis=1) < 1e3)
        (line,) = ax_path.plot(path[inside, 0], path[inside, 1], "o-", ms=2, lw=1)
        ok = np.isfinite(losses) & (losses > 0)
        ax_loss.semilogy(np.flatnonzero(ok), losses[ok], "-", color=line.get_color())
        line.set_label(_label(name, losses))
    ax_path.plot(*start, "ks", label="start")
    ax_path.plot(*minimum, "k*", ms=12, label="minimum")
    ax_path.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="w1", ylabel="w2")
    ax_path.set_title(f"paths on the {surface}", fontsize=10)
    ax_loss.set(xlabel="step", ylabel="loss f(w)")
    ax_loss.set_title("loss per step", fontsize=10)
    fig.legend(loc="outside right upper", fontsize=8, title="final loss", title_fontsize=8)
    return fig
