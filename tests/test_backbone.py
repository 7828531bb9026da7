"""Tests of the shipped backbone: its rebuild is reproducible, a damaged file is explained, the stages have their shapes."""

import json
import os

import pytest
import torch

from backproplab import backbone as bb
from backproplab.datasets import DEBIAN_FASHION_MNIST

# CI installs the package and sets BACKPROPLAB_REQUIRE_FASHION_MNIST=1 so that these tests cannot skip.
FASHION = pytest.mark.skipif(
    not DEBIAN_FASHION_MNIST.is_dir() and not os.environ.get("BACKPROPLAB_REQUIRE_FASHION_MNIST"),
    reason="Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)


def test_the_registry_describes_the_committed_file():
    entry = bb.registry_entry()
    assert (
        entry["filename"] == bb.WEIGHTS.name and entry["path"] == "data/weights/fashion_backbone.pt"
    )
    assert bb.WEIGHTS.stat().st_size == entry["size"] < 300_000
    assert bb.sha256_of(bb.WEIGHTS) == entry["sha256"]
    assert entry["url"] is None and entry["built_by"] == "python -m backproplab.pretrain_backbone"
    assert entry["cpu_model"].strip() and entry["cpu_capability"] and entry["torch"]


def test_loaded_backbone_has_the_stated_shapes_per_stage():
    model = bb.load_pretrained()
    assert not model.training
    maps = model.feature_maps(torch.zeros(3, 1, 28, 28))
    assert {k: tuple(v.shape) for k, v in maps.items()} == {
        "stage1": (3, 16, 14, 14),
        "stage2": (3, 32, 7, 7),
        "stage3": (3, 64, 3, 3),
    }
    assert tuple(model(torch.zeros(3, 1, 28, 28)).shape) == (3, 10)
    assert sum(p.numel() for p in model.parameters()) == 24058


def test_a_missing_file_says_how_to_rebuild(tmp_path):
    with pytest.raises(
        bb.BackboneError,
        match="missing: rebuild them with `python -m backproplab.pretrain_backbone`",
    ):
        bb.load_pretrained(tmp_path / "nothing.pt")


def test_a_corrupted_file_is_refused_before_loading(tmp_path):
    damaged = tmp_path / "fashion_backbone.pt"
    data = bytearray(bb.WEIGHTS.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    with pytest.raises(
        bb.BackboneError, match="SHA-256 .* but data/registry.json expects .*pretrain_backbone"
    ):
        bb.load_pretrained(damaged)


def test_a_registry_without_the_entry_is_explained(tmp_path):
    registry = tmp_path / "registry.json"
    registry.write_text(json.dumps({"mnist": []}))
    with pytest.raises(bb.BackboneError, match="no 'fashion-backbone' entry"):
        bb.load_pretrained(registry=registry)


def test_without_torchvision_the_imagenet_path_gives_a_reason():
    try:
        import torchvision  # noqa: F401
    except ImportError:
        model, message = bb.load_imagenet_resnet18(allow_download=False)
        assert model is None and "torchvision is not installed" in message
    else:
        pytest.skip("torchvision is installed here: the next test covers the ImageNet path")


def test_imagenet_path_loads_cached_weights_offline(tmp_path, monkeypatch):
    """A randomly initialised ResNet-18 saved where torchvision looks for its ImageNet weights."""
    torchvision = pytest.importorskip("torchvision")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    torch.hub.set_dir(str(tmp_path / "hub"))
    try:
        path, url = bb.imagenet_checkpoint()
        assert (
            path.parent == tmp_path / "hub" / "checkpoints" and path.name == url.rsplit("/", 1)[-1]
        )
        model, message = bb.load_imagenet_resnet18(allow_download=False)
        assert model is None and "not in the cache" in message
        path.parent.mkdir(parents=True)
        torch.manual_seed(0)
        random = torchvision.models.resnet18(weights=None)
        torch.save(random.state_dict(), path)
        model, message = bb.load_imagenet_resnet18(allow_download=False)
        assert model is not None and "from the cache" in message and not model.training
        torch.testing.assert_close(model.fc.weight, random.fc.weight)
        assert model.fc.in_features == 512
        assert tuple(model(bb.imagenet_inputs(torch.rand(2, 1, 28, 28))).shape) == (2, 1000)
    finally:
        torch.hub.set_dir(str(tmp_path / "unused"))


def test_imagenet_inputs_are_three_normalised_channels():
    X = torch.full((2, 1, 28, 28), 0.485)
    out = bb.imagenet_inputs(X, size=32)
    assert tuple(out.shape) == (2, 3, 32, 32)
    torch.testing.assert_close(out[:, 0], torch.zeros(2, 32, 32), atol=1e-6, rtol=0)


def test_digits_are_enlarged_to_28_by_28():
    X_train, y_train, X_test, y_test = bb.load_digits_28()
    assert tuple(X_train.shape) == (1078, 1, 28, 28) and tuple(X_test.shape) == (719, 1, 28, 28)
    assert X_train.dtype == torch.float32 and 0.0 <= X_train.min() and X_train.max() <= 1.0
    assert torch.bincount(y_train).min() >= 104


@FASHION
def test_loaded_backbone_classifies_fashion_mnist():
    from backproplab.datasets import load_fashion_mnist
    from backproplab.pretrain_backbone import accuracy

    X, y = load_fashion_mnist("test", progress=False)
    acc = accuracy(bb.load_pretrained(), torch.from_numpy(X[:2000]), torch.from_numpy(y[:2000]))
    assert acc > 0.85


@FASHION
@pytest.mark.sweep
@pytest.mark.xdist_group("backbone")
def test_a_rebuild_behaves_like_the_committed_file(tmp_path, record_property):
    """On any machine, the recipe's rebuild holds the stated tolerance; bit-for-bit identity is reported, not required."""
    from backproplab import pretrain_backbone as pb

    result = pb.pretrain(tmp_path / "rebuilt.pt", verbose=False)
    comparison = pb.compare_with_shipped(tmp_path / "rebuilt.pt")
    record_property(
        "report",
        f"backbone rebuild on {result['cpu_model']} ({result['cpu_capability']}, "
        f"PyTorch {result['torch']}): {pb.describe_comparison(comparison)}",
    )
    assert comparison["within_tolerance"], pb.describe_comparison(comparison)
    assert comparison["bit_for_bit"] == (result["sha256"] == bb.registry_entry()["sha256"])


@FASHION
@pytest.mark.sweep
@pytest.mark.xdist_group("backbone")
def test_a_rebuild_with_other_bits_is_judged_by_the_tolerance(tmp_path, record_property):
    """One thread instead of the recipe's two sums in another order, as another CPU would: other bits, same behaviour."""
    from backproplab import pretrain_backbone as pb

    pb.pretrain(tmp_path / "one_thread.pt", verbose=False, threads=1)
    comparison = pb.compare_with_shipped(tmp_path / "one_thread.pt")
    record_property(
        "report", f"backbone rebuilt on one thread: {pb.describe_comparison(comparison)}"
    )
    if comparison["bit_for_bit"]:
        pytest.skip(
            "one thread gave the shipped file's very bits here, so no other bits were judged"
        )
    assert comparison["within_tolerance"], pb.describe_comparison(comparison)


@FASHION
def test_the_tolerance_rejects_a_different_model(tmp_path):
    """A backbone whose head calls every class by its neighbour's name is no rebuild: the comparison must say so."""
    from backproplab import pretrain_backbone as pb

    state = torch.load(bb.WEIGHTS, weights_only=True)
    state["head.weight"] = state["head.weight"].roll(1, dims=0)
    state["head.bias"] = state["head.bias"].roll(1, dims=0)
    pb.save_state(state, tmp_path / "rolled.pt")
    comparison = pb.compare_with_shipped(tmp_path / "rolled.pt")
    assert not comparison["bit_for_bit"] and not comparison["within_tolerance"]
    assert comparison["agreement"] < 0.2 and "OUTSIDE the tolerance" in pb.describe_comparison(
        comparison
    )


def test_saving_under_another_name_gives_the_same_bytes(tmp_path):
    """torch.save straight to a file would name the archive's folder after the file; save_state does not."""
    from backproplab.pretrain_backbone import THREADS, save_state

    state = torch.load(bb.WEIGHTS, weights_only=True)
    for name in ("a.pt", "fashion_backbone.pt", "other_name.pt"):
        save_state(state, tmp_path / name)
        assert (tmp_path / name).read_bytes() == bb.WEIGHTS.read_bytes(), name
    assert THREADS == 2
