"""Tests for backproplab.kernel_explorer: the panel redraws headless, from the student's functions."""

import warnings

import numpy as np
import pytest

from backproplab.kernel_explorer import CANONICAL_KERNELS, kernel_explorer, load_photo
from tests.panels import notebook_with, placeholder, png_of

IMAGE = np.random.default_rng(0).uniform(size=(12, 10))  # small and non-square: fast tests


def reference_conv(x, w, b, stride, pad):
    """A test-only cross-correlation for (1, 1, H, W) inputs and (1, 1, K, K) kernels."""
    xp = np.pad(x[0, 0], pad)
    K = w.shape[-1]
    rows = range(0, xp.shape[0] - K + 1, stride)
    cols = range(0, xp.shape[1] - K + 1, stride)
    out = (
        np.array([[np.sum(xp[i : i + K, j : j + K] * w[0, 0]) for j in cols] for i in rows]) + b[0]
    )
    return out[None, None], None


def reference_pool(kind):
    def pool(x, size, stride):
        H, W = (x.shape[2] - size) // stride + 1, (x.shape[3] - size) // stride + 1
        reduce = np.max if kind == "max" else np.mean
        out = np.array(
            [
                [
                    reduce(x[0, 0, i * stride : i * stride + size, j * stride : j * stride + size])
                    for j in range(W)
                ]
                for i in range(H)
            ]
        )
        return out[None, None], None

    pool.__name__ = f"{kind}_pool_forward_naive"
    return pool


POOLS = {"max": reference_pool("max"), "avg": reference_pool("avg")}


def make_panel(conv_fn=reference_conv, **kwargs):
    return kernel_explorer(conv_fn, POOLS, IMAGE, **kwargs)


def test_panel_draws_the_result_of_the_student_function():
    panel = make_panel(kernel="edge", stride=1, pad=1)
    assert len(png_of(panel)) == 1
    expected, _ = reference_conv(
        IMAGE[None, None], np.array(CANONICAL_KERNELS["edge"], float)[None, None], [0.0], 1, 1
    )
    np.testing.assert_allclose(panel.result, expected[0, 0])
    assert (
        "input 12x10" in panel.size_label.value
        and "12x10" in panel.size_label.value.split("conv")[1]
    )


def test_picking_a_kernel_fills_the_grid_and_redraws():
    panel = make_panel(kernel="identity")
    before, result_before = png_of(panel), panel.result.copy()
    np.testing.assert_allclose(result_before, IMAGE)  # identity kernel, half padding
    panel.kernel_menu.value = "Sobel vertical"
    np.testing.assert_allclose(panel.kernel, CANONICAL_KERNELS["Sobel vertical"])
    assert png_of(panel) != before
    assert not np.allclose(panel.result, result_before)


def test_editing_a_cell_switches_to_custom_and_redraws():
    calls = []

    def spy(x, w, b, stride, pad):
        calls.append(w.copy())
        return reference_conv(x, w, b, stride, pad)

    panel = make_panel(spy, kernel="identity")
    n_calls, before = len(calls), png_of(panel)
    panel.cells[0][2].value = 0.5
    assert panel.kernel_menu.value == "custom"
    assert len(calls) == n_calls + 1, "one edit should call the convolution exactly once"
    assert calls[-1][0, 0, 0, 2] == 0.5 and calls[-1][0, 0, 1, 1] == 1.0
    assert png_of(panel) != before


def test_picking_a_kernel_calls_the_convolution_once():
    calls = []

    def spy(x, w, b, stride, pad):
        calls.append((stride, pad))
        return reference_conv(x, w, b, stride, pad)

    panel = make_panel(spy)
    n_calls = len(calls)
    panel.kernel_menu.value = "sharpen"
    assert len(calls) == n_calls + 1


