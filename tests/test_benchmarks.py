"""The benchmark scripts run end to end (at smoke-test size) and write their results."""

import json
import math
import os
import subprocess
import sys

import pytest

from autograder.course import REPO
from backproplab.datasets import DEBIAN_FASHION_MNIST

BENCHMARKS = REPO / "benchmarks"


def run_script(name, *args, results, output=None):
    """Run ``benchmarks/<name>.py`` with ``--results results``; return its JSON results (``<output or name>.json``)."""
    subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), *args, "--results", str(results)],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return json.loads((results / f"{output or name}.json").read_text())


def test_conv_speed_times_every_layer_three_ways(tmp_path):
    """conv_speed.py --quick times naive, im2col and PyTorch on each thesis layer and writes the table."""
    data = run_script("conv_speed", "--quick", results=tmp_path)
    rows = data["results"]["cpu"]
    assert [r["layer"] for r in rows] == [
        "CIFAR conv1",
        "CIFAR conv2",
        "Table 3.2 conv1",
        "Table 3.2 conv2",
    ]
    for r in rows:
        for key in ("naive_s", "im2col_s", "torch_s", "im2col_gflops", "gemm_gflops"):
            assert math.isfinite(r[key]) and r[key] > 0, (r["layer"], key, r[key])
    table = (tmp_path / "conv_speed.md").read_text()
    assert "naive / im2col" in table and "Table 3.2 conv2" in table
    assert data["machine"]["cpus"] >= 1


@pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir() and not os.environ.get("BACKPROPLAB_REQUIRE_FASHION_MNIST"),
    reason="Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)
def test_fashion_epoch_compares_with_pytorch(tmp_path):
    """fashion_epoch.py on 300 images trains both networks and reports finite losses and times."""
    rows = run_script("fashion_epoch", "--images", "300", results=tmp_path)["results"]
    assert [r["implementation"] for r in rows[:2]] == ["chapter 05, NumPy", "PyTorch"]
    for r in rows:
        assert r["seconds"] > 0 and math.isfinite(r["mean_loss"]), r


@pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir() and not os.environ.get("BACKPROPLAB_REQUIRE_FASHION_MNIST"),
    reason="Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)
def test_train_fashion_mnist_with_batchnorm_on_the_fast_path(tmp_path):
    """train_fashion_mnist.py --batchnorm --fast --hflip --schedule cosine on 400 images: two epochs, their rates and accuracies, and the table."""
    args = [
        "--batchnorm",
        "--fast",
        "--hflip",
        "--schedule",
        "cosine",
        "--lr",
        "1e-3",
        "--images",
        "400",
        "--max-epochs",
        "2",
        "--target",
        "1.0",
    ]
    data = run_script(
        "train_fashion_mnist",
        *args,
        results=tmp_path / "results",
        output="train_fashion_mnist_batchnorm",
    )
    assert [row["epoch"] for row in data["results"]["epochs"]] == [1, 2]
    # cosine over 2 epochs: the full rate, then half of it (cos(pi / 2) = 0)
    assert [row["lr"] for row in data["results"]["epochs"]] == pytest.approx([1e-3, 5e-4])
    for row in data["results"]["epochs"]:
        assert 0.0 <= row["val_acc"] <= 1.0 and 0.0 <= row["test_acc"] <= 1.0, row
        assert math.isfinite(row["train_loss"]), row
    table = (tmp_path / "results" / "train_fashion_mnist_batchnorm.md").read_text()
    assert "with batch norm after each convolution" in table and "fast path" in table
    assert "mirrored at random" in table and "no early stop" in table
    assert "cosine" in table


def test_transfer_learning_reads_the_table_chapter_08_prints(tmp_path):
    """transfer_learning.py --smoke runs chapter 08's solution and records every method's accuracy at 5 labels per class."""
    rows = run_script("transfer_learning", "--smoke", results=tmp_path)["results"]
    assert [r["method"] for r in rows] == ["scratch", "frozen", "fine-tune", "fine-tune, one lr"]
    assert all(r["per_class"] == 5 and 0.0 <= r["mean"] <= 1.0 and r["std"] >= 0.0 for r in rows)
    assert "| scratch |" in (tmp_path / "transfer_learning.md").read_text()
