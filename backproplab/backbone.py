"""The small CNN the course pretrains on Fashion-MNIST and ships, for chapter 08 (transfer learning).

:class:`Backbone` is three stages of conv 3x3 (padding 1, no bias) -> batch norm ->
ReLU -> max-pool 2x2, with 16, 32 and 64 channels, then global average pooling
and a linear head::

    X (N, 1, 28, 28) -> stage1 (N, 16, 14, 14) -> stage2 (N, 32, 7, 7)
      -> stage3 (N, 64, 3, 3) -> mean over H, W (N, 64) -> head (N, 10)

Images are float32 in [0, 1]. The stages are named ``stage1`` .. ``stage3`` so
that the feature-map viewer can show each one, and the classifier is
``head``: the one layer a new task replaces.

:func:`load_pretrained` reads ``data/weights/fashion_backbone.pt`` and checks
its SHA-256 against the ``"fashion-backbone"`` entry of ``data/registry.json``
first; the file is built, reproducibly, by ``python -m backproplab.pretrain_backbone``.

The module holds no exercise answer.
"""

import os
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

from backproplab.datasets import FASHION_CLASSES, REPO_DATA, sha256_of

__all__ = [
    "Backbone",
    "BackboneError",
    "FASHION_CLASSES",
    "STAGES",
    "WEIGHTS",
    "REGISTRY_KEY",
    "registry_entry",
    "sha256_of",
    "load_pretrained",
    "load_digits_28",
    "imagenet_checkpoint",
    "load_imagenet_resnet18",
    "imagenet_inputs",
]

WEIGHTS = REPO_DATA / "weights" / "fashion_backbone.pt"
REGISTRY_KEY = "fashion-backbone"
STAGES = ("stage1", "stage2", "stage3")
CHANNELS = (16, 32, 64)
REBUILD = "python -m backproplab.pretrain_backbone"


class BackboneError(RuntimeError):
    """The pretrained weights file is missing, or is not the file the registry describes."""


def conv_stage(in_channels, out_channels):
    """conv 3x3 (pad 1, no bias: batch norm's shift replaces it) -> BN -> ReLU -> max-pool 2x2.

    (N, in_channels, H, W) -> (N, out_channels, H // 2, W // 2).
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class Backbone(nn.Module):
    """Three conv stages (16, 32, 64 channels), global average pooling, a linear head.

    Input X: (N, 1, 28, 28) float32 in [0, 1]; output: logits (N, num_classes).
    """

    def __init__(self, num_classes=10):
        super().__init__()
        self.stage1 = conv_stage(1, CHANNELS[0])
        self.stage2 = conv_stage(CHANNELS[0], CHANNELS[1])
        self.stage3 = conv_stage(CHANNELS[1], CHANNELS[2])
        self.head = nn.Linear(CHANNELS[2], num_classes)

    def features(self, X):
        """X: (N, 1, 28, 28) -> the pooled features (N, 64) the head reads."""
        return self.stage3(self.stage2(self.stage1(X))).mean(dim=(2, 3))

    def feature_maps(self, X):
        """X: (N, 1, 28, 28) -> {"stage1": (N, 16, 14, 14), "stage2": (N, 32, 7, 7), "stage3": (N, 64, 3, 3)}."""
        maps, h = {}, X
        for name in STAGES:
            h = getattr(self, name)(h)
            maps[name] = h
        return maps

    def forward(self, X):
        """X: (N, 1, 28, 28) -> logits (N, num_classes)."""
        return self.head(self.features(X))


def registry_entry(registry=None):
    """The registry's entry for the shipped backbone: ``{"filename", "path", "sha256", "size", ...}``."""
    from backproplab.datasets import load_registry

    entries = load_registry(registry).get(REGISTRY_KEY)
    if not entries:
        raise BackboneError(
            f"data/registry.json has no {REGISTRY_KEY!r} entry: rebuild it with `{REBUILD}`"
        )
    return entries[0]


