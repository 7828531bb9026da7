"""Tests for backproplab.weights_viewer: the panel redraws headless when a slider moves."""

import numpy as np
import pytest

from backproplab.weights_viewer import most_changed_unit, weights_viewer
from tests.panels import assert_redraws, png_of

D, H, T = 64, 5, 4


def make_snapshots(seed=0):
    """T snapshots of a (D, H) weight matrix that drift from a random start."""
    rng = np.random.default_rng(seed)
    W0 = rng.normal(size=(D, H))
    drift = rng.normal(size=(D, H))
    return [W0 + 0.3 * t * drift for t in range(T)]


def test_panel_opens_on_the_unit_that_changed_most_at_the_last_epoch():
    snapshots = make_snapshots()
    panel = weights_viewer(snapshots)
    assert set(panel.sliders) == {"unit", "epoch"}
    assert panel.output in panel.children
    assert len(png_of(panel)) == 1
    assert (panel.sliders["unit"].min, panel.sliders["unit"].max) == (0, H - 1)
    change = np.linalg.norm(snapshots[-1] - snapshots[0], axis=0)
    assert (
        panel.sliders["unit"].value
        == int(np.argmax(change))
        == most_changed_unit(np.stack(snapshots))
    )
    unit = panel.sliders["unit"].value
    assert f"hidden unit {unit} (the unit training changed most), epoch 3 of 3" in (
        panel.status.value
    )


def test_the_epoch_slider_is_labelled_with_epochs_as_the_status_is():
    panel = weights_viewer(make_snapshots(), unit=1, epochs=[0, 5, 10, 15])
    epoch = panel.sliders["epoch"]
    assert epoch.description == "epoch" and [label for label, _ in epoch.options] == [
        "0",
        "5",
        "10",
        "15",
    ]
    assert epoch.label == "15" and "hidden unit 1, epoch 15 of 15" in panel.status.value
    epoch.value = 1
    assert epoch.label == "5" and "epoch 5 of 15" in panel.status.value


@pytest.mark.parametrize("name, value", [("unit", 3), ("epoch", 0), ("epoch", 1)])
def test_moving_a_slider_changes_the_picture_and_the_status(name, value):
    panel = weights_viewer(make_snapshots(), unit=0)
    status = panel.status.value
    assert_redraws(panel, panel.sliders[name], value)
    assert panel.status.value != status


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
    assert "hidden unit 4" in panel.status.value and "epoch 5 of 15" in panel.status.value


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
