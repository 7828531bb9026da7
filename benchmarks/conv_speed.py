"""Convolution forward + backward, float32: naive loops, im2col, PyTorch, and the GEMM rate, in one run.

Usage: ``python benchmarks/conv_speed.py [--batch 100] [--rounds 4] [--quick]``.
Writes ``benchmarks/results/conv_speed.{json,md}``.

For each layer shape of the thesis (von Hacht, Tables 3.2-3.5; 5x5 filters,
padding 2, stride 1) it times one forward and one backward pass of

- chapter 04's naive loops (``backproplab.conv_naive``), timed once;
- chapter 05's im2col layers (the solution's answer cells) on NumPy;
- chapter 05's provided fast path (``FastConv2D``: columns ordered (n, i, j) x
  (k, l, c) from an NHWC copy, the batch in one block of images per core, each
  block's copies and GEMMs on its core with BLAS on one thread), on NumPy;
- ``torch.nn.functional.conv2d`` with autograd, on the same number of threads;

and the same machine's float32 GEMM of the shape im2col's forward GEMM has,
``(F, C K^2) @ (C K^2, N H' W')``. One forward + backward is three such GEMMs
(the output, dW and the column gradient), so the achieved rate is
``3 * 2 N F C K^2 H' W' / seconds``.

Targets (issue 7): im2col >= 100x faster than naive, within 3x of PyTorch on
the CPU, >= 50 % of the GEMM rate on the second layer; (issue 22) the second
layers within 2.5x of PyTorch and >= 60 % of the GEMM rate. With a CUDA GPU that
CuPy sees, it also times CuPy im2col against cuDNN (TF32 off on both sides,
CUDA events) at batch 100 and 128, and NumPy against CuPy at batch 128:
within 3x of cuDNN, >= 20x faster than NumPy.
"""

import argparse

import numpy as np

from chapter05 import conv_flops, solution
from report import blas_threads, load_note, table, write
from timing import best_cpu_seconds

K, PAD = 5, 2
LAYERS = [
    ("CIFAR conv1", (3, 32, 32), 32),
    ("CIFAR conv2", (32, 16, 16), 64),
    ("Table 3.2 conv1", (1, 28, 28), 32),
    ("Table 3.2 conv2", (32, 14, 14), 64),
]


def layer_arrays(batch, chw, num_filters, xp=np, seed=0):
    """Random float32 ``x (N, C, H, W)``, ``w (F, C, K, K)``, ``b (F,)`` and ``dout (N, F, H, W)``."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, *chw), dtype=np.float32)
    w = rng.standard_normal((num_filters, chw[0], K, K), dtype=np.float32) * 0.1
    b = rng.standard_normal(num_filters, dtype=np.float32)
    dout = rng.standard_normal((batch, num_filters, *chw[1:]), dtype=np.float32)
    return tuple(xp.asarray(a) for a in (x, w, b, dout))


def im2col_step(x, w, b, dout):
    """One forward and backward pass of the student's im2col layer."""
    ns = solution()
    _, cache = ns["conv_forward_im2col"](x, w, b, 1, PAD)
    return ns["conv_backward_im2col"](dout, cache)


def fast_step(layer, x, dout):
    """One forward and backward pass of the chapter's fast path layer."""
    layer.forward(x, True)
    return layer.backward(dout)


def fast_layer(w, b):
    """A ``FastConv2D`` (stride 1, padding 2) holding ``w`` and ``b``."""
    layer = solution()["FastConv2D"](w.shape[0], K, 1, PAD)
    layer.params = {"W": w, "b": b}
    return layer


def naive_step(x, w, b, dout):
    """One forward and backward pass of chapter 04's naive layer."""
    from backproplab.conv_naive import conv_backward_naive, conv_forward_naive

    _, cache = conv_forward_naive(x, w, b, 1, PAD)
    return conv_backward_naive(dout, cache)


