"""One epoch of Fashion-MNIST with Table 3.2's network: chapter 05's code against PyTorch, in one run.

Usage: ``python benchmarks/fashion_epoch.py [--images 60000]``.
Writes ``benchmarks/results/fashion_epoch.{json,md}``.

Both sides train the same network (von Hacht, Table 3.2) with AdamW (lr 1e-3,
weight decay 1e-3 on the weights), batch 100, on the same shuffled batches, in
float32: chapter 05's ``train_step`` on NumPy, with the student's layers and
with the chapter's provided fast path (``fast_path(net)``: the fast layers, and
``fast_train_step``: AdamW in place), and ``torch.nn`` on the CPU with as many threads as NumPy's
BLAS. With a CUDA GPU, also chapter 05 on CuPy and
PyTorch on CUDA (TF32 off), with the peak GPU memory of each, to compare with
the thesis' 670 MiB for its Model A (von Hacht, Table 3.3) at batch 100.
"""

import argparse
import time

import numpy as np

from chapter05 import epoch_ours, epoch_torch, fashion_mnist, solution, torch_adamw, torch_table_3_2
from report import blas_threads, gpu_name, load_note, table, write

LR, WEIGHT_DECAY = 1e-3, 1e-3


def time_ours(X, y, xp=np, fast=False):
    """Seconds and mean loss of one epoch of chapter 05's network on ``xp`` (numpy or cupy).

    fast: switch the network to the chapter's fast path (the same parameters) and
    train with its ``fast_train_step`` (AdamW in place).
    """
    net = solution()["table_3_2_network"](seed=0, xp=xp)
    if fast:
        solution()["fast_path"](net)
    step = "fast_train_step" if fast else "train_step"
    start = time.perf_counter()
    loss = epoch_ours(net, X, y, {}, LR, WEIGHT_DECAY, step=step)
    if xp is not np:
        xp.cuda.Device().synchronize()
    return time.perf_counter() - start, loss


def time_torch(X, y, device="cpu"):
    """Seconds and mean loss of one epoch of the PyTorch network on ``device``."""
    import torch

    torch.manual_seed(0)
    model = torch_table_3_2().to(device)
    optimizer = torch_adamw(model, LR, WEIGHT_DECAY)
    start = time.perf_counter()
    loss = epoch_torch(model, optimizer, X, y, device=device)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, loss


def cpu_rows(X, y):
    import torch

    torch.set_num_threads(blas_threads())
    ours_s, ours_loss = time_ours(X, y)
    torch_s, torch_loss = time_torch(X, y)
    fast_s, fast_loss = time_ours(X, y, fast=True)
    return [
        {
            "implementation": "chapter 05, NumPy",
            "device": "cpu",
            "seconds": ours_s,
            "mean_loss": ours_loss,
        },
        {"implementation": "PyTorch", "device": "cpu", "seconds": torch_s, "mean_loss": torch_loss},
        {
            "implementation": "chapter 05, NumPy, fast path",
            "device": "cpu",
            "seconds": fast_s,
            "mean_loss": fast_loss,
        },
    ]


def gpu_rows(X, y):
    """Chapter 05 on CuPy and PyTorch on CUDA, each with its peak GPU memory in MiB."""
    import cupy
    import torch

    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    ours_s, ours_loss = time_ours(X, y, xp=cupy)
    # CuPy's pool keeps what it allocated: its size is the peak
    ours_mib = pool.total_bytes() / 2**20
    torch.cuda.reset_peak_memory_stats()
    torch_s, torch_loss = time_torch(X, y, device="cuda")
    torch_mib = torch.cuda.max_memory_allocated() / 2**20
    return [
        {
            "implementation": "chapter 05, CuPy",
            "device": "cuda",
            "seconds": ours_s,
            "mean_loss": ours_loss,
            "peak_gpu_mib": ours_mib,
        },
        {
            "implementation": "PyTorch",
            "device": "cuda",
            "seconds": torch_s,
            "mean_loss": torch_loss,
            "peak_gpu_mib": torch_mib,
        },
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60_000, help="training images in the epoch")
    parser.add_argument(
        "--results", default=None, help="folder for the results (default benchmarks/results)"
    )
    args = parser.parse_args()
    X, y = (a[: args.images] for a in fashion_mnist()[:2])
    rows = cpu_rows(X, y) + (gpu_rows(X, y) if gpu_name() else [])
    cells = [
        [
            r["implementation"],
            r["device"],
            f"{r['seconds']:.1f}",
            f"{r['mean_loss']:.3f}",
            f"{r['peak_gpu_mib']:.0f}" if "peak_gpu_mib" in r else "-",
        ]
        for r in rows
    ]
    markdown = [f"## One epoch, {len(X):,} images, batch 100", ""]
    markdown += table(
        ["implementation", "device", "seconds", "mean batch loss", "peak GPU MiB"], cells
    )
    ratio = rows[0]["seconds"] / rows[1]["seconds"]
    fast_ratio = rows[2]["seconds"] / rows[1]["seconds"]
    notes = [
        f"Chapter 05 on NumPy takes {ratio:.2f}x PyTorch's CPU time; "
        f"with the fast path {fast_ratio:.2f}x.",
        load_note(),
    ]
    if not gpu_name():
        notes.append("No CUDA GPU was visible to CuPy, so the GPU epoch was not run.")
    write("fashion_epoch", rows, markdown, notes, results_dir=args.results)


if __name__ == "__main__":
    main()
