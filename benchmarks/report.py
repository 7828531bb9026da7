"""What every benchmark writes: the machine it ran on, and its results as JSON and Markdown.

A result is only comparable with another from the same machine, so each file
records the CPU, the thread counts of the BLAS/OpenMP pools, the library
versions and, when there is one, the GPU.
"""

import datetime
import json
import os
import platform
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def machine_info():
    """``{"date", "cpu", "cpus", "python", "numpy", "torch", "threads", "gpu"}`` of this machine."""
    import numpy
    from threadpoolctl import threadpool_info

    info = {
        "date": datetime.date.today().isoformat(),
        "cpu": _cpu_model(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "threads": {f"{p['internal_api']}": p["num_threads"] for p in threadpool_info()},
        "gpu": gpu_name(),
    }
    info.update(_torch_info())
    return info


def gpu_name():
    """The CUDA device CuPy would use, or ``None`` when CuPy sees no GPU."""
    from backproplab.backend import get_xp

    xp = get_xp()
    if xp.__name__ != "cupy":
        return None
    props = xp.cuda.runtime.getDeviceProperties(0)
    return props["name"].decode() if isinstance(props["name"], bytes) else props["name"]


def write(name, rows, markdown, notes=(), results_dir=None):
    """Save ``rows`` to ``<results_dir>/<name>.json`` and a Markdown report to ``<name>.md``.

    rows: the measurements (JSON-ready); markdown: the results table as
    Markdown lines; notes: sentences listed under the table; results_dir:
    default ``benchmarks/results``.
    """
    folder = Path(results_dir) if results_dir else RESULTS
    folder.mkdir(parents=True, exist_ok=True)
    machine = machine_info()
    (folder / f"{name}.json").write_text(
        json.dumps({"machine": machine, "results": rows}, indent=2) + "\n"
    )
    lines = list(markdown) + [""] + [f"- {n}" for n in notes]
    header = [f"# {name}", "", f"Machine: {_describe(machine)}", ""]
    (folder / f"{name}.md").write_text("\n".join(header + lines).rstrip() + "\n")
    print("\n".join(lines))


def load_note():
    """A sentence with the load average when it is called: timings on a busy machine are slower."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return "The load average was not available."
    return (
        f"Load average (1 min) at the end of the run: {load:.1f} on {os.cpu_count()} CPUs; "
        "other processes share the machine when it exceeds the thread count."
    )


def blas_threads():
    """How many threads NumPy's BLAS uses (what PyTorch is given, for a fair comparison)."""
    from threadpoolctl import threadpool_info

    counts = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
    return max(counts, default=os.cpu_count())


def table(columns, rows):
    """A Markdown table: ``columns`` are the headers, ``rows`` lists of cells (already formatted)."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]


def _describe(machine):
    gpu = machine["gpu"] or "no GPU"
    threads = ", ".join(f"{k} {v}" for k, v in machine["threads"].items())
    return (
        f"{machine['cpu']}, {machine['cpus']} CPUs ({threads}), {gpu}; Python {machine['python']}, "
        f"NumPy {machine['numpy']}, PyTorch {machine.get('torch', 'absent')}; {machine['date']}"
    )


def _cpu_model():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _torch_info():
    try:
        import torch
    except ImportError:
        return {}
    return {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