def torch_step(arrays, device="cpu"):
    """A function running ``conv2d`` forward and backward on copies of ``arrays`` on ``device``."""
    import torch
    import torch.nn.functional as F

    x, w, b, dout = (torch.as_tensor(np.asarray(a), device=device) for a in arrays)
    for t in (x, w, b):
        t.requires_grad_()

    def step():
        for t in (x, w, b):
            t.grad = None
        F.conv2d(x, w, b, padding=PAD).backward(dout)

    return step


def gemm_function(batch, chw, num_filters):
    """A function running the GEMM im2col's forward pass does, on random float32 matrices."""
    rng = np.random.default_rng(1)
    A = rng.standard_normal((num_filters, chw[0] * K * K), dtype=np.float32)
    B = rng.standard_normal((chw[0] * K * K, batch * chw[1] * chw[2]), dtype=np.float32)
    return lambda: A @ B


def interleaved_best(functions, rounds, repeat=5):
    """The best time of each function, timed in ``rounds`` rounds that take turns.

    On a machine shared with other work the load changes from second to second;
    taking turns gives every contender the quiet moments and the busy ones alike.
    """
    best = [float("inf")] * len(functions)
    for _ in range(rounds):
        for index, fn in enumerate(functions):
            best[index] = min(best[index], best_cpu_seconds(fn, repeat=repeat))
    return best


def cpu_row(name, batch, chw, num_filters, naive_repeat, rounds=4):
    """Time naive, im2col and PyTorch on one layer shape; return the row's numbers."""
    import torch

    torch.set_num_threads(blas_threads())
    arrays = layer_arrays(batch, chw, num_filters)
    flops = 3 * conv_flops((batch, *chw), num_filters, K, chw[1:])
    naive = best_cpu_seconds(lambda: naive_step(*arrays), repeat=naive_repeat, warmup=0)
    layer = fast_layer(*arrays[1:3])
    fast, fast_path, torch_s, gemm = interleaved_best(
        [
            lambda: im2col_step(*arrays),
            lambda: fast_step(layer, arrays[0], arrays[3]),
            torch_step(arrays),
            gemm_function(batch, chw, num_filters),
        ],
        rounds,
    )
    return {
        "layer": name,
        "x_shape": [batch, *chw],
        "filters": num_filters,
        "naive_s": naive,
        "im2col_s": fast,
        "fast_path_s": fast_path,
        "torch_s": torch_s,
        "im2col_gflops": flops / fast / 1e9,
        "fast_path_gflops": flops / fast_path / 1e9,
        "gemm_gflops": flops / 3 / gemm / 1e9,
        "naive_over_im2col": naive / fast,
        "im2col_over_torch": fast / torch_s,
        "fast_path_over_torch": fast_path / torch_s,
    }


def gpu_row(name, batch, chw, num_filters, numpy_seconds=None):
    """Time CuPy im2col and cuDNN (TF32 off on both) on one layer shape, with CUDA events."""
    import cupy
    import torch

    from timing import best_cupy_seconds, best_torch_cuda_seconds

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    arrays = layer_arrays(batch, chw, num_filters, xp=cupy)
    cupy_s = best_cupy_seconds(lambda: im2col_step(*arrays))
    cudnn_s = best_torch_cuda_seconds(torch_step([cupy.asnumpy(a) for a in arrays], device="cuda"))
    row = {
        "layer": name,
        "x_shape": [batch, *chw],
        "filters": num_filters,
        "cupy_s": cupy_s,
        "cudnn_s": cudnn_s,
        "cupy_over_cudnn": cupy_s / cudnn_s,
    }
    if numpy_seconds is not None:
        row.update(numpy_s=numpy_seconds, numpy_over_cupy=numpy_seconds / cupy_s)
    return row


