"""Chapter 06's PyTorch training code, provided to chapter 07: one step, top-k accuracy, evaluation, a loop.

``train_step``, ``topk_accuracy`` and ``evaluate`` are the answers to chapter
06's exercises, with exactly the signatures and the meaning that chapter grades
(``tests/test_torch_training.py`` checks them, and a test in chapter 06 ties the
two). :func:`fit` is the loop chapter 07 and ``backproplab.pretrain_backbone``
train with.

One thing ``fit`` adds: ``train_step`` calls ``model.train()``, which also puts
every batch-norm layer into training mode, where it normalises with the batch's
statistics and *updates its running statistics* — even when its parameters are
frozen. A frozen backbone should stay exactly as it was, so ``fit`` takes a
``set_mode(model)`` function that puts the model into training mode the way the
experiment needs (chapter 07's ``set_train_mode`` keeps frozen BN layers in
eval mode); the default is ``model.train()``.
"""

import torch
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["train_step", "topk_accuracy", "evaluate", "fit", "make_loader"]


def train_step(model, X, y, optimizer, loss_fn):
    """One step on the batch (X, y): model.train(); zero the gradients; loss; backward; optimizer step.

    X: (N, ...) inputs, y: (N,) int64 labels. Returns the batch's loss as a float.
    """
    model.train()
    optimizer.zero_grad()
    loss = loss_fn(model(X), y)
    loss.backward()
    optimizer.step()
    return loss.item()


def topk_accuracy(logits, y, ks=(1, 5)):
    """For each k in ks, the fraction of rows whose true class is among the k largest logits.

    logits: (N, K) float, y: (N,) int64. Returns a list of floats, one per k.
    """
    logits, y = logits.detach(), y.detach()
    ranked = logits.topk(max(ks), dim=1).indices  # (N, max k), best first
    hits = ranked == y.reshape(-1, 1)
    return [hits[:, :k].any(dim=1).float().mean().item() for k in ks]


def evaluate(model, loader, loss_fn):
    """Mean loss per example and top-1 / top-5 accuracy of ``model`` over the whole ``loader``.

    Runs in eval mode under ``torch.no_grad()`` and restores the model's
    previous train/eval mode (of every submodule) before returning.
    loader: yields (X, y) batches. Returns ``{"loss": float, "top1": float, "top5": float}``.
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    total_loss, top1, top5, n = 0.0, 0.0, 0.0, 0
    try:
        with torch.no_grad():
            for X, y in loader:
                logits = model(X)
                total_loss += loss_fn(logits, y).item() * len(y)
                acc1, acc5 = topk_accuracy(logits, y, ks=(1, min(5, logits.shape[1])))
                top1, top5, n = top1 + acc1 * len(y), top5 + acc5 * len(y), n + len(y)
    finally:
        for module, mode in modes:
            module.training = mode
    return {"loss": total_loss / n, "top1": top1 / n, "top5": top5 / n}


def make_loader(X, y, batch_size, shuffle=False, seed=0):
    """A DataLoader over the tensors X (N, ...) and y (N,); shuffled by a generator seeded with ``seed``."""
    generator = torch.Generator().manual_seed(seed) if shuffle else None
    return DataLoader(
        TensorDataset(X, y), batch_size=batch_size, shuffle=shuffle, generator=generator
    )


def _train_mode(model):
    model.train()


def fit(
    model,
    optimizer,
    loader,
    loss_fn,
    num_epochs,
    val_loader=None,
    set_mode=None,
    progress=False,
    desc="training",
):
    """Train ``model`` for ``num_epochs`` passes over ``loader``; evaluate on ``val_loader`` after each.

    set_mode: called as ``set_mode(model)`` before every step to enter training
        mode (default ``model.train()``); pass chapter 07's ``set_train_mode``
        to keep frozen batch-norm layers in eval mode.
    progress: show a ``tqdm.auto`` progress bar over the steps.
    Returns the history, a dict of lists: ``"loss"`` (every step's batch loss),
    and, when ``val_loader`` is given, ``"epoch"``, ``"val_loss"``, ``"val_top1"``,
    ``"val_top5"`` after each epoch.
    """
    from tqdm.auto import tqdm

    set_mode = set_mode or _train_mode
    history = {"loss": [], "epoch": [], "val_loss": [], "val_top1": [], "val_top5": []}
    with tqdm(total=num_epochs * len(loader), desc=desc, disable=not progress, leave=False) as bar:
        for epoch in range(num_epochs):
            for X, y in loader:
                set_mode(model)
                optimizer.zero_grad()
                loss = loss_fn(model(X), y)
                loss.backward()
                optimizer.step()
                history["loss"].append(loss.item())
                bar.update(1)
            if val_loader is not None:
                result = evaluate(model, val_loader, loss_fn)
                history["epoch"].append(epoch + 1)
                for key in ("loss", "top1", "top5"):
                    history[f"val_{key}"].append(result[key])
                bar.set_postfix(val_top1=f"{result['top1']:.3f}")
    return history
