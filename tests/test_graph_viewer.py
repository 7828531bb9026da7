"""Tests for backproplab.graph_viewer: a small graph drawn with the gradients the student's backward leaves."""

import numpy as np
import pytest

from autograder.build import read_source
from autograder.submissions import solution_answers
from backproplab.graph_viewer import columns_by_depth, graph_viewer
from tests.panels import alt_of, assert_redraws, notebook_with, placeholder, png_of


def engine_source():
    """Chapter 06's Variable, add and mul (its locked cell) and the solution's backward, as source."""
    cells = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c for c in read_source("06_autograd").cells
    }
    answers = solution_answers("06_autograd")
    return "\n".join(
        [
            "import builtins\nimport numpy as np\n",
            cells["ch06_variable"].source,
            answers["ch06_topological_order"],
            answers["ch06_backward"],
            "def circuit(x, y, z):\n"
            "    x, y, z = Variable(x, name='x'), Variable(y, name='y'), Variable(z, name='z')\n"
            "    p = x * y\n"
            "    q = p + z\n"
            "    f = q * x\n"
            "    p.name, q.name, f.name = 'p', 'q', 'f'\n"
            "    return f\n",
        ]
    )


def panel_of(namespace, backward=None):
    """The notebook's panel: graph_viewer(circuit, topological_order, backward)."""
    ns = namespace
    return graph_viewer(ns["circuit"], ns["topological_order"], backward or ns["backward"])


@pytest.fixture
def notebook():
    return notebook_with(engine_source())


def test_panel_shows_the_circuit_with_chapter_02s_gradients(notebook):
    panel = panel_of(notebook)
    assert len(png_of(panel)) == 1
    assert "f = -6; df/dx = -8, df/dy = 9, df/dz = 3" in panel.status.value
    assert "The graph of 6 nodes" in alt_of(panel)


@pytest.mark.parametrize("slider, value", [("x", 1.5), ("y", 0.0), ("z", -5.0)])
def test_moving_a_slider_redraws_with_new_gradients(notebook, slider, value):
    panel = panel_of(notebook)
    before = panel.status.value
    assert_redraws(panel, getattr(panel, slider), value)
    assert panel.status.value != before


def test_a_redefined_backward_is_used_and_its_mistake_shows(notebook):
    """The student re-runs the cell with a backward that overwrites at fan-out: the panel then
    shows x's gradient as the share of the path through p alone (-6), not -8."""
    panel = panel_of(notebook)
    solution = solution_answers("06_autograd")["ch06_backward"]
    exec(solution.replace("parent.grad = parent.grad + grad", "parent.grad = grad"), notebook)
    panel.x.value = 3.5
    panel.x.value = 3.0
    assert "df/dx = -6" in panel.status.value


def test_an_unwritten_backward_is_named():
    namespace = notebook_with(engine_source() + placeholder("backward", "root"))
    panel = panel_of(namespace)
    assert png_of(panel) == []
    assert "Implement backward above first, then move a slider." in panel.status.value


def test_a_gradient_of_the_wrong_shape_is_explained(notebook):
    def backward_with_arrays(root):
        for node in notebook["topological_order"](root):
            node.grad = np.zeros(2)

    panel = panel_of(notebook, backward_with_arrays)
    assert "every node here holds one number" in panel.status.value


def test_an_order_with_a_node_before_its_parents_is_named(notebook):
    """The panel lists the nodes with the student's topological_order: a pre-order is explained."""
    panel = panel_of(notebook)
    solution = solution_answers("06_autograd")["ch06_topological_order"]
    pre_order = solution.replace(
        "        for parent in node.parents:\n            visit(parent)\n        order.append(node)\n",
        "        order.append(node)\n        for parent in node.parents:\n            visit(parent)\n",
    )
    assert pre_order != solution
    exec(pre_order, notebook)
    panel.z.value = 1.0
    assert png_of(panel) == []
    assert "every node must come after all of its parents" in panel.status.value


def test_columns_put_leaves_first_and_the_output_last(notebook):
    f = notebook["circuit"](3.0, -2.0, 4.0)
    order = notebook["topological_order"](f)
    column = columns_by_depth(order)
    named = {n.name: column[id(n)] for n in order}
    assert named == {"x": 0, "y": 0, "z": 0, "p": 1, "q": 2, "f": 3}
