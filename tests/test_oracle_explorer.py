"""Tests for backproplab.oracle_explorer: our layers against the student's PyTorch copies, mistakes included."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from backproplab.oracle_explorer import COPIES, difference_limit, oracle_explorer, verdict
from tests.panels import alt_of, assert_redraws, notebook_with, placeholder, png_of


def linear_from_ours(W, b):
    """A right answer to chapter 07's Exercise 2, written here so that the panel has something to draw."""
    W_t = torch.as_tensor(W)
    layer = torch.nn.Linear(*W.shape, dtype=W_t.dtype)
    with torch.no_grad():
        layer.weight.copy_(W_t.T)
        layer.bias.copy_(torch.as_tensor(b))
    return layer


def conv2d_from_ours(w, b, stride=1, pad=0):
    """A right answer to chapter 07's Exercise 3."""
    w_t = torch.as_tensor(w)
    layer = torch.nn.Conv2d(
        w.shape[1], w.shape[0], w.shape[2:], stride=stride, padding=pad, dtype=w_t.dtype
    )
    with torch.no_grad():
        layer.weight.copy_(w_t)
        layer.bias.copy_(torch.as_tensor(b))
    return layer


def panel():
    return oracle_explorer(linear_from_ours, conv2d_from_ours)


def test_panel_opens_on_the_dense_layer_copied_right_with_one_described_figure():
    p = panel()
    assert len(png_of(p)) == 1
    assert (p.layer.value, p.copy.value, p.quantity.value, p.precision.value) == (
        "dense",
        "right",
        "out",
        "float64",
    )
    assert p.error < 1e-14 and "agrees" in p.status.value
    alt = p.output.outputs[0]["data"]["text/plain"]
    assert "Three heat maps of out = X W + b" in alt and "relative error" in alt


@pytest.mark.parametrize(
    "control, value",
    [
        ("layer", "conv"),
        ("copy", "reshaped"),
        ("quantity", "dX"),
        ("quantity", "dW"),
        ("precision", "float32"),
        ("seed", 3),
    ],
)
def test_moving_a_control_changes_the_picture(control, value):
    p = panel()
    assert_redraws(p, getattr(p, control), value)


@pytest.mark.parametrize("layer", ["dense", "conv"])
def test_every_mistaken_copy_disagrees_and_the_right_one_agrees(layer):
    p = panel()
    p.layer.value = layer
    assert p.copy.options == COPIES[layer] and p.copy.value == "right"
    for quantity in ("out", "dX", "dW"):
        p.quantity.value = quantity
        for _, copy in COPIES[layer]:
            p.copy.value = copy
            # dW = X^T dout (or its convolution analogue) never sees the weights
            if copy == "right" or quantity == "dW":
                assert p.error < 1e-12 and "agrees" in p.status.value, (layer, quantity, copy)
            else:
                assert p.error > 1e-2 and "disagrees" in p.status.value, (layer, quantity, copy)


def test_float32_agrees_only_to_rounding():
    p = panel()
    p.layer.value = "conv"
    p.precision.value = "float32"
    assert 1e-9 < p.error < 1e-5 and "rounding in float32" in p.status.value
    assert "agrees" in verdict(1e-12, "float64") and "disagrees" in verdict(1e-6, "float64")


def test_the_mistakes_are_what_they_say():
    """The layer built from the handed-over weights holds W itself, W.reshape(M, D), or the flipped kernels."""
    p = panel()
    _, W, _, _ = p.inputs()
    p.copy.value = "untransposed"
    np.testing.assert_array_equal(
        linear_from_ours(p.handed_over(W), np.zeros(6)).weight.detach().numpy(), W
    )
    p.copy.value = "reshaped"
    np.testing.assert_array_equal(
        linear_from_ours(p.handed_over(W), np.zeros(6)).weight.detach().numpy(), W.reshape(6, 6)
    )
    p.layer.value = "conv"
    _, w, _, _ = p.inputs()
    p.copy.value = "flipped"
    np.testing.assert_array_equal(p.handed_over(w), w[:, :, ::-1, ::-1])


def test_an_unwritten_function_gives_a_message_not_a_traceback():
    def linear_from_ours(W, b):
        raise NotImplementedError()

    p = oracle_explorer(linear_from_ours, conv2d_from_ours)
    assert p.output.outputs == () and "Implement linear_from_ours above first" in p.status.value
    p.layer.value = "conv"
    assert len(png_of(p)) == 1, "the convolution still works"
    p.layer.value = "dense"
    assert png_of(p) == []


def test_a_function_written_after_the_panel_is_used_at_the_next_redraw():
    notebook = notebook_with(placeholder("linear_from_ours", "W, b"))
    p = oracle_explorer(notebook["linear_from_ours"], conv2d_from_ours)
    assert "Implement linear_from_ours above first" in p.status.value
    notebook["linear_from_ours"] = linear_from_ours  # the student runs the finished cell
    p.seed.value = 1
    assert len(png_of(p)) == 1 and "agrees" in p.status.value and p.error < 1e-14


def test_rounding_is_said_and_drawn_white_a_mistake_is_not():
    """The difference panel's scale never goes below rounding: 1e-16 differences are white, not red and blue."""
    p = panel()
    assert "max |difference|" in alt_of(p) and "equal to rounding" in alt_of(p)
    rounding_picture = png_of(p)
    p.copy.value = "untransposed"
    assert "equal to rounding" not in alt_of(p) and png_of(p) != rounding_picture
    rounding = np.full((3, 3), 3e-16)
    assert difference_limit(rounding, 1.0, "float64") / 3e-16 > 1e5, "3e-16 is white"
    assert difference_limit(rounding + 0.5, 1.0, "float64") == pytest.approx(0.5 + 3e-16)


def named(function, name):
    """``function`` under the name a notebook would give it."""
    function.__name__ = name
    return function


@pytest.mark.parametrize(
    "broken, words",
    [
        (lambda w, b, stride, pad: np.zeros(3), "returned a ndarray, not a torch.nn.Conv2d"),
        # no padding: 7x7 outputs, 9x9 dout
        (lambda w, b, stride, pad: torch.nn.Conv2d(2, 2, 3), "RuntimeError"),
        (lambda w, b, stride, pad: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_a_broken_function_gives_a_one_line_message_not_a_traceback(broken, words):
    p = oracle_explorer(linear_from_ours, named(broken, "conv2d_from_ours"))
    p.layer.value = "conv"
    assert png_of(p) == [] and words in p.status.value and "conv2d_from_ours" in p.status.value
    assert "\n" not in p.status.value and p.output.outputs == ()
    p.layer.value = "dense"
    assert len(png_of(p)) == 1
