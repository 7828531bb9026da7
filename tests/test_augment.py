"""backproplab.augment: the transforms keep shapes and labels, move what they should, and repeat by seed."""

import pytest
import torch

from backproplab.augment import Augmented, random_affine, random_hflip
from backproplab.training_loop import make_loader


def bar_images(n=6, size=28):
    """n images (n, 1, size, size) of one vertical bar left of centre: no symmetry the tests rely on."""
    X = torch.zeros(n, 1, size, size)
    X[:, :, 6:22, 8:11] = 1.0
    return X


def test_random_affine_at_zero_strength_is_the_identity():
    X = bar_images()
    out = random_affine(X, torch.Generator().manual_seed(0), degrees=0.0, shift=0.0, scale=0.0)
    torch.testing.assert_close(out, X, atol=1e-5, rtol=0)  # float32 grid arithmetic


def test_random_affine_moves_each_image_differently_and_keeps_its_mass():
    X = bar_images()
    out = random_affine(X, torch.Generator().manual_seed(0))
    assert out.shape == X.shape and out.dtype == X.dtype
    changed = (out - X).abs().flatten(1).amax(dim=1)
    assert (changed > 0.1).all(), "every image should move"
    assert len({tuple(o.flatten().tolist()) for o in out}) == len(X), "images drawn alike"
    # scale 1 +- 0.1 changes the area by (1 +- 0.1)^2 at most; bilinear resampling keeps the rest
    ratio = out.sum(dim=(1, 2, 3)) / X.sum(dim=(1, 2, 3))
    assert ((ratio > 0.75) & (ratio < 1.3)).all(), ratio


def test_a_pure_shift_moves_the_bar_by_whole_pixels():
    X = bar_images(n=1)
    generator = torch.Generator().manual_seed(3)
    out = random_affine(X, generator, degrees=0.0, shift=2.0, scale=0.0)
    columns = out[0, 0].sum(dim=0)
    centre = (columns * torch.arange(28.0)).sum() / columns.sum()
    assert abs(centre.item() - 9.0) <= 2.0 + 1e-4  # the bar's centre column is 9


def test_random_hflip_mirrors_about_half_and_leaves_the_rest():
    X = bar_images(n=200)
    out = random_hflip(X, torch.Generator().manual_seed(1))
    mirrored = (out == X.flip(-1)).flatten(1).all(dim=1)
    unchanged = (out == X).flatten(1).all(dim=1)
    assert (mirrored ^ unchanged).all()
    assert 70 < int(mirrored.sum()) < 130


@pytest.mark.parametrize("transform", [random_affine, random_hflip])
def test_augmented_loader_keeps_labels_and_length_and_repeats_by_seed(transform):
    X, y = bar_images(n=10), torch.arange(10)

    def batches(seed):
        """Every batch of a fresh shuffled loader, augmented with ``seed``."""
        loader = make_loader(X, y, batch_size=4, shuffle=True, seed=0)
        return list(Augmented(loader, transform, seed=seed))

    first, again, other = batches(5), batches(5), batches(6)
    assert len(Augmented(make_loader(X, y, batch_size=4), transform)) == 3
    assert sorted(torch.cat([labels for _, labels in first]).tolist()) == list(range(10))
    for (X1, y1), (X2, y2) in zip(first, again):
        torch.testing.assert_close(X1, X2)
        assert torch.equal(y1, y2)
    assert any(not torch.equal(a, b) for (a, _), (b, _) in zip(first, other))
