"""A panel that draws a small computation graph with every node's value and gradient (chapter 06).

:func:`graph_viewer` takes ``build(x, y, z)``, which returns the output variable of an
expression of three numbers (chapter 06's ``Variable``: ``data``, ``grad``, ``parents``,
``op``, ``name``), and the student's ``topological_order(root)`` and ``backward(root)``. For
the values set on three sliders it builds the graph, runs the student's ``backward``, lists the
nodes with the student's ``topological_order`` and draws each node as a box holding its value
and its gradient, leaves on the left and the output on the right, an arrow from each parent to
its child.

The panel computes no exercise answer: the gradients are whatever the student's
``backward`` leaves in the variables. When it raises, or leaves a gradient that is not one
number per node, the panel says so in words.
"""

import ipywidgets as widgets
import numpy as np
from matplotlib.figure import Figure

from backproplab.panel import Panel
from backproplab.student_code import Unusable, latest

__all__ = ["graph_viewer", "GraphViewer", "columns_by_depth"]


def columns_by_depth(order):
    """{id(node): its column} for a list of variables, each after its parents: 0 for a leaf, else one
    more than its deepest parent; raises :class:`Unusable` when a parent is missing or comes later."""
    depth = {}
    for node in order:
        missing = [p for p in node.parents if id(p) not in depth]
        if missing:
            raise Unusable(
                f"ran, but topological_order listed {node.name or node.op!r} before one of its "
                "parents (or left that parent out): every node must come after all of its parents"
            )
        depth[id(node)] = 1 + max((depth[id(p)] for p in node.parents), default=-1)
    return depth


def label(node):
    """What a node's box says: its name and operation, then its value and its gradient."""
    title = " ".join(part for part in (node.name, node.op and f"({node.op})") if part) or "input"
    return f"{title}\nvalue {float(node.data):.3g}\ngrad {float(node.grad):.3g}"


class GraphViewer(Panel):
    """Three sliders (``x``, ``y``, ``z``) over the graph ``build(x, y, z)`` and its gradients.

    Attributes: ``x``, ``y``, ``z`` (FloatSliders), ``status`` (HTML: the output and the
    gradients of the named leaves, or what went wrong), ``output`` (the figure).
    """

    then = "move a slider"

    def __init__(self, build, topological_order, backward, start=(3.0, -2.0, 4.0)):
        self.build, self.topological_order, self.backward = build, topological_order, backward
        self.x, self.y, self.z = (
            widgets.FloatSlider(value=v, min=-5.0, max=5.0, step=0.5, description=name)
            for name, v in zip("xyz", start)
        )
        super().__init__([[self.x, self.y, self.z]], watched=(self.x, self.y, self.z))
        self.redraw()

    def graph(self, backward, build, values):
        """The output of ``build(*values)``, the student's order of its nodes and their columns, after
        ``backward`` ran on it; or :class:`Unusable`."""
        root = build(*values)
        backward(root)
        order = list(latest(self.topological_order)(root))
        if not order or order[-1] is not root:
            raise Unusable(
                "ran, but topological_order did not list the output last: every node must come "
                "after all of its parents"
            )
        for node in order:
            if np.shape(node.grad) != ():
                raise Unusable(
                    f"left a gradient of shape {np.shape(node.grad)} in node "
                    f"{node.name or node.op!r}; every node here holds one number"
                )
        return root, order, columns_by_depth(order)

    def draw(self):
        """Draw the graph for the sliders' values, or say why not."""
        values = (self.x.value, self.y.value, self.z.value)
        built, message = self.call(self.backward, self.build, values, through=self.graph)
        if built is None:
            self.show_message(message)
            return
        root, nodes, depth = built
        leaves = sorted((n for n in nodes if not n.parents and n.name), key=lambda n: n.name)
        grads = ", ".join(f"d{root.name or 'f'}/d{n.name} = {float(n.grad):.3g}" for n in leaves)
        status = f"{root.name or 'f'} = {float(root.data):.3g}; {grads}"
        alt = (
            f"The graph of {len(nodes)} nodes, inputs on the left and the output on the right, "
            f"each with its value and gradient: {status}."
        )
        self.show_figure(self._figure(nodes, depth), alt, status)

    def _figure(self, nodes, depth):
        """Boxes in columns by depth, arrows from parents to children."""
        columns = {}
        for node in nodes:
            columns.setdefault(depth[id(node)], []).append(node)
        where = {
            id(n): (d, (len(column) - 1) / 2 - i)
            for d, column in columns.items()
            for i, n in enumerate(sorted(column, key=lambda n: n.name or n.op))
        }
        fig = Figure(figsize=(2.2 * (max(columns) + 1), 3.2), layout="constrained")
        ax = fig.subplots()
        edges = [(where[id(p)], where[id(n)]) for n in nodes for p in n.parents]
        for start, end in edges:
            ax.annotate(
                "",
                xy=end,
                xytext=start,
                arrowprops={"arrowstyle": "->", "shrinkA": 28, "shrinkB": 28},
            )
        for node in nodes:
            ax.text(
                *where[id(node)],
                label(node),
                ha="center",
                va="center",
                fontsize=8,
                bbox={"boxstyle": "round", "facecolor": "white"},
            )
        ax.set_xlim(-0.6, max(columns) + 0.6)
        ax.set_ylim(-1.5, 1.5)
        ax.set_axis_off()
        return fig


def graph_viewer(build, topological_order, backward, start=(3.0, -2.0, 4.0)):
    """A panel: the graph of ``build(x, y, z)`` with values and the gradients ``backward`` computes.

    build: a function of three floats returning the output ``Variable`` of an expression.
    topological_order, backward: the student's functions; the panel lists the nodes with the
    first and fills their gradients with the second. start: the sliders' first values.
    Returns a :class:`GraphViewer` (an ``ipywidgets.VBox``).
    """
    return GraphViewer(build, topological_order, backward, start)
