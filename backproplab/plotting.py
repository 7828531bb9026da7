"""What the widgets and the notebooks share: figures with alt text, rows of controls, colours.

JupyterLab shows an ``image/png`` output as an ``<img>`` without alt text, so
a screen reader says nothing about it. :func:`png_output` and
:func:`show_figure` also give the figure as ``text/html``, an ``<img>`` whose
``alt`` describes it (JupyterLab prefers HTML), and as ``text/plain``.
"""

import base64
import html
import io
import math
import os

import ipywidgets as widgets
import numpy as np
from matplotlib import colormaps
from matplotlib.colors import ListedColormap

__all__ = ["CONTOUR_CMAP", "control_row", "only_rounding", "png_output", "show_figure"]

#: viridis from dark purple to green, for contour lines on a white background:
#: viridis's yellow end has a contrast of 1.1:1 with white and disappears.
#: Every colour here has at least 3:1 (WCAG 2.1's contrast for graphics).
CONTOUR_CMAP = ListedColormap(
    colormaps["viridis"](np.linspace(0.0, 0.6, 256)), name="viridis_on_white"
)


def png_output(fig, alt, dpi=80, bbox_inches=None):
    """A Jupyter display-data output showing ``fig`` as a PNG described by ``alt``.

    While the autograder runs the notebook, nobody sees its figures (the feedback shows no
    output), so the figure is not drawn: the output holds only ``alt``.
    """
    if os.environ.get("NBGRADER_EXECUTION") == "autograde":
        return {"output_type": "display_data", "metadata": {}, "data": {"text/plain": alt}}
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, facecolor="white", bbox_inches=bbox_inches)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    tag = f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
    return {
        "output_type": "display_data",
        "metadata": {},
        "data": {"text/html": tag, "image/png": data, "text/plain": alt},
    }


def show_figure(fig, alt):
    """Show a pyplot figure below the cell with alt text, in place of ``plt.show()``; close it."""
    import matplotlib.pyplot as plt
    from IPython.display import display

    output = png_output(fig, alt, dpi=100, bbox_inches="tight")
    plt.close(fig)
    display(output["data"], raw=True)


def control_row(children):
    """A row of controls that wraps onto a new line when the notebook is narrow.

    A plain ``HBox`` squeezes its sliders instead, down to tracks too short to drag.
    """
    return widgets.HBox(children, layout=widgets.Layout(flex_flow="row wrap"))


def only_rounding(change):
    """True when a control's new value differs from the old one only by floating-point rounding.

    In the browser, a FloatSlider rounds its value to its step and sends it
    back: 0.9 with step 0.001 comes back as 0.9000000000000001. A panel that
    redrew for that would redraw once per such slider when the student first
    touches any control.
    """
    old, new = change.get("old"), change.get("new")
    if not (isinstance(old, float) and isinstance(new, float)):
        return False
    return math.isclose(old, new, rel_tol=1e-12, abs_tol=1e-15)
