"""Tests for backproplab.filter_viewer: first-layer filters by eq. (3.8), a slider over checkpoints."""

import warnings

import numpy as np
import pytest

from backproplab.filter_viewer import filter_viewer, normalise_filters
from tests.panels import assert_redraws, png_of

F, C, K, T = 6, 1, 5, 4


def make_snapshots(channels=C, seed=0):
    """T snapshots of an (F, C, K, K) filter bank drifting away from a random start."""
    rng = np.random.default_rng(seed)
    start, drift = rng.normal(size=(F, channels, K, K)), rng.normal(size=(F, channels, K, K))
    return [start + 0.5 * t * drift for t in range(T)]


def test_panel_opens_on_the_trained_filters_with_one_described_figure():
    panel = filter_viewer(make_snapshots(), steps=[0, 10, 20, 30])
    assert len(png_of(panel)) == 1
    assert (panel.checkpoint.min, panel.checkpoint.max, panel.checkpoint.value) == (1, T, T)
    assert "checkpoint 4 of 4 (step 30)" in panel.status.value
    alt = panel.output.outputs[0]["data"]["text/plain"]
    assert f"{F} small {K}x{K} images in grey levels" in alt and "filters at step 30" in alt


@pytest.mark.parametrize("checkpoint", [1, 2, T])
def test_the_slider_and_the_status_count_checkpoints_alike(checkpoint):
    panel = filter_viewer(make_snapshots(), steps=[0, 10, 20, 30])
    panel.checkpoint.value = checkpoint
    assert f"checkpoint {checkpoint} of {T} (step {10 * (checkpoint - 1)})" in panel.status.value


@pytest.mark.parametrize(
    "control, value",
    [("checkpoint", 1), ("checkpoint", 3), ("scaling", "shared"), ("show", "change")],
)
def test_moving_a_control_changes_the_picture(control, value):
    panel = filter_viewer(make_snapshots())
    panel.checkpoint.value = 2
    assert_redraws(panel, getattr(panel, control), value)


def test_eq_3_8_maps_every_filter_to_the_unit_interval():
    bank = make_snapshots()[1]
    images = normalise_filters(bank, "per_filter")
    assert images.shape == (F, K, K)
    np.testing.assert_allclose(images.min(axis=(1, 2)), 0.0)
    np.testing.assert_allclose(images.max(axis=(1, 2)), 1.0)
    f = 3
    expected = (bank[f, 0] - bank[f].min()) / (bank[f].max() - bank[f].min())
    np.testing.assert_allclose(images[f], expected)
    shared = normalise_filters(bank, "shared")
    assert shared.min() == 0.0 and shared.max() == 1.0 and shared.max(axis=(1, 2)).min() < 1.0


def test_change_since_the_first_checkpoint_is_what_training_added():
    snapshots = make_snapshots()
    panel = filter_viewer(snapshots, steps=[0, 10, 20, 30])
    panel.show.value = "change"
    np.testing.assert_allclose(panel.bank(2), snapshots[2] - snapshots[0])
    panel.show.value = "weights"
    np.testing.assert_allclose(panel.bank(2), snapshots[2])
    panel.show.value = "change"
    panel.checkpoint.value = 1  # no change yet: every filter constant, drawn grey, no warning
    assert len(png_of(panel)) == 1 and f"{F} constant filter(s)" in panel.status.value


def test_three_channels_are_drawn_as_rgb():
    snapshots = make_snapshots(channels=3)
    assert normalise_filters(snapshots[0]).shape == (F, K, K, 3)
    panel = filter_viewer(snapshots)
    assert len(png_of(panel)) == 1


def test_a_constant_filter_is_grey_without_warnings():
    snapshots = make_snapshots()
    snapshots[-1][2] = 0.25  # all weights of filter 2 equal: eq. (3.8) would divide by 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = filter_viewer(snapshots)  # opens on the last checkpoint
        assert len(png_of(panel)) == 1
    np.testing.assert_array_equal(normalise_filters(snapshots[-1])[2], 0.5)
    assert "1 constant filter(s)" in panel.status.value


def test_a_diverged_checkpoint_gives_a_message_not_a_traceback():
    snapshots = make_snapshots()
    snapshots[2][0, 0, 1, 1] = np.nan
    panel = filter_viewer(snapshots, steps=[0, 5, 10, 15])
    panel.checkpoint.value = 3
    assert png_of(panel) == [] and panel.output.outputs == ()
    assert (
        "step 10 hold nan or inf" in panel.status.value
        and "smaller learning rate" in panel.status.value
    )
    panel.checkpoint.value = 2
    assert len(png_of(panel)) == 1, "a finite checkpoint is drawn again"


@pytest.mark.parametrize(
    "snapshots, match",
    [
        ([], "non-empty"),
        ([np.zeros((F, K, K))], r"\(F, C, K, K\)"),
        ([np.zeros((F, 2, K, K))], "C = 2 channels"),
        ([np.zeros((F, 1, K, K)), np.zeros((F, 1, 3, 3))], "one shape"),
    ],
)
def test_bad_snapshots_are_explained(snapshots, match):
    with pytest.raises(ValueError, match=match):
        filter_viewer(snapshots)


def test_steps_must_match_the_snapshots():
    with pytest.raises(ValueError, match="3 step numbers for 4 snapshots"):
        filter_viewer(make_snapshots(), steps=[0, 1, 2])
