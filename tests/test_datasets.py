"""Tests of backproplab.datasets: the download path runs against a local HTTP server."""

import gzip
import hashlib
import http.server
import io
import json
import pickle
import struct
import subprocess
import sys
import tarfile
import os
import threading
from functools import partial

import numpy as np
import pytest

from autograder.course import REPO
from backproplab import datasets as ds


# --- helpers ------------------------------------------------------------------


def idx_bytes(array, code=0x08):
    """The IDX encoding of ``array`` (big-endian header and values)."""
    dtype = np.dtype(ds._IDX_DTYPES[code])
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(dtype).tobytes()


def entry(filename, content, base):
    """A registry entry for ``content`` served at ``base/filename``."""
    sha = hashlib.sha256(content).hexdigest()
    return {"filename": filename, "url": f"{base}/{filename}", "sha256": sha, "size": len(content)}


def fake_mnist(rng):
    """Files of a tiny MNIST-like dataset: {filename: gzip bytes}."""
    files = {}
    for prefix, n in (("train", 6), ("t10k", 4)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        files[f"{prefix}-images-idx3-ubyte.gz"] = gzip.compress(idx_bytes(images))
        files[f"{prefix}-labels-idx1-ubyte.gz"] = gzip.compress(idx_bytes(labels))
    return files


def fake_cifar(rng, n=3):
    """The bytes of a tiny cifar-10-python.tar.gz with ``n`` images per batch."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            data = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
            blob = pickle.dumps({b"data": data, b"labels": [i % 10 for i in range(n)]})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tar.addfile(info, io.BytesIO(blob))
    return buf.getvalue()


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder and records each requested path in ``self.server.requests``."""

    def do_GET(self):
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A local HTTP server: (base URL, served folder, list of requested paths)."""
    root = tmp_path_factory.mktemp("served")
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), partial(CountingHandler, directory=str(root))
    )
    httpd.requests = []
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, httpd.requests
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def site(server, tmp_path):
    """Fake MNIST and CIFAR files on the server and a registry pointing at them."""
    base, root, requests = server
    requests.clear()
    rng = np.random.default_rng(0)
    folder = root / tmp_path.name
    folder.mkdir()
    files = dict(fake_mnist(rng), **{"cifar-10-python.tar.gz": fake_cifar(rng)})
    for name, content in files.items():
        (folder / name).write_bytes(content)
    url = f"{base}/{tmp_path.name}"
    registry = {
        "mnist": [entry(n, c, url) for n, c in files.items() if n.endswith("ubyte.gz")],
        "cifar-10": [entry("cifar-10-python.tar.gz", files["cifar-10-python.tar.gz"], url)],
    }
    return {
        "url": url,
        "folder": folder,
        "files": files,
        "registry": registry,
        "requests": requests,
    }


def fetch(site, tmp_path, name="mnist", **kwargs):
    """ds.fetch with the test's registry, a cache under tmp_path and no progress bar."""
    kwargs.setdefault("registry", site["registry"])
    kwargs.setdefault("progress", False)
    return ds.fetch(name, cache_dir=tmp_path / "cache", **kwargs)


# --- fetch --------------------------------------------------------------------


def test_first_fetch_downloads_and_verifies(site, tmp_path):
    folder = fetch(site, tmp_path, progress=True)
    assert folder == tmp_path / "cache" / "mnist"
    for e in site["registry"]["mnist"]:
        assert hashlib.sha256((folder / e["filename"]).read_bytes()).hexdigest() == e["sha256"]
    assert len(site["requests"]) == 4
    assert not list(folder.glob("*.part"))


def test_second_fetch_uses_the_cache(site, tmp_path):
    fetch(site, tmp_path)
    fetch(site, tmp_path)
    assert len(site["requests"]) == 4


def test_a_bad_cached_file_is_downloaded_again(site, tmp_path):
    folder = fetch(site, tmp_path)
    (folder / "t10k-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    fetch(site, tmp_path)
    assert site["requests"][-1].endswith("/t10k-labels-idx1-ubyte.gz")
    assert len(site["requests"]) == 5


def test_corrupted_download_raises_and_leaves_nothing(site, tmp_path):
    good = site["files"]["train-labels-idx1-ubyte.gz"]
    (site["folder"] / "train-labels-idx1-ubyte.gz").write_bytes(bytes([good[0] ^ 0xFF]) + good[1:])
    with pytest.raises(ds.ChecksumError) as info:
        fetch(site, tmp_path)
    message = str(info.value)
    expected = hashlib.sha256(good).hexdigest()
    assert "train-labels-idx1-ubyte.gz" in message and expected in message
    assert hashlib.sha256(bytes([good[0] ^ 0xFF]) + good[1:]).hexdigest() in message
    leftovers = [p.name for p in (tmp_path / "cache" / "mnist").iterdir()]
    assert not any(n.startswith("train-labels") for n in leftovers)


def test_wrong_size_is_reported(site, tmp_path):
    registry = json.loads(json.dumps(site["registry"]))
    registry["mnist"][0]["size"] += 1
    with pytest.raises(ds.ChecksumError, match="bytes, expected"):
        fetch(site, tmp_path, registry=registry)
    assert not list((tmp_path / "cache" / "mnist").iterdir())


def test_404_gives_a_clear_network_error(site, tmp_path):
    registry = {"mnist": [dict(site["registry"]["mnist"][0], url=site["url"] + "/missing.gz")]}
    with pytest.raises(ds.DownloadError) as info:
        fetch(site, tmp_path, registry=registry)
    message = str(info.value)
    target = tmp_path / "cache" / "mnist" / "train-images-idx3-ubyte.gz"
    assert site["url"] + "/missing.gz" in message and "404" in message
    assert str(target) in message and "place it at" in message
    assert not list(target.parent.iterdir())


def test_mirror_replaces_the_host_and_folder(site, tmp_path):
    moved = [
        dict(e, url="https://example.invalid/a/b/" + e["filename"])
        for e in site["registry"]["mnist"]
    ]
    registry = {"mnist": moved}
    fetch(site, tmp_path, registry=registry, mirror=site["url"] + "/")
    assert len(site["requests"]) == 4


def test_unknown_dataset(site, tmp_path):
    with pytest.raises(KeyError, match="mnist"):
        fetch(site, tmp_path, name="imagenet")


def test_load_mnist_and_cifar10_from_fetched_files(site, tmp_path):
    kwargs = dict(registry=site["registry"], cache_dir=tmp_path / "cache", progress=False)
    X, y = ds.load_mnist("test", **kwargs)
    assert X.shape == (4, 1, 28, 28) and X.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= X.min() and X.max() <= 1.0 and y.shape == (4,)
    X, y = ds.load_cifar10("train", **kwargs)
    assert X.shape == (15, 3, 32, 32) and X.dtype == np.float32 and 0.0 <= X.min() <= X.max() <= 1.0
    assert y.tolist() == [0, 1, 2] * 5 and y.dtype == np.int64
    with pytest.raises(ValueError, match="kind"):
        ds.load_cifar10("validation", **kwargs)


def test_load_fashion_mnist_downloads_without_the_debian_package(site, tmp_path, monkeypatch):
    monkeypatch.setattr(ds, "DEBIAN_FASHION_MNIST", tmp_path / "not-installed")
    registry = {"fashion-mnist": site["registry"]["mnist"]}
    X, y = ds.load_fashion_mnist(
        "train", registry=registry, cache_dir=tmp_path / "cache", progress=False
    )
    assert X.shape == (6, 1, 28, 28) and y.shape == (6,) and len(site["requests"]) == 4


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("BACKPROPLAB_DATA", str(tmp_path))
    assert ds.default_cache_dir() == tmp_path
    monkeypatch.delenv("BACKPROPLAB_DATA")
    assert ds.default_cache_dir() == REPO / "data" / "cache"


# --- the real registry ----------------------------------------------------------


def test_registry_lists_the_three_datasets_and_the_backbone():
    registry = ds.load_registry()
    assert set(registry) == {"mnist", "fashion-mnist", "cifar-10", "fashion-backbone"}
    for name, files in registry.items():
        for e in files:
            assert len(e["sha256"]) == 64 and int(e["sha256"], 16) >= 0 and e["size"] > 0
            if name == "fashion-backbone":  # shipped in the repository, not downloaded
                assert e["url"] is None and e["path"] == "data/weights/" + e["filename"]
            else:
                assert e["url"].endswith("/" + e["filename"])


def test_fetch_refuses_a_file_that_ships_with_the_course(tmp_path):
    with pytest.raises(KeyError, match="ships in the repository"):
        ds.fetch("fashion-backbone", cache_dir=tmp_path, progress=False)
    assert not list(tmp_path.rglob("*.pt")), "nothing is downloaded or written"


# --- read_idx -------------------------------------------------------------------


@pytest.mark.parametrize("code", [0x08, 0x0C, 0x0D])
@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_roundtrip(tmp_path, code, compress):
    array = np.arange(2 * 3 * 4).reshape(2, 3, 4).astype(ds._IDX_DTYPES[code])
    raw = idx_bytes(array, code)
    path = tmp_path / ("a.idx.gz" if compress else "a.idx")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    back = ds.read_idx(path)
    assert back.shape == (2, 3, 4) and np.array_equal(back, array)
    assert back.dtype.isnative


def test_read_idx_bad_magic(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x1f\x00\x08\x01" + bytes(8))
    with pytest.raises(ValueError, match="magic"):
        ds.read_idx(path)


def test_read_idx_truncated(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(idx_bytes(np.zeros((3, 2), np.uint8))[:-1])
    with pytest.raises(ValueError, match=r"shape \(3, 2\)"):
        ds.read_idx(path)


# --- offline loaders ------------------------------------------------------------


def test_load_digits_split():
    X_tr, y_tr, X_te, y_te = ds.load_digits_split(test_size=0.2, seed=0)
    assert X_tr.shape[1] == X_te.shape[1] == 64 and len(X_tr) + len(X_te) == 1797
    assert len(X_te) == 360 and len(y_tr) == len(X_tr) and len(y_te) == len(X_te)
    assert X_tr.min() == 0.0 and X_tr.max() == 1.0 and y_tr.dtype == np.int64
    assert set(y_te.tolist()) == set(range(10))
    again = ds.load_digits_split(test_size=0.2, seed=0)
    assert np.array_equal(again[0], X_tr)


@pytest.mark.parametrize("split", [*ds.SAVED_SPLITS, (0.3, 1)])
def test_digits_splits_are_what_scikit_learn_makes(split, monkeypatch):
    """The splits in data/digits.npz are scikit-learn's, array for array; any other split, and
    every split without the file, comes from scikit-learn itself."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    X, y = digits.data / 16.0, digits.target.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=split[0], random_state=split[1], stratify=y
    )
    hint = "rewrite the file: python -c 'import backproplab.datasets as d; d.write_digits_file()'"
    for label, missing in (("with the file", False), ("without it", True)):
        if missing:
            monkeypatch.setattr(ds, "DIGITS_FILE", ds.DIGITS_FILE.with_name("absent.npz"))
        got = ds.load_digits_split(*split)
        for name, a, b in zip("X_tr y_tr X_te y_te".split(), got, (X_tr, y_tr, X_te, y_te)):
            assert a.dtype == b.dtype and np.array_equal(a, b), f"{name} differs {label}: {hint}"


def test_the_course_splits_load_without_importing_scikit_learn():
    """Chapters 02, 03, 06 and 08 start a second sooner: their digits come from data/digits.npz."""
    code = (
        "import sys; from backproplab.datasets import load_digits_split as s; s(); s(0.4, 0); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


# CI installs the package and sets BACKPROPLAB_REQUIRE_FASHION_MNIST=1 so that these tests cannot skip.
DEBIAN = pytest.mark.skipif(
    not ds.DEBIAN_FASHION_MNIST.is_dir()
    and not os.environ.get("BACKPROPLAB_REQUIRE_FASHION_MNIST"),
    reason="Debian package dataset-fashion-mnist is not installed (apt-get install dataset-fashion-mnist)",
)


@DEBIAN
def test_fashion_mnist_from_the_debian_package(tmp_path):
    X, y = ds.load_fashion_mnist("test", cache_dir=tmp_path)
    assert X.shape == (10000, 1, 28, 28) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.shape == (10000,) and y.dtype == np.int64 and np.bincount(y).tolist() == [1000] * 10
    assert not list(tmp_path.iterdir()), "nothing should be downloaded"


@DEBIAN
def test_debian_files_hold_the_upstream_data():
    """The Debian .gz files differ from upstream's only in the gzip header; the data is the same."""
    for e in ds.load_registry()["fashion-mnist"]:
        with gzip.open(ds.DEBIAN_FASHION_MNIST / e["filename"]) as f:
            raw = f.read()
        assert len(raw) == e["raw_size"]
        assert hashlib.sha256(raw).hexdigest() == e["raw_sha256"], e["filename"]


def test_without_fashion_mnist_the_cnn_chapters_get_enlarged_digits(monkeypatch, capsys):
    def missing(kind="train", **kwargs):
        raise OSError("no Fashion-MNIST here")

    monkeypatch.setattr(ds, "load_fashion_mnist", missing)
    X_tr, y_tr, X_te, y_te, names = ds.load_fashion_mnist_or_digits()
    assert X_tr.shape[1:] == (1, 28, 28) and X_tr.dtype == np.float32 and len(X_tr) == len(y_tr)
    assert len(X_tr) + len(X_te) == 1797 and names == tuple("0123456789")
    digits, _, _, _ = ds.load_digits_split()
    np.testing.assert_array_equal(
        X_tr[0, 0, 2:5, 2:5], np.full((3, 3), digits[0, 0], dtype=np.float32)
    )
    assert "apt install dataset-fashion-mnist" in capsys.readouterr().out


# --- the chapters' data cells, offline, without Fashion-MNIST ------------------------------------------

# Markers of the code cells that get each chapter's data (run after its setup cell).
DATA_CELLS = {
    "05_im2col_gpu": ("load_fashion_mnist_or_digits(",),
    "07_pytorch": ("load_fashion_mnist_or_digits(",),
    "08_transfer_learning": ("load_digits_28()", "load_imagenet_resnet18("),
}


def _run_data_cells(assignment):
    """Run a chapter's setup cell and its data cells with ``exec``; return the namespace."""
    from autograder.build import read_source

    cells = [c for c in read_source(assignment).cells if c.cell_type == "code"]
    setup = f"ch{assignment[:2]}_setup"
    chosen = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == setup]
    chosen += [
        c
        for c in cells
        if "nbgrader" not in c.metadata and any(m in c.source for m in DATA_CELLS[assignment])
    ]
    assert len(chosen) == 1 + len(DATA_CELLS[assignment]), f"{assignment}: data cells not found"
    namespace = {"__name__": f"{assignment}_data"}
    for cell in chosen:
        exec(compile(cell.source, assignment, "exec"), namespace)
    return namespace


# chapter 08 shows torch tensors with imshow, which warns outside a notebook's kernel only
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
@pytest.mark.parametrize("smoke", [False, True], ids=["student", "graded"])
@pytest.mark.parametrize("assignment", sorted(DATA_CELLS))
def test_the_cnn_chapters_get_their_data_offline_without_fashion_mnist(
    assignment, smoke, tmp_path, monkeypatch, capsys
):
    """Only what ships, no network: chapters 05, 07 and 08's data cells run, say what the fallback changes,
    and leave every split non-empty (an empty validation set crashed chapters 05 and 07)."""
    import matplotlib.pyplot as plt

    monkeypatch.setattr(ds, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-datasets")
    monkeypatch.setenv("BACKPROPLAB_DATA", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("BACKPROPLAB_OFFLINE", "1")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "no-torch-hub"))
    if smoke:
        monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    else:
        monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    try:
        ns = _run_data_cells(assignment)
    finally:
        plt.close("all")
    printed = capsys.readouterr().out
    if assignment == "08_transfer_learning":
        # the digits and the backbone ship; the optional ImageNet path says why it is skipped
        assert len(ns["X_train"]) == 1078 and len(ns["X_test"]) == 719
        assert "Skipping the ImageNet path" in printed
        return
    assert "Fashion-MNIST is not available here" in printed
    assert "sudo apt install dataset-fashion-mnist" in printed
    assert "python -m backproplab.datasets fashion-mnist" in printed
    assert "What changes: the ten classes are the digits 0-9" in printed
    # the student's run asks for more images than the digits have (the graded smoke test does not)
    assert smoke or "for validation" in printed, "the shrunk subsets are not announced"
    sizes = [len(ns[k]) for k in ("X_train", "X_val", "X_test")]
    assert min(sizes) > 0 and sizes[0] + sizes[1] <= 1437 and sizes[2] <= 360, sizes
    assert [len(ns[k]) for k in ("y_train", "y_val", "y_test")] == sizes
    assert ns["class_names"] == tuple("0123456789")


def test_the_datasets_command_downloads_what_it_is_told(monkeypatch, tmp_path, capsys):
    """`python -m backproplab.datasets fashion-mnist`, the command the README and the fallback give."""
    fetched = []
    monkeypatch.setattr(ds, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian-datasets")
    monkeypatch.setattr(ds, "fetch", lambda name, cache_dir=None: fetched.append(name) or tmp_path)
    assert ds.main(["fashion-mnist"]) == 0 and fetched == ["fashion-mnist"]
    assert "fashion-mnist: verified in" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        ds.main(["fashion-backbone"])  # ships with the course: nothing to download


def test_is_fetched_checks_the_cache_and_never_downloads(site, tmp_path):
    kwargs = {"cache_dir": tmp_path / "cache", "registry": site["registry"]}
    assert not ds.is_fetched("cifar-10", **kwargs)
    assert site["requests"] == []
    fetch(site, tmp_path, "cifar-10")
    assert ds.is_fetched("cifar-10", **kwargs)
    archive = tmp_path / "cache" / "cifar-10" / "cifar-10-python.tar.gz"
    content = archive.read_bytes()
    archive.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))  # one bit flipped
    assert not ds.is_fetched("cifar-10", **kwargs)
    assert len(site["requests"]) == 1
