"""Chapter 08's solution against independent computations in PyTorch, on models the notebook does not use.

- Feature extraction with the solution's ``freeze_backbone``, ``set_train_mode`` and
  ``param_groups`` is exactly eq. (2): logistic regression of a lone ``nn.Linear`` on
  features computed once, in eval mode, without gradients.
- Fine-tuning with the solution's parameter groups is two independent Adam optimizers,
  one per part, with their own learning rates.
- ``predict_proba`` is ``torch.nn.functional.softmax`` of the eval-mode logits, in float64.
- ``saliency_map`` is the centred-difference derivative of the eval-mode logit of the true
  class, pixel by pixel, in float64 (the maximum of its absolute value over the channels).
"""

import copy

import pytest

from autograder.submissions import solution_namespace
from tests.oracle import assert_close

torch = pytest.importorskip("torch")
nn = torch.nn

ASSIGNMENT = "08_transfer_learning"
SETUP = "ch08_setup"


@pytest.fixture(scope="module")
def ch07():
    """The namespace of the setup cell and every answer cell, run with ``exec``."""
    return solution_namespace(ASSIGNMENT, SETUP)


class Net(nn.Module):
    """A float64 CNN with BN and a head called ``classifier``: (N, 2, 9, 9) -> (N, 5)."""

    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(2, 6, 3),
            nn.BatchNorm2d(6),
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(6, 7),
            nn.BatchNorm1d(7),
            nn.ReLU(),
        )
        self.classifier = nn.Linear(7, 5)

    def forward(self, X):
        return self.classifier(self.features(X))


def data(seed, n=16):
    generator = torch.Generator().manual_seed(seed)
    return (
        torch.randn(n, 2, 9, 9, generator=generator, dtype=torch.float64),
        torch.randint(0, 5, (n,), generator=generator),
    )


def trained_net(seed=0):
    """A Net whose BN running statistics are not the defaults (a few training-mode passes)."""
    torch.manual_seed(seed)
    net = Net().double()
    with torch.no_grad():
        for k in range(3):
            net.train()(data(100 + k)[0] * (k + 1))
    return net


def test_feature_extraction_is_logistic_regression_on_fixed_features(ch07):
    """Eq. (2): frozen backbone + frozen BN in eval mode = a linear model on features computed once."""
    net = trained_net()
    ch07["freeze_backbone"](net, head_name="classifier")
    optimizer = torch.optim.Adam(
        ch07["param_groups"](net, lr_head=0.05, lr_backbone=1e-3, head_name="classifier")
    )
    head = copy.deepcopy(net.classifier)
    reference_optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    batches = [data(seed) for seed in range(6)]
    with torch.no_grad():
        features = [net.features.eval()(X) for X, _ in batches]
    for (X, y), Z in zip(batches, features):
        ch07["set_train_mode"](net)
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        optimizer.step()
        reference_optimizer.zero_grad()
        nn.functional.cross_entropy(head(Z), y).backward()
        reference_optimizer.step()
    assert_close(
        net.classifier.weight.detach().numpy(), head.weight, "head weight after 6 steps", tol=1e-10
    )
    assert_close(
        net.classifier.bias.detach().numpy(), head.bias, "head bias after 6 steps", tol=1e-10
    )


def test_fine_tuning_groups_are_two_adams_with_their_own_rates(ch07):
    net = trained_net(seed=1)
    twin = copy.deepcopy(net)
    groups = ch07["param_groups"](net, lr_head=2e-2, lr_backbone=3e-4, head_name="classifier")
    optimizer = torch.optim.Adam(groups)
    body_optimizer = torch.optim.Adam(twin.features.parameters(), lr=3e-4)
    head_optimizer = torch.optim.Adam(twin.classifier.parameters(), lr=2e-2)
    for seed in range(4):
        X, y = data(seed)
        ch07["set_train_mode"](net)
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(X), y).backward()
        optimizer.step()
        twin.train()
        body_optimizer.zero_grad()
        head_optimizer.zero_grad()
        nn.functional.cross_entropy(twin(X), y).backward()
        body_optimizer.step()
        head_optimizer.step()
    for (name, p), q in zip(net.state_dict().items(), twin.state_dict().values()):
        assert_close(p.double().numpy(), q.double(), name, tol=1e-10)


@pytest.mark.parametrize("batch_size", [1, 3, 16])
def test_predict_proba_is_the_softmax_of_eval_logits(ch07, batch_size):
    net = trained_net(seed=2)
    net.train()
    X, _ = data(7, n=11)
    with torch.no_grad():
        expected = nn.functional.softmax(copy.deepcopy(net).eval()(X), dim=-1)
    probs = ch07["predict_proba"](net, X, batch_size=batch_size)
    assert_close(probs.numpy(), expected, f"predict_proba, batch_size {batch_size}", tol=1e-12)
    assert net.training and all(m.training for m in net.modules())


def test_replace_head_matches_a_fresh_linear_layer(ch07):
    net = trained_net(seed=3)
    torch.manual_seed(5)
    ch07["replace_head"](net, 9, head_name="classifier")
    torch.manual_seed(5)
    fresh = nn.Linear(7, 9, dtype=torch.float64)
    assert net.classifier.weight.dtype == torch.float64
    assert_close(
        net.classifier.weight.detach().numpy(),
        fresh.weight,
        "the new head's initial weights",
        tol=1e-15,
    )


def test_saliency_is_the_numerical_derivative_of_the_true_class_logit(ch07):
    net = trained_net(seed=4)
    net.train()
    X, y = data(9, n=3)
    frozen = copy.deepcopy(net).eval()
    h, numerical = 1e-6, torch.zeros_like(X)
    with torch.no_grad():
        for index in torch.cartesian_prod(*(torch.arange(n) for n in X.shape)):
            step = torch.zeros_like(X)
            step[tuple(index)] = h
            up, down = frozen(X + step), frozen(X - step)
            n = index[0]
            numerical[tuple(index)] = (up[n, y[n]] - down[n, y[n]]) / (2 * h)
    expected = numerical.abs().amax(dim=1)
    assert_close(ch07["saliency_map"](net, X, y).numpy(), expected, "saliency", tol=1e-6)
    assert net.training and all(m.training for m in net.modules())
    assert all(p.grad is None for p in net.parameters())
