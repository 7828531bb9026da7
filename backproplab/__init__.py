"""Backprop Lab's helper package: what the notebooks import, never an exercise's answer.

Modules:
    backend    NumPy, or CuPy on a usable GPU (``BACKPROPLAB_BACKEND``)
    gradcheck  numerical gradients and the course's relative error
    checks     the test cells' checks, which explain failures in words
    datasets   the dataset registry, verified downloads and loaders
    widgets    interactive explorers for the notebooks
"""

__version__ = "0.1.0"
