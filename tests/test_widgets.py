"""Tests for backproplab.widgets: the optimisation explorer redraws headless."""

import warnings

import numpy as np
import pytest

from backproplab.widgets import optimisation_explorer
from tests.panels import assert_redraws, notebook_with, placeholder, png_of

X_TOY, Y_TOY, W_START, B_START = np.array([2.0, 7.0]), 11.0, np.zeros(2), 1.0


def heavy_ball(X, y, W, b, lr, mu, num_epochs):
    """A reference trainer for the tests: GD with momentum, history of states."""
    W, b = np.array(W, dtype=float), float(b)
    vW, vb = np.zeros_like(W), 0.0
    rows = []
    for _ in range(num_epochs + 1):
        z = X @ W + b
        rows.append((W, b, z, 0.5 * (y - z) ** 2))
        vW, vb = mu * vW - lr * (z - y) * X, mu * vb - lr * (z - y)
        W, b = W + vW, b + vb
    W_rows, b_rows, z_rows, c_rows = zip(*rows)
    return {
        "W": np.array(W_rows),
        "b": np.array(b_rows),
        "z": np.array(z_rows),
        "cost": np.array(c_rows),
    }


def not_implemented(X, y, W, b, lr, mu, num_epochs):
    """What a student's train_momentum does before it is written."""
    raise NotImplementedError()


def make_panel(train_fn=heavy_ball, **kwargs):
    return optimisation_explorer(train_fn, X_TOY, Y_TOY, W_START, B_START, **kwargs)


def test_panel_has_sliders_and_draws_a_figure():
    panel = make_panel()
    assert set(panel.sliders) == {"lr", "num_epochs", "mu", "w1", "w2", "b"}
    assert panel.output in panel.children
    assert len(png_of(panel)) == 1
    assert panel.history["W"].shape == (16, 2)
    assert "cost after 15 steps" in panel.status.value


def test_a_slider_rounded_by_the_browser_does_not_redraw():
    """The browser sends a value back rounded to the slider's step: no redraw for a change in the 16th digit."""
    panel = make_panel(mu=0.3)
    before = panel.output.outputs
    panel.sliders["mu"].value = 0.30000000000000004
    assert panel.output.outputs is before


@pytest.mark.parametrize(
    "name, value",
    [("lr", 0.03), ("num_epochs", 40), ("mu", 0.5), ("w1", 1.0), ("w2", -1.0), ("b", 0.0)],
)
def test_moving_a_slider_redraws(name, value):
    panel = make_panel()
    assert_redraws(panel, panel.sliders[name], value)


def test_slider_values_reach_the_train_function():
    calls = []

    def spy(X, y, W, b, lr, mu, num_epochs):
        calls.append((W.copy(), b, lr, mu, num_epochs))
        return heavy_ball(X, y, W, b, lr, mu, num_epochs)

    panel = make_panel(spy, lr=0.001, num_epochs=7, mu=0.3)
    panel.sliders["w2"].value = 0.5
    W, b, lr, mu, num_epochs = calls[-1]
    np.testing.assert_allclose(W, [0.0, 0.5])
    assert (b, num_epochs) == (1.0, 7)
    assert lr == pytest.approx(0.001) and mu == pytest.approx(0.3)


def test_not_implemented_is_said_once_in_the_status_line():
    panel = make_panel(not_implemented)
    assert "Implement not_implemented above first, then move a slider." in panel.status.value
    assert panel.output.outputs == (), "the message is in the status line, not said twice"
    panel.sliders["lr"].value = 0.02  # still no crash on redraw
    assert png_of(panel) == [] and "Implement not_implemented" in panel.status.value


def test_train_momentum_name_in_message():
    def train_momentum(X, y, W, b, lr, mu, num_epochs):
        raise NotImplementedError()

    panel = make_panel(train_momentum)
    assert "Implement train_momentum above first" in panel.status.value


