"""Tests for backproplab.weights_viewer: the panel redraws headless when a slider moves."""

import numpy as np
import pytest

from backproplab.weights_viewer import weights_viewer
from tests.panels import png_of

D, H, T = 64, 5, 4


def make_snapshots(seed=0):
    """T snapshots of a (D, H) weight matrix that drift from a random start."""
    rng = np.random.default_rng(seed)
    W0 = rng.normal(size=(D, H))
    drift = rng.normal(size=(D, H))
    return [W0 + 0.3 * t * drift for t in range(T)]


def test_panel_has_two_sliders_and_one_figure():
    panel = weights_viewer(make_snapshots())
    assert set(panel.sliders) == {"unit", "epoch"}
    assert panel.output in panel.children
    assert len(png_of(panel)) == 1
    assert (panel.sliders["unit"].min, panel.sliders["unit"].max) == (0, H - 1)
    assert (panel.sliders["epoch"].min, panel.sliders["epoch"].max) == (0, T - 1)
    assert panel.sliders["epoch"].value == T - 1, "the viewer opens on the last snapshot"
    assert "unit 0, epoch 3" in panel.status.value


@pytest.mark.parametrize("name, value", [("unit", 3), ("epoch", 0), ("epoch", 1)])
def test_moving_a_slider_changes_the_captured_outputs(name, value):
    panel = weights_viewer(make_snapshots())
    before = list(panel.output.outputs)
    panel.sliders[name].value = value
    after = list(panel.output.outputs)
    assert len(png_of(panel)) == 1
    assert after != before, f"moving {name} did not change the Output's captured outputs"


def test_image_is_the_units_column_reshaped():
    snapshots = make_snapshots()
    panel = weights_viewer(snapshots, unit=2)
    np.testing.assert_array_equal(panel.image(2, 1), snapshots[1][:, 2].reshape(8, 8))
    np.testing.assert_allclose(
        panel.change(2, 3), (snapshots[3][:, 2] - snapshots[0][:, 2]).reshape(8, 8)
    )
    assert np.all(panel.change(4, 0) == 0)


def test_status_follows_the_sliders_and_epoch_numbers():
    panel = weights_viewer(make_snapshots(), epochs=[0, 5, 10, 15])
    panel.sliders["unit"].value = 4
    panel.sliders["epoch"].value = 1
    assert "unit 4, epoch 5" in panel.status.value


def test_accepts_a_stacked_array_and_other_image_shapes():
    stack = np.stack(make_snapshots())[:, :48, :]
    panel = weights_viewer(stack, image_shape=(6, 8))
    assert panel.image(0, 0).shape == (6, 8)
    assert len(png_of(panel)) == 1


def test_a_transposed_matrix_is_explained():
    with pytest.raises(ValueError, match="transposed"):
        weights_viewer([W.T for W in make_snapshots()])


@pytest.mark.parametrize(
    "kwargs, message",
    [({"unit": H}, "unit must be between"), ({"epochs": [0, 1]}, "epoch numbers")],
)
def test_bad_arguments_are_reported_in_words(kwargs, message):
    with pytest.raises(ValueError, match=message):
        weights_viewer(make_snapshots(), **kwargs)


def test_snapshots_of_different_shapes_are_rejected():
    snapshots = make_snapshots()
    with pytest.raises(ValueError, match="same shape"):
        weights_viewer([snapshots[0], snapshots[1][:, :3]])
    with pytest.raises(ValueError, match="non-empty"):
        weights_viewer([])


def test_constant_snapshots_draw_without_warnings():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = weights_viewer([np.zeros((D, 2))] * 3)
        panel.sliders["epoch"].value = 0
        assert len(png_of(panel)) == 1
