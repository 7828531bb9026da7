"""Data augmentation for chapter 08: new training images from the labelled ones, drawn per batch.

The course's own code, not an answer. Each transform maps a batch
``X: (N, C, H, W)`` to a batch of the same shape, drawing its random numbers
from a ``torch.Generator`` so that a run can be repeated:

- :func:`random_affine` rotates each image by an angle in
  :math:`[-\\text{degrees}, \\text{degrees}]`, scales it by a factor in
  ``[1 - scale, 1 + scale]`` and shifts it by up to ``shift`` pixels each way
  (bilinear resampling, zeros outside the image);
- :func:`random_hflip` mirrors each image left-right with probability 1/2 —
  a wrong invariance for digits, which chapter 08 measures on purpose.

:class:`Augmented` wraps a loader of ``(X, y)`` batches and transforms every
``X`` as it is drawn; the labels pass unchanged.
"""

import torch
import torch.nn.functional as F

__all__ = ["Augmented", "random_affine", "random_hflip"]


def _uniform(n, low, high, generator):
    """n numbers drawn uniformly from [low, high): (n,) float32."""
    return low + (high - low) * torch.rand(n, generator=generator)


def random_affine(X, generator, degrees=15.0, shift=2.0, scale=0.1):
    r"""Each image of X (N, C, H, W) rotated, scaled and shifted at random; the same shape.

    The sampling grid maps output to input coordinates (``F.affine_grid``, in
    units where the image spans :math:`[-1, 1]`): for an angle :math:`\theta`,
    a factor :math:`s` and a shift :math:`t` (pixels),
    :math:`A = \frac{1}{s}\begin{pmatrix}\cos\theta & -\sin\theta\\ \sin\theta & \cos\theta\end{pmatrix}`
    and the offset :math:`2t/W` (x) and :math:`2t/H` (y).
    """
    N, _, H, W = X.shape
    theta = torch.deg2rad(_uniform(N, -degrees, degrees, generator))
    zoom = _uniform(N, 1.0 - scale, 1.0 + scale, generator)
    tx, ty = (_uniform(N, -shift, shift, generator) for _ in range(2))
    cos, sin = torch.cos(theta) / zoom, torch.sin(theta) / zoom
    A = torch.stack(
        [torch.stack([cos, -sin, 2 * tx / W], 1), torch.stack([sin, cos, 2 * ty / H], 1)], 1
    )
    grid = F.affine_grid(A.to(X.dtype), list(X.shape), align_corners=False)
    return F.grid_sample(X, grid, padding_mode="zeros", align_corners=False)


def random_hflip(X, generator):
    """Each image of X (N, C, H, W) mirrored left-right with probability 1/2; the same shape."""
    flip = torch.rand(len(X), generator=generator) < 0.5
    return torch.where(flip[:, None, None, None], X.flip(-1), X)


class Augmented:
    """A loader of (X, y) batches whose every X goes through ``transform(X, generator)``.

    loader: any iterable of (X, y) with a length (a ``DataLoader``).
    transform: :func:`random_affine`, :func:`random_hflip` or a function like them.
    seed: seeds the generator the transform draws from, once, when the wrapper is made.
    """

    def __init__(self, loader, transform, seed=0):
        self.loader, self.transform = loader, transform
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self):
        return len(self.loader)

    def __iter__(self):
        for X, y in self.loader:
            yield self.transform(X, self.generator), y
