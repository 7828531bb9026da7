"""Tests for backproplab.saliency_viewer: the student's saliency map of one image, for any class."""

import numpy as np
import pytest
import torch

from backproplab.backbone import Backbone
from backproplab.saliency_viewer import TRUE_CLASS, saliency_viewer
from tests.panels import alt_of, assert_redraws, notebook_with, placeholder, png_of

CLASSES = tuple(str(d) for d in range(10))


def saliency_map(model, X, y):
    """A correct saliency_map (what a student's solution does)."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    x = X.detach().clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(model(x).gather(1, y.view(-1, 1)).sum(), x)
    for m, mode in modes:
        m.training = mode
    return grad.abs().amax(dim=1)


def make_panel(saliency=saliency_map, n=5):
    torch.manual_seed(0)
    model = Backbone()
    X = torch.rand(n, 1, 28, 28)
    y = torch.arange(n) % 10
    return saliency_viewer(model, X, y, saliency, CLASSES)


def test_panel_opens_on_the_true_class_with_a_described_figure():
    panel = make_panel()
    assert len(png_of(panel)) == 1
    assert (panel.image.max, panel.image.value, panel.target.value) == (4, 0, TRUE_CLASS)
    assert "a <b>0</b>: the saliency of the score of <b>0</b> peaks at" in panel.status.value
    assert "the saliency map of the score of class 0" in alt_of(panel)


@pytest.mark.parametrize("control, value", [("image", 3), ("target", 7)])
def test_moving_a_control_changes_the_picture(control, value):
    panel = make_panel()
    assert_redraws(panel, getattr(panel, control), value)


def test_another_class_shows_the_map_of_its_score():
    panel = make_panel()
    panel.image.value = 2
    panel.target.value = 5
    expected = saliency_map(panel.model, panel.X[2:3], torch.tensor([5]))[0]
    peak = float(expected.max())
    assert "a <b>2</b>: the saliency of the score of <b>5</b>" in panel.status.value
    assert f"peaks at {peak:.3g}" in panel.status.value


def test_a_saliency_map_written_after_the_panel_is_used_at_the_next_redraw():
    notebook = notebook_with(placeholder("saliency_map", "model, X, y"))
    panel = make_panel(notebook["saliency_map"])
    assert "Implement saliency_map above first" in panel.status.value
    assert png_of(panel) == []
    notebook["saliency_map"] = saliency_map  # the student runs the finished cell
    panel.image.value = 1
    assert "peaks at" in panel.status.value and len(png_of(panel)) == 1


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda model, X, y: saliency_map(model, X, y)[0], "returned shape (28, 28)"),
        (lambda model, X, y: saliency_map(model, X, y)[:, None], "expected (1, 28, 28)"),
        (lambda model, X, y: -saliency_map(model, X, y), "negative or non-finite"),
        (lambda model, X, y: "a map", "returned str, not a tensor"),
    ],
)
def test_a_wrong_result_gets_words_not_a_traceback(wrong, match):
    panel = make_panel(wrong)
    assert match in panel.status.value and png_of(panel) == []
    assert "Traceback" not in panel.status.value


def test_bad_images_are_refused_with_what_to_give():
    model = Backbone()
    with pytest.raises(ValueError, match=r"\(N, C, H, W\); got shape \(28, 28\)"):
        saliency_viewer(model, torch.rand(28, 28), torch.tensor([0]), saliency_map, CLASSES)
    with pytest.raises(ValueError, match="2 labels for 3 images"):
        saliency_viewer(model, torch.rand(3, 1, 28, 28), np.array([0, 1]), saliency_map, CLASSES)
