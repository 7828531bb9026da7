"""The base of every widget: rows of controls, a status line, a figure area, and a redraw on change.

A widget is a :class:`Panel` subclass that writes :meth:`Panel.draw`: read the
controls, call the student's functions with :meth:`Panel.call` (which goes
through :func:`backproplab.student_code.call_student`, so always the latest
definition, and a student's error becomes one line of words), then show a
figure and its status line with :meth:`Panel.show_figure`, or say why nothing
can be drawn with :meth:`Panel.show_message`. The panel redraws when a
watched control changes, not when the browser only rounds a slider's value,
and not while :meth:`Panel.held` sets several controls at once. Drawing is
quiet: no warnings, no floating-point error reports.

Figures are plain :class:`matplotlib.figure.Figure` objects (no pyplot state,
works headless), put into the panel's ``Output`` as PNG display data with alt
text (:func:`backproplab.plotting.png_output`), so a panel works in JupyterLab
and in tests alike.
"""

import contextlib
import html

import ipywidgets as widgets

from backproplab.plotting import control_row, only_rounding, png_output
from backproplab.student_code import call_student, quiet

__all__ = ["Panel", "bold", "learning_rate_slider"]


def learning_rate_slider(value, lowest_power):
    """A learning-rate slider on a log scale, from ``10**lowest_power`` to 1.

    100 positions a decade on a long track (560 px), so that the student can
    set the rate finely; the readout shows as many decimals as the smallest rate needs.
    """
    return widgets.FloatLogSlider(
        value=value,
        base=10,
        min=lowest_power,
        max=0,
        step=0.01,
        readout_format=f".{-lowest_power}f",
        description="learning rate",
        style={"description_width": "initial"},
        layout=widgets.Layout(width="560px"),
    )


def bold(message):
    """``message`` as bold HTML, its ``<``, ``>`` and ``&`` escaped."""
    return f"<b>{html.escape(message, quote=False)}</b>"


class Panel(widgets.VBox):
    """Rows of controls above ``status`` (an ``HTML`` line) and ``output`` (the figure's ``Output``).

    rows: lists of widgets, each list one row that wraps on a narrow screen.
    watched: the controls whose change redraws the panel.
    then: what the student does after implementing a function (ends the "Implement ..." line).
    """

    then = "move a control"

    def __init__(self, rows, watched=()):
        self.status, self.output = widgets.HTML(), widgets.Output()
        self._holding = False
        children = [control_row(list(row)) for row in rows]
        super().__init__(children=children + [self.status, self.output])
        for control in watched:
            control.observe(self.redraw, names="value")

    def draw(self):
        """Draw for the controls' current values (a subclass writes it)."""
        raise NotImplementedError(f"{type(self).__name__} needs a draw method")

    def redraw(self, change=None):
        """Draw again, unless the change is only the browser's rounding or controls are held."""
        if self._holding or (change is not None and only_rounding(change)):
            return
        with quiet():
            self.draw()

    @property
    def holding(self):
        """True while :meth:`held` is in force (a control's own handler then does nothing)."""
        return self._holding

    @contextlib.contextmanager
    def held(self):
        """Set several controls inside without a redraw for each (draw once afterwards)."""
        self._holding = True
        try:
            yield
        finally:
            self._holding = False

    def call(self, fn, *args, through=None, **kwargs):
        """The latest ``fn``'s result as ``(result, None)``, or ``(None, one-line message)``."""
        return call_student(fn, *args, then=self.then, through=through, **kwargs)

    def show_figure(self, figure, alt, status):
        """Show ``figure`` (described by ``alt`` for screen readers) under the HTML ``status`` line."""
        self.status.value = status
        self.output.outputs = (png_output(figure, alt),)

    def show_message(self, message):
        """Say in the status line why nothing is drawn, and clear the figure (said once, not twice)."""
        self.status.value = bold(message)
        self.output.outputs = ()
