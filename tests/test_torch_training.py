"""Unit tests of backproplab.torch_training: chapter 07's answers as chapter 08 gets them, and the fit loop."""

import pytest
import torch
from torch import nn

from backproplab.torch_training import evaluate, fit, make_loader, topk_accuracy, train_step


def small_model(seed=0, classes=6):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, classes))


def data(n=24, classes=6, seed=1):
    generator = torch.Generator().manual_seed(seed)
    return torch.randn(n, 4, generator=generator), torch.randint(
        0, classes, (n,), generator=generator
    )


def test_train_step_is_one_optimizer_step_in_training_mode():
    model, (X, y) = small_model(), data()
    reference = small_model()
    model.eval()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss = train_step(model, X, y, optimizer, nn.CrossEntropyLoss())
    assert model.training and isinstance(loss, float)
    reference.train()
    expected = nn.functional.cross_entropy(reference(X), y)
    expected.backward()
    assert loss == pytest.approx(expected.item(), rel=1e-6)
    for p, q in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(p.detach(), (q - 0.1 * q.grad).detach())


def test_topk_accuracy_counts_the_true_class_among_the_k_largest():
    logits = torch.tensor([[0.1, 0.5, 0.2, 0.9], [3.0, 2.0, 1.0, 0.0], [0.0, 0.1, 0.2, 0.3]])
    y = torch.tensor([1, 2, 0])
    assert topk_accuracy(logits, y, ks=(1, 2, 3, 4)) == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert topk_accuracy(logits, torch.tensor([3, 0, 3]), ks=(1,)) == pytest.approx([1.0])


def test_evaluate_is_exact_in_eval_mode_and_restores_every_mode():
    model, (X, y) = small_model(), data(n=25)
    model.train()
    model[1].eval()  # a frozen BN inside a model in training mode
    stats = model[1].running_mean.clone()
    result = evaluate(model, make_loader(X, y, batch_size=7), nn.CrossEntropyLoss())
    assert [m.training for m in model] == [True, False, True, True]
    torch.testing.assert_close(model[1].running_mean, stats)
    with torch.no_grad():
        logits = model.eval()(X)
    assert result["loss"] == pytest.approx(nn.functional.cross_entropy(logits, y).item(), rel=1e-5)
    top1, top5 = topk_accuracy(logits, y)
    assert result["top1"] == pytest.approx(top1) and result["top5"] == pytest.approx(top5)


def test_fit_records_every_step_and_each_epoch():
    model, (X, y) = small_model(), data(n=30)
    loader = make_loader(X, y, batch_size=8, shuffle=True, seed=3)
    history = fit(
        model,
        torch.optim.Adam(model.parameters(), lr=0.05),
        loader,
        nn.CrossEntropyLoss(),
        5,
        val_loader=make_loader(X, y, 30),
    )
    assert len(history["loss"]) == 5 * 4 and history["epoch"] == [1, 2, 3, 4, 5]
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_top1"][-1] >= history["val_top1"][0]


def test_fit_calls_set_mode_before_every_step_so_frozen_bn_stays_frozen():
    model, (X, y) = small_model(), data()
    for p in list(model[0].parameters()) + list(model[1].parameters()):
        p.requires_grad = False
    calls = []

    def set_mode(m):
        calls.append(1)
        m.train()
        m[1].eval()

    stats = model[1].running_var.clone()
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=0.01)
    fit(
        model,
        optimizer,
        make_loader(X, y, batch_size=6),
        nn.CrossEntropyLoss(),
        2,
        set_mode=set_mode,
    )
    assert len(calls) == 8
    torch.testing.assert_close(model[1].running_var, stats)


def test_fit_is_reproducible_with_a_seeded_loader():
    runs = []
    for _ in range(2):
        model, (X, y) = small_model(), data()
        loader = make_loader(X, y, batch_size=5, shuffle=True, seed=11)
        runs.append(
            fit(
                model, torch.optim.SGD(model.parameters(), lr=0.1), loader, nn.CrossEntropyLoss(), 3
            )["loss"]
        )
    assert runs[0] == runs[1]
