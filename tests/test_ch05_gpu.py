"""Chapter 05 on a GPU: the solution's functions given CuPy arrays compute what they compute with NumPy.

Every test here needs CuPy and a CUDA device it can use, and is skipped
otherwise (the CPU path is always tested, by the notebook and by
``test_ch05_oracle.py``). The functions are the solution's answer cells; each
is called once with NumPy arrays and once with the same values on the GPU, in
float64 (agreement to 1e-12: same algorithm, different BLAS) and float32.
"""

import numpy as np
import pytest

from autograder.submissions import solution_namespace
from backproplab import backend
from backproplab.gradcheck import rel_error

CUPY, WHY_NOT = backend._usable_cupy()
pytestmark = pytest.mark.skipif(
    CUPY is None,
    reason=f"needs CuPy with a usable CUDA GPU ({WHY_NOT}); install with pip install 'backproplab[gpu]'",
)

CONV_CASES = [
    ((3, 2, 9, 11), (5, 2, 3, 3), 2, 1),
    ((8, 32, 14, 14), (64, 32, 5, 5), 1, 2),
    ((2, 1, 10, 7), (3, 1, 4, 4), 3, 0),
]
POOL_CASES = [((4, 32, 28, 28), 2, 2), ((3, 2, 8, 10), 3, 2), ((2, 2, 11, 7), 2, 3)]
TOL = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.fixture(scope="module")
def ch05():
    return solution_namespace("05_im2col_gpu", "ch05_setup")


def on_gpu(*arrays):
    return tuple(CUPY.asarray(a) for a in arrays)


def assert_same(gpu_value, cpu_value, name, dtype):
    assert isinstance(gpu_value, CUPY.ndarray), (
        f"{name} came back as {type(gpu_value).__name__}, not a CuPy array"
    )
    host = backend.to_numpy(gpu_value)
    assert host.shape == np.shape(cpu_value) and host.dtype == np.asarray(cpu_value).dtype, name
    assert rel_error(host, cpu_value) < TOL[dtype], (
        f"{name}: relative error {rel_error(host, cpu_value):.1e}"
    )


def test_array_module_picks_cupy_for_gpu_arrays():
    assert backend.array_module(CUPY.zeros(3)) is CUPY


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("x_shape, w_shape, stride, pad", CONV_CASES)
def test_conv_layer_and_its_pieces_on_cupy(ch05, x_shape, w_shape, stride, pad, dtype):
    rng = np.random.default_rng(sum(x_shape))
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, w_shape[:1]))
    K = w_shape[2]
    cols = ch05["im2col"](x, K, stride, pad)
    assert_same(ch05["im2col"](*on_gpu(x), K, stride, pad), cols, "im2col", dtype)
    for name in ("col2im", "col2im_add_at"):
        assert_same(
            ch05[name](*on_gpu(cols), x_shape, K, stride, pad),
            ch05[name](cols, x_shape, K, stride, pad),
            name,
            dtype,
        )
    out, cache = ch05["conv_forward_im2col"](x, w, b, stride, pad)
    out_d, cache_d = ch05["conv_forward_im2col"](*on_gpu(x, w, b), stride, pad)
    assert_same(out_d, out, "conv out", dtype)
    dout = rng.standard_normal(out.shape).astype(dtype)
    for name, gpu, cpu in zip(
        ("dx", "dw", "db"),
        ch05["conv_backward_im2col"](*on_gpu(dout), cache_d),
        ch05["conv_backward_im2col"](dout, cache),
    ):
        assert_same(gpu, cpu, f"conv {name}", dtype)


@pytest.mark.parametrize("x_shape, size, stride", POOL_CASES)
def test_max_pool_on_cupy_with_ties(ch05, x_shape, size, stride):
    rng = np.random.default_rng(sum(x_shape) + size)
    x = rng.integers(0, 3, size=x_shape).astype(np.float64)
    out, cache = ch05["max_pool_forward_fast"](x, size, stride)
    out_d, cache_d = ch05["max_pool_forward_fast"](*on_gpu(x), size, stride)
    assert_same(out_d, out, "max pool out", np.float64)
    dout = rng.standard_normal(out.shape)
    assert_same(
        ch05["max_pool_backward_fast"](*on_gpu(dout), cache_d),
        ch05["max_pool_backward_fast"](dout, cache),
        "max pool dx (ties: the first maximum)",
        np.float64,
    )


def test_network_and_training_steps_on_cupy(ch05):
    """Table 3.2 built with xp=cupy: three train_step calls give the NumPy network's losses and parameters."""
    cpu = ch05["table_3_2_network"](seed=1, dtype=np.float64)
    gpu = ch05["table_3_2_network"](seed=1, dtype=np.float64, xp=CUPY)
    assert all(isinstance(v, CUPY.ndarray) for layer in gpu.layers for v in layer.params.values())
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((6, 1, 28, 28)), rng.integers(0, 10, size=6)
    configs_cpu, configs_gpu = {}, {}
    for step in range(3):
        loss_cpu, _ = ch05["train_step"](cpu, X, y, configs_cpu, 1e-3, 1e-3)
        loss_gpu, _ = ch05["train_step"](gpu, *on_gpu(X, y), configs_gpu, 1e-3, 1e-3)
        assert loss_gpu == pytest.approx(loss_cpu, rel=1e-10), f"loss at step {step + 1}"
    for k, (a, b) in enumerate(zip(gpu.layers, cpu.layers)):
        for name in b.params:
            assert_same(
                a.params[name], b.params[name], f"layer {k} {name} after 3 steps", np.float64
            )


def test_train_and_evaluate_move_batches_to_the_gpu(ch05):
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((40, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, size=40)
    net = ch05["table_3_2_network"](seed=0, xp=CUPY)
    history = ch05["train"](
        net,
        X,
        y,
        X[:10],
        y[:10],
        num_epochs=1,
        batch_size=20,
        eval_every=1,
        checkpoint_every=1,
        verbose=False,
    )
    assert len(history["loss"]) == 2 and all(np.isfinite(history["loss"]))
    assert all(isinstance(f, np.ndarray) for f in history["filters"])
    loss, acc, y_pred = ch05["evaluate"](net, X, y)
    assert (
        isinstance(y_pred, np.ndarray)
        and y_pred.shape == (40,)
        and 0.0 <= acc <= 1.0
        and np.isfinite(loss)
    )


@pytest.mark.parametrize("K, S, P", [(5, 1, 2), (3, 2, 1), (2, 3, 0), (1, 1, 0)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hand_written_im2col_kernel_equals_im2col(ch05, K, S, P, dtype):
    x = CUPY.asarray(np.random.default_rng(K).standard_normal((3, 4, 13, 10)).astype(dtype))
    got = ch05["im2col_gpu_kernel"](x, K, S, P)
    assert bool(CUPY.array_equal(got, ch05["im2col"](x, K, S, P)))
    transposed = CUPY.asarray(
        np.random.default_rng(0).standard_normal((3, 4, 10, 13)).astype(dtype)
    ).transpose(0, 1, 3, 2)
    assert bool(
        CUPY.array_equal(
            ch05["im2col_gpu_kernel"](transposed, K, S, P), ch05["im2col"](transposed, K, S, P)
        )
    )
