"""Tests for backproplab.optimizer_paths: the optimiser explorer runs and redraws headless."""

import warnings

import numpy as np
import pytest

from backproplab.optimizer_paths import SURFACES, optimizer_paths, run_optimizer
from tests.panels import alt_of, assert_redraws, notebook_with, placeholder, png_of


def sgd(w, dw, config):
    """Reference steps for the tests (the chapter's signature)."""
    return w - config["lr"] * dw, config


def momentum(w, dw, config):
    v = config.get("velocity", np.zeros_like(w))
    v = config["mu"] * v - config["lr"] * dw
    config["velocity"] = v
    return w + v, config


def adam_like(w, dw, config):
    config["t"] = config.get("t", 0) + 1
    config["m"] = config["beta1"] * config.get("m", 0.0) + (1 - config["beta1"]) * dw
    config["v"] = config["beta2"] * config.get("v", 0.0) + (1 - config["beta2"]) * dw**2
    m_hat = config["m"] / (1 - config["beta1"] ** config["t"])
    v_hat = config["v"] / (1 - config["beta2"] ** config["t"])
    return w - config["lr"] * m_hat / (np.sqrt(v_hat) + 1e-8), config


def not_written(w, dw, config):
    raise NotImplementedError()


STEPS = {"sgd": sgd, "momentum": momentum, "adam": adam_like}


def test_panel_draws_a_figure_with_its_controls():
    panel = optimizer_paths(STEPS)
    assert set(panel.controls) == {
        "optimizer",
        "surface",
        "lr",
        "num_steps",
        "beta1",
        "beta2",
        "x0",
        "y0",
    }
    assert list(panel.controls["optimizer"].options) == ["sgd", "momentum", "adam", "all"]
    assert len(png_of(panel)) == 1
    assert set(panel.runs) == {"sgd"}
    assert panel.runs["sgd"][0].shape == (51, 2)
    assert "loss" in panel.status.value


def test_a_slider_rounded_by_the_browser_does_not_redraw():
    """The browser sends 0.9 back as 0.9000000000000001 (rounded to the step): no redraw for that."""
    panel = optimizer_paths(STEPS, optimizer="all", beta1=0.9)
    before = panel.output.outputs
    panel.controls["beta1"].value = 0.9000000000000001
    assert panel.output.outputs is before
    panel.controls["beta1"].value = 0.901
    assert panel.output.outputs is not before


@pytest.mark.parametrize(
    "name, value",
    [
        ("optimizer", "momentum"),
        ("optimizer", "all"),
        ("surface", "Rosenbrock"),
        ("lr", 0.01),
        ("num_steps", 80),
        ("beta1", 0.5),
        ("x0", 3.0),
        ("y0", -1.0),
    ],
)
def test_changing_a_control_redraws(name, value):
    panel = optimizer_paths(STEPS, optimizer="momentum" if name != "optimizer" else "sgd")
    assert_redraws(panel, panel.controls[name], value)


def test_beta2_reaches_adam():
    panel = optimizer_paths(STEPS, optimizer="adam", lr=0.1, num_steps=20)
    before = panel.runs["adam"][0].copy()
    panel.controls["beta2"].value = 0.5
    assert not np.allclose(panel.runs["adam"][0], before)


def test_all_runs_every_optimizer_with_one_status_line():
    """Seven optimisers or three: one status line; each final loss is in the legend (and the alt text)."""
    panel = optimizer_paths(STEPS, optimizer="all")
    assert set(panel.runs) == set(STEPS)
    assert "<br>" not in panel.status.value and "lowest final loss" in panel.status.value
    for name, (_, losses) in panel.runs.items():
        assert f"{name}: {losses[-1]:.1e}" in alt_of(panel)


def test_a_broken_optimiser_adds_one_line_only():
    steps = {**STEPS, "broken": lambda w, dw, c: 1 / 0}
    panel = optimizer_paths(steps, optimizer="all")
    assert panel.status.value.count("<br>") == 1 and "ZeroDivisionError" in panel.status.value


def test_config_reaches_the_step_function_and_keeps_state():
    seen = []

    def spy(w, dw, config):
        seen.append(dict(config))
        config["calls"] = config.get("calls", 0) + 1
        return w - config["lr"] * dw, config

    optimizer_paths({"spy": spy}, lr=0.002, num_steps=3, beta1=0.7, beta2=0.95)
    assert len(seen) == 3
    assert seen[0]["lr"] == pytest.approx(0.002)
    assert seen[0]["mu"] == seen[0]["beta1"] == pytest.approx(0.7)
    assert seen[0]["beta2"] == seen[0]["decay_rate"] == pytest.approx(0.95)
    assert [s.get("calls", 0) for s in seen] == [0, 1, 2], (
        "the state must carry over from step to step"
    )


