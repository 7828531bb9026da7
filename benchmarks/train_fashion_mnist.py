r"""Train Table 3.2's network on all of Fashion-MNIST with chapter 05's code, to the 2-conv baseline.

Usage: ``python benchmarks/train_fashion_mnist.py [--max-epochs 15] [--target 0.916] [--schedule cosine] [--batchnorm] [--fast] [--hflip]``.
Writes ``benchmarks/results/train_fashion_mnist.{json,md}``, or with ``--batchnorm``
``train_fashion_mnist_batchnorm.{json,md}``.

The network (von Hacht, Table 3.2), AdamW (chapter 03; von Hacht, eq. 2.41)
with weight decay on the weights, batch 100, dropout keep probability 0.5,
float32, on CuPy when a GPU is visible, else NumPy. 54,000 images train and
6,000 validate; after every epoch the validation and test accuracy are
measured. Training stops after the first epoch whose validation accuracy
reaches ``--target`` (91.6 %, the two-convolution baseline in the
Fashion-MNIST README), or after ``--max-epochs``. The test accuracy reported is
that of the epoch with the best validation accuracy: the test set chooses
nothing. The learning rate is divided by ``--lr-drop`` (default 3) whenever
the validation accuracy does not improve, or with ``--schedule cosine`` follows
:math:`\eta_e = \tfrac{\eta}{2}\,(1 + \cos(\pi (e - 1) / E))` in epoch
:math:`e` of :math:`E` = ``--max-epochs``.

``--batchnorm`` adds chapter 04's batch norm per channel after each convolution
(``chapter05.table_3_2_batchnorm_network``). ``--fast`` trains with chapter 05's
provided fast path (``fast_path``, ``fast_train_step``): the same mathematics,
faster on the CPU. ``--hflip`` mirrors each training image left-right with
probability 1/2 (clothes, unlike digits, look the same mirrored).
"""

import argparse
import math
import time

import numpy as np

from chapter05 import epoch_ours, fashion_mnist, solution, table_3_2_batchnorm_network
from report import gpu_name, table, write

NUM_VAL = 6_000


def split(seed=0, images=None):
    """``(X_train, y_train, X_val, y_val, X_test, y_test)``: 54,000 / 6,000 / 10,000 images.

    images: at most this many of each (a smoke test); None for all.
    """
    X, y, X_test, y_test = fashion_mnist()
    order = np.random.default_rng(seed).permutation(len(X))
    val, train = order[:NUM_VAL][:images], order[NUM_VAL:][:images]
    return X[train], y[train], X[val], y[val], X_test[:images], y_test[:images]


def train_until(args, data):
    """Train epoch by epoch; return one row per epoch (losses, accuracies, seconds, learning rate)."""
    from backproplab.backend import get_xp

    ns = solution()
    X_train, y_train, X_val, y_val, X_test, y_test = data
    build = table_3_2_batchnorm_network if args.batchnorm else ns["table_3_2_network"]
    net = build(seed=0, keep_prob=0.5, xp=get_xp())
    if args.fast:
        ns["fast_path"](net)
    step = "fast_train_step" if args.fast else "train_step"
    configs, lr, rows, start = {}, args.lr, [], time.perf_counter()
    for epoch in range(1, args.max_epochs + 1):
        lr = epoch_lr(args, epoch, rows, lr)
        for config in configs.values():
            config["lr"] = lr
        train_loss = epoch_ours(
            net,
            X_train,
            y_train,
            configs,
            lr,
            args.weight_decay,
            seed=epoch,
            step=step,
            hflip=args.hflip,
        )
        val_acc, test_acc = (
            ns["evaluate"](net, X, y)[1] for X, y in ((X_val, y_val), (X_test, y_test))
        )
        rows.append(
            {
                "epoch": epoch,
                "lr": lr,
                "train_loss": train_loss,
                "val_acc": val_acc,
                "test_acc": test_acc,
                "seconds": time.perf_counter() - start,
            }
        )
        print(
            f"epoch {epoch}: lr {lr:.2e}, loss {train_loss:.4f}, validation {val_acc:.4f}, test {test_acc:.4f}, "
            f"{rows[-1]['seconds']:.0f} s",
            flush=True,
        )
        if val_acc >= args.target:
            break
    return rows


