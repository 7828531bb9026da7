"""Tests for backproplab.panel and backproplab.student_code: what every widget inherits."""

import warnings

import ipywidgets as widgets
import numpy as np

from backproplab.panel import Panel
from backproplab.student_code import Unusable, call_student
from tests.panels import notebook_with, placeholder


class Counter(Panel):
    """A panel with one slider whose draw counts its calls and reports the student's result."""

    def __init__(self, fn):
        self.fn, self.draws = fn, 0
        self.slider = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.1)
        super().__init__([[self.slider]], watched=[self.slider])
        self.redraw()

    def draw(self):
        self.draws += 1
        result, message = self.call(self.fn, self.slider.value)
        if message:
            self.show_message(message)
        else:
            self.status.value = f"result {result}"


def test_a_watched_control_redraws_except_for_rounding_or_while_held():
    panel = Counter(lambda x: 2 * x)
    assert panel.draws == 1 and panel.status.value == "result 1.0"
    panel.slider.value = 0.5000000000000001  # the browser's rounding
    assert panel.draws == 1
    with panel.held():
        panel.slider.value = 0.7
    assert panel.draws == 1 and not panel.holding
    panel.slider.value = 0.8
    assert panel.draws == 2 and panel.status.value == "result 1.6"


def test_a_students_error_is_one_escaped_line_and_clears_the_figure():
    def solve(x):
        raise ValueError("shapes (2,) and <3,> differ\nsee the traceback for more")

    panel = Counter(solve)
    assert panel.status.value == "<b>solve raised ValueError: shapes (2,) and &lt;3,&gt; differ</b>"
    assert panel.output.outputs == ()


def test_drawing_is_quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = Counter(lambda x: np.log(np.zeros(1)) + x)
    assert "-inf" in panel.status.value


def test_call_student_names_the_innermost_unwritten_notebook_function():
    notebook = notebook_with(placeholder("step", "x") + "def train(x):\n    return step(x) + 1\n")
    assert call_student(notebook["train"], 1.0, then="go on") == (
        None,
        "Implement step above first, then go on.",
    )


def test_an_unusable_result_is_said_after_the_functions_name():
    def check(fn, x):
        raise Unusable(f"returned {fn(x)!r}, not a number")

    def solve(x):
        return "two"

    assert call_student(solve, 1, through=check) == (None, "solve returned 'two', not a number")