def cpu_table(rows):
    columns = [
        "layer",
        "x",
        "naive ms",
        "im2col ms",
        "fast path ms",
        "PyTorch ms",
        "naive / im2col",
        "im2col / PyTorch",
        "fast path / PyTorch",
        "im2col GFLOP/s",
        "fast path GFLOP/s",
        "GEMM GFLOP/s",
        "im2col % of GEMM",
        "fast path % of GEMM",
    ]
    cells = [
        [
            r["layer"],
            "x".join(map(str, r["x_shape"])) + f" -> {r['filters']}",
            _ms(r["naive_s"]),
            _ms(r["im2col_s"]),
            _ms(r["fast_path_s"]),
            _ms(r["torch_s"]),
            f"{r['naive_over_im2col']:.0f}x",
            f"{r['im2col_over_torch']:.2f}x",
            f"{r['fast_path_over_torch']:.2f}x",
            f"{r['im2col_gflops']:.1f}",
            f"{r['fast_path_gflops']:.1f}",
            f"{r['gemm_gflops']:.1f}",
            f"{100 * r['im2col_gflops'] / r['gemm_gflops']:.0f} %",
            f"{100 * r['fast_path_gflops'] / r['gemm_gflops']:.0f} %",
        ]
        for r in rows
    ]
    return table(columns, cells)


def gpu_table(rows):
    columns = [
        "layer",
        "x",
        "CuPy im2col ms",
        "cuDNN ms",
        "CuPy / cuDNN",
        "NumPy ms",
        "NumPy / CuPy",
    ]
    cells = [
        [
            r["layer"],
            "x".join(map(str, r["x_shape"])) + f" -> {r['filters']}",
            _ms(r["cupy_s"]),
            _ms(r["cudnn_s"]),
            f"{r['cupy_over_cudnn']:.2f}x",
            _ms(r.get("numpy_s")),
            f"{r['numpy_over_cupy']:.0f}x" if "numpy_over_cupy" in r else "-",
        ]
        for r in rows
    ]
    return table(columns, cells)


def _ms(seconds):
    return "-" if seconds is None else f"{1e3 * seconds:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument(
        "--quick", action="store_true", help="batch 4 and one naive run: a smoke test"
    )
    parser.add_argument(
        "--rounds", type=int, default=4, help="rounds of 5 timed runs each, taking turns"
    )
    parser.add_argument(
        "--results", default=None, help="folder for the results (default benchmarks/results)"
    )
    args = parser.parse_args()
    batch = 4 if args.quick else args.batch
    rounds = 1 if args.quick else args.rounds
    rows = [cpu_row(name, batch, chw, f, 1, rounds) for name, chw, f in LAYERS]
    markdown = ["## CPU: one forward + backward pass, float32", ""] + cpu_table(rows)
    gpu_rows = gpu_rows_if_any(batch, args.quick)
    if gpu_rows:
        markdown += ["", "## GPU: CUDA events, TF32 off", ""] + gpu_table(gpu_rows)
    notes = [load_note()] + (
        ["No CUDA GPU was visible to CuPy, so the GPU comparison was not run."]
        if not gpu_rows
        else []
    )
    write("conv_speed", {"cpu": rows, "gpu": gpu_rows}, markdown, notes, results_dir=args.results)


def gpu_rows_if_any(batch, quick):
    """The GPU rows at ``batch`` and at 128 (with NumPy's time at 128), or ``[]`` without a GPU."""
    from report import gpu_name

    if gpu_name() is None:
        return []
    rows = [gpu_row(name, batch, chw, f) for name, chw, f in LAYERS]
    big = 8 if quick else 128
    for name, chw, f in LAYERS:
        arrays = layer_arrays(big, chw, f)  # made once: the timing is of the layer alone
        numpy_s = best_cpu_seconds(lambda arrays=arrays: im2col_step(*arrays), repeat=2)
        rows.append(gpu_row(name, big, chw, f, numpy_seconds=numpy_s))
    return rows


if __name__ == "__main__":
    main()