@pytest.mark.parametrize(
    "name, value, size",
    [("stride", 2, "6x5"), ("stride", 3, "4x4"), ("pad", 0, "10x8"), ("pad", 2, "14x12")],
)
def test_stride_and_padding_reach_the_function_and_change_the_size(name, value, size):
    panel = make_panel(kernel="edge", stride=1, pad=1)
    before = png_of(panel)
    getattr(panel, name).value = value
    assert (
        f"conv (3x3, stride {panel.stride.value}, padding {panel.pad.value}) {size}"
        in panel.size_label.value
    )
    assert panel.result.shape == tuple(int(n) for n in size.split("x"))
    assert png_of(panel) != before


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_pooling_halves_the_picture(pool):
    panel = make_panel(kernel="blur", pad=1)
    before = png_of(panel)
    panel.pool.value = pool
    assert f"{pool}-pool (2x2, stride 2) 6x5" in panel.size_label.value
    assert panel.result.shape == (6, 5)
    assert png_of(panel) != before


def test_sizes_come_from_what_the_function_returned():
    def always_3x3(x, w, b, stride, pad):
        return np.zeros((1, 1, 3, 3)), None

    panel = make_panel(always_3x3)
    assert "conv (3x3, stride 1, padding 1) 3x3" in panel.size_label.value


def test_not_implemented_shows_a_friendly_message():
    def conv_forward_naive(x, w, b, stride, pad):
        raise NotImplementedError()

    panel = make_panel(conv_forward_naive)
    assert "Implement conv_forward_naive above first" in panel.status.value
    assert panel.output.outputs == () and panel.result is None
    panel.kernel_menu.value = "blur"  # redrawing does not crash either
    assert png_of(panel) == []


def test_a_convolution_written_after_the_panel_is_used_at_the_next_redraw():
    notebook = notebook_with(placeholder("conv_forward_naive", "x, w, b, stride, pad"))
    panel = make_panel(notebook["conv_forward_naive"], kernel="identity")
    assert "Implement conv_forward_naive above first" in panel.status.value
    notebook["reference_conv"] = reference_conv
    exec(
        "def conv_forward_naive(x, w, b, stride, pad):\n"
        "    return reference_conv(x, w, b, stride, pad)\n",
        notebook,
    )
    panel.kernel_menu.value = "blur"
    assert len(png_of(panel)) == 1 and "output values from" in panel.status.value
    expected, _ = reference_conv(IMAGE[None, None], panel.kernel[None, None], [0.0], 1, 1)
    np.testing.assert_allclose(panel.result, expected[0, 0])


@pytest.mark.parametrize(
    "broken, words",
    [
        (lambda x, w, b, stride, pad: 1 / 0, "ZeroDivisionError"),
        (lambda x, w, b, stride, pad: (np.zeros((5, 5)), None), "should be (1, 1, H', W')"),
        (lambda x, w, b, stride, pad: ("not an array", None), "should return (out, cache)"),
        (lambda x, w, b, stride, pad: (np.full((1, 1, 2, 2), np.nan), None), "nan or inf"),
    ],
)
def test_broken_functions_are_reported_in_words(broken, words):
    panel = make_panel(broken)
    assert words in panel.status.value
    assert png_of(panel) == []


def test_broken_pooling_is_reported_in_words():
    def max_pool_forward_naive(x, size, stride):
        raise IndexError("index 7 is out of bounds")

    panel = kernel_explorer(reference_conv, {"max": max_pool_forward_naive}, IMAGE)
    panel.pool.value = "max"
    assert (
        "max_pool_forward_naive raised IndexError: index 7 is out of bounds" in panel.status.value
    )
    assert [v for _, v in panel.pool.options] == ["none", "max"]  # no average pooling given


def test_no_warnings_on_a_flat_result():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        panel = kernel_explorer(reference_conv, POOLS, np.ones((8, 9)), kernel="edge", pad=0)
        assert np.allclose(panel.result, 0.0) and len(png_of(panel)) == 1


def test_photo_is_small_grey_and_in_range():
    photo = load_photo()
    assert photo.shape == (75, 64) and photo.dtype == np.float64
    assert 0.0 <= photo.min() < photo.max() <= 1.0
    assert load_photo(block=4).shape == (150, 128)


def test_rejects_colour_images_and_unknown_kernels():
    with pytest.raises(ValueError, match="grey-level"):
        kernel_explorer(reference_conv, POOLS, np.ones((4, 4, 3)))
    with pytest.raises(ValueError, match="kernel must be one of"):
        kernel_explorer(reference_conv, POOLS, IMAGE, kernel="emboss")
