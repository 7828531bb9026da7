"""Timers for the benchmarks: wall clock on the CPU, CUDA events on the GPU.

A GPU runs asynchronously: a kernel launch returns before the kernel has run,
so a CPU clock around it measures the launch, not the work. CUDA events are
recorded into the stream and ``synchronize`` waits for them, so the time
between two events is the time the GPU spent on what was queued between them.
"""

import time


def best_cpu_seconds(fn, repeat=5, warmup=1):
    """The fastest of ``repeat`` calls of ``fn()`` in seconds, after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def best_cupy_seconds(fn, repeat=10, warmup=2):
    """Like :func:`best_cpu_seconds` for CuPy work, timed with CUDA events on the current stream."""
    import cupy

    for _ in range(warmup):
        fn()
    cupy.cuda.Device().synchronize()
    best = float("inf")
    for _ in range(repeat):
        start, stop = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        best = min(best, cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return best


def best_torch_cuda_seconds(fn, repeat=10, warmup=2):
    """Like :func:`best_cupy_seconds` for PyTorch CUDA work, timed with ``torch.cuda.Event``."""
    import torch

    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    best = float("inf")
    for _ in range(repeat):
        start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        stop.record()
        stop.synchronize()
        best = min(best, start.elapsed_time(stop) / 1e3)
    return best
