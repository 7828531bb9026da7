"""What the oracle tests share: tensors and the relative-error comparison with PyTorch.

A chapter's solution as a namespace is ``autograder.submissions.solution_namespace``.
"""

import numpy as np

from backproplab.gradcheck import rel_error

TOL = 1e-7


def t(array, grad=True):
    """A float64 leaf tensor from a NumPy array."""
    import torch

    return torch.tensor(np.asarray(array, dtype=np.float64), requires_grad=grad)


def assert_close(actual, expected, name, tol=TOL):
    """``actual`` has ``expected``'s shape (a tensor or an array) and relative error below ``tol``."""
    expected = expected.detach().numpy() if hasattr(expected, "detach") else np.asarray(expected)
    assert np.shape(actual) == expected.shape, (
        f"{name}: shape {np.shape(actual)} != {expected.shape}"
    )
    err = rel_error(actual, expected)
    assert err < tol, f"{name}: relative error {err:.2e} against torch"


def torch_table_3_2(net, batchnorm=False):
    """Table 3.2 from torch.nn modules in float64, holding ``net``'s parameters; dropout left out.

    batchnorm: a ``BatchNorm2d`` after each convolution (the benchmarks' variant).
    Returns ``(model, pairs)``: pairs are (our layer, its torch module), for each layer with parameters.
    """
    import torch
    from torch import nn

    def conv_block(in_channels, out_channels):
        norm = [nn.BatchNorm2d(out_channels)] if batchnorm else []
        conv = nn.Conv2d(in_channels, out_channels, 5, padding=2)
        return [conv, *norm, nn.ReLU(), nn.MaxPool2d(2, 2)]

    head = [nn.Flatten(), nn.Linear(3136, 1024), nn.ReLU(), nn.Linear(1024, 10)]
    model = nn.Sequential(*conv_block(1, 32), *conv_block(32, 64), *head).double()
    modules = [m for m in model if isinstance(m, (nn.Conv2d, nn.BatchNorm2d, nn.Linear))]
    pairs = list(zip((layer for layer in net.layers if layer.params), modules, strict=True))
    with torch.no_grad():
        for layer, module in pairs:
            for value, param in zip(layer.params.values(), (module.weight, module.bias)):
                param.copy_(torch.tensor(value.T if value.ndim == 2 else value))
    return model, pairs
