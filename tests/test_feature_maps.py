"""Tests for backproplab.feature_maps: a backbone's maps stage by stage and the student's top-5 chart."""

import pytest
import torch
from torch import nn

from backproplab.backbone import Backbone
from backproplab.feature_maps import MAX_MAPS, feature_map_viewer, map_pages, stage_maps
from tests.panels import alt_of, assert_redraws, notebook_with, placeholder, png_of

CLASSES = tuple(str(d) for d in range(10))


def predict_proba(model, X, batch_size=256):
    """A correct predict_proba (what a student's solution does)."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    with torch.no_grad():
        probs = torch.softmax(model(X), dim=1)
    for m, mode in modes:
        m.training = mode
    return probs


def make_panel(predict=predict_proba, n=6):
    torch.manual_seed(0)
    model = Backbone()
    X = torch.rand(n, 1, 28, 28)
    y = torch.arange(n) % 10
    return feature_map_viewer(model, X, y, predict, CLASSES)


def test_panel_opens_with_one_described_figure_and_the_prediction():
    panel = make_panel()
    assert len(png_of(panel)) == 1
    assert (panel.image.min, panel.image.max, panel.image.value, panel.stage.value) == (
        0,
        5,
        0,
        "stage1",
    )
    assert (
        "true class <b>0</b>, predicted" in panel.status.value
        and "16 of 16 maps of 14x14 shown" in panel.status.value
    )
    alt = panel.output.outputs[0]["data"]["text/plain"]
    assert "16 of the 16 feature maps of stage1" in alt and "five most probable classes" in alt


@pytest.mark.parametrize(
    "control, value",
    [
        ("image", 3),
        ("stage", "stage2"),
        ("stage", "stage3"),
        ("shown_maps", "strongest"),
        ("shown_maps", 16),
    ],
)
def test_moving_a_control_changes_the_picture(control, value):
    panel = make_panel()
    panel.stage.value = "stage2"
    panel.image.value = 1
    if control == "stage" and value == "stage2":
        panel.stage.value = "stage1"
    assert_redraws(panel, getattr(panel, control), value)


def test_stage3_shows_the_strongest_of_its_64_maps():
    panel = make_panel()
    panel.stage.value = "stage3"
    panel.shown_maps.value = "strongest"
    maps = panel.maps["stage3"][panel.image.value]
    chosen = panel._chosen(maps)
    assert len(chosen) == MAX_MAPS
    means = maps.mean(axis=(1, 2))
    others = [c for c in range(64) if c not in set(chosen.tolist())]
    assert means[chosen].min() >= means[others].max()
    assert list(maps[chosen].mean(axis=(1, 2))) == sorted(
        maps[chosen].mean(axis=(1, 2)), reverse=True
    )


def test_the_status_says_how_many_maps_are_shown_and_pages_through_them():
    panel = make_panel()
    panel.stage.value = "stage2"
    assert "16 of 32 maps of 7x7 shown (channels 0-15)" in panel.status.value
    assert [label for label, _ in panel.shown_maps.options] == [
        "channels 0-15",
        "channels 16-31",
        "the 16 strongest",
    ]
    first_page = png_of(panel)
    panel.shown_maps.value = 16
    assert "(channels 16-31)" in panel.status.value and png_of(panel) != first_page
    assert "16 of the 32 feature maps of stage2" in alt_of(panel)
    panel.stage.value = "stage3"  # a new stage starts on its first page
    assert panel.shown_maps.value == 0 and "16 of 64 maps" in panel.status.value
    assert map_pages(4) == [("channels 0-3", 0), ("the 4 strongest", "strongest")]


def test_a_predict_proba_written_after_the_panel_is_used_at_the_next_redraw():
    notebook = notebook_with(placeholder("predict_proba", "model, X, batch_size=256"))
    panel = make_panel(notebook["predict_proba"])
    assert "Implement predict_proba above first" in panel.status.value
    assert "no prediction chart" in alt_of(panel)
    notebook["predict_proba"] = predict_proba  # the student runs the finished cell
    panel.image.value = 1
    assert "predicted" in panel.status.value and "five most probable classes" in alt_of(panel)


def test_stage_maps_restore_every_mode_and_touch_no_statistics():
    torch.manual_seed(1)
    model = Backbone().train()
    model.stage2[1].eval()
    stats = model.stage1[1].running_mean.clone()
    maps = stage_maps(model, torch.rand(2, 1, 28, 28), ("stage1", "stage3"))
    assert {k: v.shape for k, v in maps.items()} == {
        "stage1": (2, 16, 14, 14),
        "stage3": (2, 64, 3, 3),
    }
    assert model.training and model.stage1[1].training and not model.stage2[1].training
    torch.testing.assert_close(model.stage1[1].running_mean, stats)
    assert not model.stage1._forward_hooks


def test_a_broken_predict_proba_gives_a_message_and_still_the_maps():
    def broken(model, X, batch_size):
        raise NotImplementedError()

    panel = make_panel(broken)
    assert "Implement broken above first" in panel.status.value
    assert len(png_of(panel)) == 1
    panel.image.value = 2
    assert len(png_of(panel)) == 1 and "Implement broken above first" in panel.status.value


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda model, X, b: torch.softmax(model.eval()(X), dim=0) * 0.5, "sums to 5 "),
        (lambda model, X, b: torch.ones(1, 3) / 3, r"shape \(1, 3\)"),
        (lambda model, X, b: "nine", "not a tensor of probabilities"),
    ],
)
def test_a_wrong_result_is_explained(wrong, match):
    import re

    panel = make_panel(wrong)
    assert re.search(match, panel.status.value), panel.status.value
    assert len(png_of(panel)) == 1


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match="no submodule named stage9"):
        feature_map_viewer(
            Backbone(),
            torch.rand(2, 1, 28, 28),
            torch.zeros(2),
            predict_proba,
            CLASSES,
            stages=("stage9",),
        )
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        feature_map_viewer(Backbone(), torch.rand(28, 28), torch.zeros(2), predict_proba, CLASSES)


def test_a_model_with_other_stage_names_works():
    torch.manual_seed(2)
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 28 * 28, 10)
    )
    panel = feature_map_viewer(
        model,
        torch.rand(3, 1, 28, 28),
        torch.zeros(3, dtype=torch.long),
        predict_proba,
        CLASSES,
        stages=("0", "1"),
    )
    assert len(png_of(panel)) == 1 and "4 of 4 maps of 28x28" in panel.status.value
