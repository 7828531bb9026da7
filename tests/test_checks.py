"""Tests of backproplab.checks and backproplab.gradcheck."""

import numpy as np
import pytest

from backproplab.checks import expect_close, expect_implemented, expect_shape
from backproplab.gradcheck import numerical_gradient, rel_error

# --- gradcheck ------------------------------------------------------------------


def test_rel_error_known_values():
    # max|a - b| = 1, max|a| + max|b| = 2 + 3
    assert rel_error([1.0, 2.0], [1.0, 3.0]) == pytest.approx(1 / 5)
    assert rel_error(1.0, 1.1) == pytest.approx(0.1 / 2.1)
    assert rel_error([3.0, -4.0], [3.0, -4.0]) == 0.0
    assert rel_error(0.0, 0.0) == 0.0
    # the denominator never drops below 1e-8
    assert rel_error(0.0, 1e-12) == pytest.approx(1e-12 / 1e-8)


def test_numerical_gradient_of_a_quadratic():
    rng = np.random.default_rng(0)
    M = rng.standard_normal((4, 4))
    A, b = M @ M.T, rng.standard_normal(4)
    x = rng.standard_normal(4)
    x_before = x.copy()
    dx = numerical_gradient(lambda v: 0.5 * v @ A @ v + b @ v, x)
    assert rel_error(dx, A @ x + b) < 1e-8
    assert np.array_equal(x, x_before), "x must be restored"


def test_numerical_gradient_with_upstream_gradient():
    rng = np.random.default_rng(1)
    W, x, dout = (
        rng.standard_normal((3, 5)),
        rng.standard_normal((2, 3)),
        rng.standard_normal((2, 5)),
    )
    dW = numerical_gradient(lambda W_: x @ W_, W, dout)
    assert dW.shape == W.shape and rel_error(dW, x.T @ dout) < 1e-8


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        numerical_gradient(lambda v: np.sum(v**2), np.ones(3, dtype=np.float32))


# --- expect_shape -----------------------------------------------------------------


def test_expect_shape_passes_and_asks_about_a_transpose():
    expect_shape(np.zeros((2, 3)), (2, 3), "dW")
    with pytest.raises(AssertionError) as info:
        expect_shape(np.zeros((3, 2)), (2, 3), "dW")
    assert str(info.value) == "dW has shape (3, 2) but should have shape (2, 3): did you transpose?"


def test_expect_shape_counts_dimensions_and_adds_the_hint():
    with pytest.raises(AssertionError) as info:
        expect_shape(np.zeros(3), (3, 1), "b", hint="use keepdims=True")
    assert str(info.value) == (
        "b has shape (3,) but should have shape (3, 1) (1 dimension instead of 2). "
        "Hint: use keepdims=True."
    )


def test_a_question_is_never_followed_by_a_full_stop():
    """Never "did you transpose?." or "missing?."; a hint follows as a sentence of its own."""
    with pytest.raises(AssertionError) as info:
        expect_shape(np.zeros((3, 2)), (2, 3), "dW", hint="W is (D, H)")
    assert str(info.value).endswith("did you transpose? Hint: W is (D, H).")
    with pytest.raises(AssertionError) as info:
        expect_close(np.array([2.0, 4.0]), np.array([1.0, 2.0]), "grad")
    assert str(info.value).endswith("is a constant factor wrong or missing?")
    assert "?." not in str(info.value) and ".." not in str(info.value)


# --- expect_close -----------------------------------------------------------------


def test_expect_close_passes_for_equal_values():
    expect_close(np.array([1.0, -2.0]), np.array([1.0, -2.0]), "grad")
    expect_close(0.5, 0.5, "loss")


def test_expect_close_diagnoses_a_flipped_sign():
    with pytest.raises(AssertionError, match="sign is flipped"):
        expect_close(np.array([-1.0, 2.0]), np.array([1.0, -2.0]), "grad")


def test_expect_close_diagnoses_a_factor_of_two():
    with pytest.raises(AssertionError, match=r"it is 2 times the right value") as info:
        expect_close(np.array([2.0, 4.0, -6.0]), np.array([1.0, 2.0, -3.0]), "grad")
    assert "relative error" in str(info.value) and "allowed" in str(info.value)


def test_expect_close_fails_on_nan_and_wrong_shape():
    with pytest.raises(AssertionError, match="nan or inf"):
        expect_close(np.array([np.nan, 1.0]), np.array([1.0, 1.0]), "grad")
    with pytest.raises(AssertionError, match="did you transpose"):
        expect_close(np.zeros((3, 2)), np.zeros((2, 3)), "grad")


def test_expect_close_plain_mismatch_has_no_false_diagnosis():
    with pytest.raises(AssertionError) as info:
        expect_close(np.array([1.0, 5.0]), np.array([1.0, 2.0]), "grad", hint="check the bias")
    message = str(info.value)
    assert (
        "sign" not in message
        and "times" not in message
        and message.endswith(". Hint: check the bias.")
    )


def test_expect_close_rejects_a_placeholder():
    with pytest.raises(AssertionError, match="placeholder"):
        expect_close(None, 1.0, "loss")


# --- the others -----------------------------------------------------------------


def test_expect_implemented():
    expect_implemented(0, "answer")
    with pytest.raises(AssertionError, match="placeholder"):
        expect_implemented(..., "answer")