def epoch_lr(args, epoch, rows, lr):
    """The learning rate of ``epoch`` (from 1): cosine, or ``lr`` divided after a validation accuracy that did not improve.

    rows: the epochs so far (:func:`train_until`'s rows); lr: the last epoch's rate.
    """
    if args.schedule == "cosine":
        return args.lr * 0.5 * (1 + math.cos(math.pi * (epoch - 1) / args.max_epochs))
    improved = len(rows) < 2 or rows[-1]["val_acc"] > max(r["val_acc"] for r in rows[:-1])
    return lr if improved else lr / args.lr_drop


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-epochs", type=int, default=15)
    parser.add_argument("--target", type=float, default=0.916)
    parser.add_argument("--lr", type=float, default=5e-4)
    parser.add_argument("--lr-drop", type=float, default=3.0)
    parser.add_argument(
        "--schedule",
        choices=["plateau", "cosine"],
        default="plateau",
        help="divide the rate by --lr-drop when validation does not improve, or cosine over the epochs",
    )
    parser.add_argument("--weight-decay", type=float, default=1e-3)
    parser.add_argument(
        "--batchnorm", action="store_true", help="batch norm per channel after each convolution"
    )
    parser.add_argument(
        "--fast", action="store_true", help="train with chapter 05's provided fast path"
    )
    parser.add_argument(
        "--hflip", action="store_true", help="mirror training images left-right at random"
    )
    parser.add_argument(
        "--images",
        type=int,
        default=None,
        help="at most this many images in each set (a smoke test)",
    )
    parser.add_argument(
        "--results", default=None, help="folder for the results (default benchmarks/results)"
    )
    args = parser.parse_args()
    rows = train_until(args, split(images=args.images))
    best = max(rows, key=lambda r: r["val_acc"])
    cells = [
        [
            r["epoch"],
            f"{r['lr']:.1e}",
            f"{r['train_loss']:.4f}",
            f"{100 * r['val_acc']:.2f} %",
            f"{100 * r['test_acc']:.2f} %",
            f"{r['seconds']:.0f}",
        ]
        for r in rows
    ]
    network = "Table 3.2's network" + (
        " with batch norm after each convolution" if args.batchnorm else ""
    )
    code = "chapter 05's fast path" if args.fast else "chapter 05's code (the students' layers)"
    flips = ", training images mirrored at random" if args.hflip else ""
    schedule = ", cosine learning rate" if args.schedule == "cosine" else ""
    markdown = [f"## {network} on Fashion-MNIST, {code}{flips}{schedule}", ""]
    markdown += table(
        ["epoch", "lr", "train loss", "validation acc.", "test acc.", "seconds so far"], cells
    )
    stop = (
        f"stopping at validation accuracy {100 * args.target:.1f} %"
        if args.target < 1
        else "no early stop"
    )
    notes = [
        f"Best validation accuracy at epoch {best['epoch']}: test accuracy {100 * best['test_acc']:.2f} % "
        f"({len(rows)} epochs, {stop}), {rows[-1]['seconds'] / 60:.1f} min in all on "
        f"{gpu_name() or 'the CPU (NumPy)'}.",
        "Arguments: "
        + ", ".join(f"{k} {v}" for k, v in vars(args).items() if k != "results")
        + ".",
    ]
    hyperparameters = {k: v for k, v in vars(args).items() if k != "results"}
    results = {"args": hyperparameters, "epochs": rows, "best_epoch": best["epoch"]}
    name = "train_fashion_mnist" + ("_batchnorm" if args.batchnorm else "")
    write(name, results, markdown, notes, results_dir=args.results)


if __name__ == "__main__":
    main()