def load_pretrained(path=None, registry=None, verify=True):
    """The Fashion-MNIST backbone with its shipped weights, in eval mode.

    path: the weights file (default ``data/weights/fashion_backbone.pt``).
    verify: check the file's SHA-256 against the registry before loading it.
    Raises :class:`BackboneError`, saying how to rebuild the file, when it is
    missing or its hash differs from the registry's.
    """
    path = Path(path) if path is not None else WEIGHTS
    if not path.is_file():
        raise BackboneError(
            f"the pretrained weights {path} are missing: rebuild them with `{REBUILD}` "
            f"(about two minutes on a laptop CPU; needs Fashion-MNIST, e.g. apt-get install dataset-fashion-mnist)"
        )
    if verify:
        expected, actual = registry_entry(registry)["sha256"], sha256_of(path)
        if actual != expected:
            raise BackboneError(
                f"the pretrained weights {path} have SHA-256 {actual}, but data/registry.json expects {expected}: "
                f"the file is damaged or from another build. Restore it (git checkout -- {path.name}) "
                f"or rebuild it with `{REBUILD}`"
            )
    model = Backbone()
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval()


def load_digits_28(test_size=0.4, seed=0):
    """scikit-learn's 8x8 digits, enlarged to 28x28 like the backbone's input, split stratified.

    Returns ``(X_train, y_train, X_test, y_test)`` as torch tensors: X float32
    ``(N, 1, 28, 28)`` in [0, 1] (bilinear upsampling of the 8x8 image, values
    0..16 scaled by 1/16), y int64 ``(N,)``. With ``test_size=0.4`` every
    class keeps at least 104 training images.
    """
    from backproplab.datasets import load_digits_split

    X_tr, y_tr, X_te, y_te = load_digits_split(test_size=test_size, seed=seed)
    return (_to_28(X_tr), torch.as_tensor(y_tr), _to_28(X_te), torch.as_tensor(y_te))


def _to_28(X):
    """X: (N, 64) float in [0, 1] -> (N, 1, 28, 28) float32, bilinear, clipped to [0, 1]."""
    images = torch.as_tensor(np.asarray(X, dtype=np.float32)).reshape(-1, 1, 8, 8)
    return F.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False).clamp(
        0.0, 1.0
    )


# --- the ImageNet path (needs torchvision and its published weights) -----------------

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def imagenet_checkpoint():
    """Where torchvision keeps ResNet-18's ImageNet weights: ``<torch.hub.get_dir()>/checkpoints/<file>``.

    Returns ``(path, url)``, or ``(None, reason)`` when torchvision is not installed.
    """
    try:
        from torchvision.models import ResNet18_Weights
    except ImportError as exc:
        return (
            None,
            f"torchvision is not installed ({exc}); pip install torchvision to try the ImageNet path",
        )
    url = ResNet18_Weights.IMAGENET1K_V1.url
    return Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1], url


def load_imagenet_resnet18(allow_download=True):
    """torchvision's ResNet-18 with its ImageNet weights, in eval mode: ``(model, message)``.

    Uses the weights in torch's hub cache (``$TORCH_HOME/hub/checkpoints/resnet18-f37072fd.pth``)
    if they are there; otherwise downloads them (about 45 MB) when ``allow_download`` and ``BACKPROPLAB_OFFLINE`` is not set.
    Never raises for a missing piece: returns ``(None, reason)`` when torchvision
    is not installed or the weights can be neither found nor downloaded, and
    ``(model, where the weights came from)`` otherwise. The model's head is ``fc``
    (512 -> 1000); it expects (N, 3, H, W) images normalised by :func:`imagenet_inputs`.
    """
    path, url = imagenet_checkpoint()
    if path is None:
        return None, url
    if not path.is_file() and (not allow_download or os.environ.get("BACKPROPLAB_OFFLINE")):
        return None, (
            f"the ImageNet weights are not in the cache ({path.name} under $TORCH_HOME/hub/checkpoints) "
            f"and downloading is switched off here; run the cell with internet to fetch them from {url}"
        )
    from torchvision.models import ResNet18_Weights, resnet18

    cached = path.is_file()
    try:
        model = resnet18(weights=ResNet18_Weights.IMAGENET1K_V1, progress=False)
    # no network, a damaged file, a failed hash check
    except (OSError, RuntimeError, ValueError) as exc:
        return None, f"could not load ResNet-18's ImageNet weights ({type(exc).__name__}: {exc})"
    return model.eval(), f"ResNet-18 with ImageNet weights from {'the cache' if cached else url}"


def imagenet_inputs(X, size=64):
    """Grey images X: (N, 1, 28, 28) in [0, 1] -> (N, 3, size, size), resized and normalised as ImageNet models expect."""
    X = F.interpolate(X, size=(size, size), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
    mean = torch.tensor(IMAGENET_MEAN).reshape(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).reshape(1, 3, 1, 1)
    return (X - mean) / std