def test_the_message_names_the_notebook_function_still_to_write():
    """train_momentum written, but the step it calls not: the panel names the step."""
    notebook = notebook_with(
        placeholder("momentum_step", "W, b, vW, vb, dW, db, lr, mu")
        + "def train_momentum(X, y, W, b, lr, mu, num_epochs):\n"
        + "    return momentum_step(W, b, 0, 0, 0, 0, lr, mu)\n"
    )
    panel = make_panel(notebook["train_momentum"])
    assert "Implement momentum_step above first" in panel.status.value


def test_other_errors_are_reported_in_words():
    def broken(X, y, W, b, lr, mu, num_epochs):
        raise ValueError("shapes do not match")

    panel = make_panel(broken)
    assert "ValueError: shapes do not match" in panel.status.value


def test_divergence_is_flagged_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = make_panel(lr=0.1)
        assert "diverged" in panel.status.value
        assert len(png_of(panel)) == 1
        panel.sliders["lr"].value = 1.0
        panel.sliders["num_epochs"].value = 200  # overflows to inf / nan
        assert not np.all(np.isfinite(panel.history["cost"]))
        assert "diverged" in panel.status.value
        assert len(png_of(panel)) == 1


def test_converging_run_is_not_flagged():
    panel = make_panel(lr=0.01)
    assert "diverged" not in panel.status.value


def test_rejects_inputs_that_are_not_two_dimensional():
    with pytest.raises(ValueError, match="shape \\(2,\\)"):
        optimisation_explorer(heavy_ball, np.ones(3), 1.0, np.zeros(3), 0.0)


def test_the_panel_uses_the_function_the_student_defines_after_building_it():
    """Built on the placeholder, the panel draws once the notebook redefines train_momentum: no rebuild needed."""
    notebook = notebook_with(placeholder("train_momentum", "X, y, W, b, lr, mu, num_epochs"))
    panel = make_panel(notebook["train_momentum"])
    assert png_of(panel) == [] and "Implement train_momentum above first" in panel.status.value
    notebook["train_momentum"] = heavy_ball  # the student runs the finished cell
    panel.sliders["lr"].value = 0.02
    assert len(png_of(panel)) == 1 and "Implement" not in panel.status.value
    assert "cost after 15 steps" in panel.status.value


def test_each_redraw_calls_the_latest_definition():
    """A second, different definition (plain GD, mu ignored) replaces the first at the next redraw."""
    signature = "def train_momentum(X, y, W, b, lr, mu, num_epochs):\n"
    notebook = notebook_with(signature + "    return heavy_ball(X, y, W, b, lr, mu, num_epochs)\n")
    notebook["heavy_ball"] = heavy_ball
    panel = make_panel(notebook["train_momentum"], mu=0.5)
    with_momentum = png_of(panel)
    exec(signature + "    return heavy_ball(X, y, W, b, lr, 0.0, num_epochs)\n", notebook)
    panel.sliders["num_epochs"].value = 15  # same value: no redraw yet
    panel.sliders["num_epochs"].value = 16
    expected = heavy_ball(X_TOY, Y_TOY, W_START, B_START, 0.01, 0.0, 16)["cost"]
    np.testing.assert_allclose(panel.history["cost"], expected)
    assert png_of(panel) != with_momentum
    assert f"{expected[-1]:.3e}" in panel.status.value


def test_the_learning_rate_slider_is_fine_and_on_a_log_scale():
    """One step of the slider changes the rate by about 2 %; the track is long enough to aim."""
    lr = make_panel(lr=0.001).sliders["lr"]
    assert type(lr).__name__ == "FloatLogSlider" and lr.base == 10
    assert lr.step <= 0.01 and (lr.min, lr.max) == (-4, 0)
    assert int(lr.layout.width.rstrip("px")) >= 500
    assert lr.value == pytest.approx(0.001)


def test_a_library_function_is_never_swapped_for_a_namesake():
    """Only functions defined in the notebook are looked up again."""
    from backproplab.student_code import latest

    assert latest(np.mean) is np.mean and latest(heavy_ball) is heavy_ball