def test_surface_change_moves_the_start():
    panel = optimizer_paths(STEPS)
    panel.controls["surface"].value = "Rosenbrock"
    assert (panel.controls["x0"].value, panel.controls["y0"].value) == SURFACES["Rosenbrock"][2]
    np.testing.assert_allclose(panel.runs["sgd"][0][0], SURFACES["Rosenbrock"][2])


def test_not_implemented_is_a_message_not_a_traceback():
    panel = optimizer_paths({"nesterov": not_written})
    assert "Implement not_written above first, then move a control." in panel.status.value
    assert panel.output.outputs == () and "Traceback" not in panel.status.value
    panel.controls["lr"].value = 0.01  # redraw still works
    assert png_of(panel) == []


def test_a_step_function_written_after_the_panel_is_used_at_the_next_redraw():
    notebook = notebook_with(placeholder("adagrad", "w, dw, config"))
    panel = optimizer_paths({"adagrad": notebook["adagrad"], "sgd": sgd}, optimizer="all")
    assert set(panel.runs) == {"sgd"} and "Implement adagrad above first" in panel.status.value
    before = png_of(panel)
    exec("def adagrad(w, dw, config):\n    return w - config['lr'] * dw, config\n", notebook)
    panel.controls["num_steps"].value = 51
    assert set(panel.runs) == {"adagrad", "sgd"} and "Implement" not in panel.status.value
    np.testing.assert_allclose(panel.runs["adagrad"][0], panel.runs["sgd"][0])
    assert png_of(panel) != before


def test_the_learning_rate_slider_is_fine_and_on_a_log_scale():
    lr = optimizer_paths(STEPS).controls["lr"]
    assert type(lr).__name__ == "FloatLogSlider" and lr.step <= 0.01 and lr.min == -5
    assert int(lr.layout.width.rstrip("px")) >= 500


def test_controls_take_three_rows():
    """Controls, one status line and the figure fit one screen at 1280x800."""
    panel = optimizer_paths(STEPS, optimizer="all")
    rows = [child for child in panel.children if child not in (panel.status, panel.output)]
    assert len(rows) == 3


@pytest.mark.parametrize(
    "bad, words",
    [
        (lambda w, dw, c: w - dw, "not the pair (next_w, config)"),
        (lambda w, dw, c: (np.zeros(3), c), "shape (3,)"),
        (lambda w, dw, c: (w, None), "config that is a NoneType, not a dict"),
        (lambda w, dw, c: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_bad_step_functions_are_reported_in_words(bad, words):
    panel = optimizer_paths({"bad": bad, "sgd": sgd}, optimizer="all")
    assert words in panel.status.value
    assert set(panel.runs) == {"sgd"} and len(png_of(panel)) == 1  # the good one is still drawn


def test_divergence_is_flagged_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = optimizer_paths(STEPS, lr=0.1, num_steps=200)  # 0.1 > 2 / 25
        assert "diverged" in panel.status.value
        assert len(png_of(panel)) == 1
        panel.controls["surface"].value = "Rosenbrock"
        assert "diverged" in panel.status.value


def test_sgd_converges_below_two_over_lambda_max():
    path, losses = run_optimizer(sgd, "ill-conditioned quadratic", (-4.0, 1.0), 300, {"lr": 0.075})
    assert losses[-1] < 1e-6 * losses[0]
    path, losses = run_optimizer(sgd, "ill-conditioned quadratic", (-4.0, 1.0), 300, {"lr": 0.085})
    assert losses[-1] > losses[0]


def test_rosenbrock_gradient_is_right():
    fn = SURFACES["Rosenbrock"][0]
    w, h = np.array([-0.7, 1.3]), 1e-6
    numeric = [(fn(w + h * e)[0] - fn(w - h * e)[0]) / (2 * h) for e in np.eye(2)]
    np.testing.assert_allclose(fn(w)[1], numeric, rtol=1e-6)
    assert fn(np.array([1.0, 1.0]))[0] == 0.0


def test_rejects_an_unknown_surface_and_no_optimizers():
    with pytest.raises(ValueError, match="surface must be one of"):
        optimizer_paths(STEPS, surface="bowl")
    with pytest.raises(ValueError, match="at least one step function"):
        optimizer_paths({})
