"""The training loop chapter 08 and ``backproplab.pretrain_backbone`` train with: ``fit``, ``make_loader``.

This is the course's own code, not an answer; ``backproplab.torch_training``
(chapter 07's answers, generated from its solution) re-exports both, and
``fit`` evaluates with that module's ``evaluate``, imported when it runs.

One thing ``fit`` adds to chapter 07's ``train_step``: ``train_step`` calls
``model.train()``, which also puts every batch-norm layer into training mode,
where it normalises with the batch's statistics and *updates its running
statistics* — even when its parameters are frozen. A frozen backbone should
stay exactly as it was, so ``fit`` takes a ``set_mode(model)`` function that
puts the model into training mode the way the experiment needs (chapter 08's
``set_train_mode`` keeps frozen BN layers in eval mode); the default is
``model.train()``.
"""

import torch
from torch.utils.data import DataLoader, TensorDataset

__all__ = ["fit", "make_loader"]


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
        mode (default ``model.train()``); pass chapter 08's ``set_train_mode``
        to keep frozen batch-norm layers in eval mode.
    progress: show a ``tqdm.auto`` progress bar over the steps.
    Returns the history, a dict of lists: ``"loss"`` (every step's batch loss),
    and, when ``val_loader`` is given, ``"epoch"``, ``"val_loss"``, ``"val_top1"``,
    ``"val_top5"`` after each epoch.
    """
    from tqdm.auto import tqdm

    from backproplab.torch_training import evaluate  # chapter 07's answer

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
