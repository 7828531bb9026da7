"""Tests for backproplab.plotting: figures carry alt text, contour colours show on white."""

import base64
import re

import IPython.display
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from backproplab.plotting import (
    CONTOUR_CMAP,
    control_row,
    only_rounding,
    png_output,
    show_figure,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def small_figure():
    fig = Figure(figsize=(2, 1.5))
    fig.subplots().plot([0, 1], [1, 0])
    return fig


def test_png_output_shows_the_png_in_an_img_with_escaped_alt_text():
    """The HTML form is an <img> of the same PNG whose alt is the description, quotes escaped."""
    data = png_output(small_figure(), 'a "falling" line & <nothing> else')["data"]
    assert base64.b64decode(data["image/png"]).startswith(PNG_MAGIC)
    assert data["text/html"] == (
        f'<img src="data:image/png;base64,{data["image/png"]}" '
        'alt="a &quot;falling&quot; line &amp; &lt;nothing&gt; else">'
    )
    assert data["text/plain"] == 'a "falling" line & <nothing> else'


def test_show_figure_displays_it_with_alt_text_and_closes_it(monkeypatch):
    """show_figure replaces plt.show(): one display with alt text, and the figure is closed."""
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw=False: shown.append((obj, raw)))
    fig, ax = plt.subplots()
    ax.plot([0, 1])
    show_figure(fig, "a rising line")
    assert len(shown) == 1 and shown[0][1] is True
    assert re.search(
        r'<img src="data:image/png;base64,[^"]+" alt="a rising line">', shown[0][0]["text/html"]
    )
    assert not plt.fignum_exists(fig.number)


def _contrast_with_white(rgb):
    """WCAG 2.1 contrast ratio of an sRGB colour (components in [0, 1]) against white."""
    c = np.asarray(rgb, dtype=float)
    linear = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    luminance = linear @ np.array([0.2126, 0.7152, 0.0722])
    return 1.05 / (luminance + 0.05)


def test_every_contour_colour_stands_out_on_white():
    """Each colour of CONTOUR_CMAP has a contrast of at least 3:1 with a white background."""
    colours = CONTOUR_CMAP(np.linspace(0, 1, 64))[:, :3]
    worst = min(_contrast_with_white(c) for c in colours)
    assert worst >= 3.0, f"a contour colour has a contrast of only {worst:.2f}:1 with white"
    assert _contrast_with_white(plt.get_cmap("viridis")(1.0)[:3]) < 3.0  # why the map is cut short


def test_control_row_wraps_instead_of_squeezing():
    """A row of controls wraps onto a new line rather than shrinking its sliders."""
    row = control_row([])
    assert row.layout.flex_flow == "row wrap"


def test_only_rounding_tells_float_noise_from_a_change():
    """0.9 -> 0.9000000000000001 is rounding; 0.9 -> 0.901, an int or a menu change is not."""
    assert only_rounding({"old": 0.9, "new": 0.9000000000000001})
    assert not only_rounding({"old": 0.9, "new": 0.901})
    assert not only_rounding({"old": 3, "new": 3})
    assert not only_rounding({"old": "all", "new": "adam"})


def test_while_the_autograder_runs_a_figure_is_described_not_drawn(monkeypatch):
    """Graded, nobody sees a figure: the output holds only its alt text, and savefig never runs."""
    fig = small_figure()
    monkeypatch.setattr(fig, "savefig", lambda *a, **k: (_ for _ in ()).throw(AssertionError))
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert png_output(fig, "a falling line")["data"] == {"text/plain": "a falling line"}
    monkeypatch.undo()  # outside the autograder (in JupyterLab, or Validate) it is drawn
    assert base64.b64decode(png_output(fig, "a falling line")["data"]["image/png"])[:8] == PNG_MAGIC
