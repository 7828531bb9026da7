"""Datasets for the course: a verified download cache and loaders.

Offline first: :func:`load_digits_split` uses scikit-learn's digits (the course's splits of
them ship in ``data/digits.npz``), and :func:`load_fashion_mnist` reads the Debian package
``dataset-fashion-mnist`` when it is installed. Everything else comes from
:func:`fetch`, which downloads the files listed in ``data/registry.json`` from
their canonical locations, checks size and SHA-256, and caches them.

Images come back as float32 arrays in [0, 1] of shape ``(N, C, H, W)``
(``(N, 1, 28, 28)`` for MNIST and Fashion-MNIST, ``(N, 3, 32, 32)`` for
CIFAR-10) and labels as int64 arrays of shape ``(N,)``.
"""

import gzip
import hashlib
import http.client
import json
import os
import pickle
import struct
import tarfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

__all__ = [
    "ChecksumError",
    "DownloadError",
    "default_cache_dir",
    "load_registry",
    "fetch",
    "is_fetched",
    "read_idx",
    "load_digits_split",
    "load_mnist",
    "load_fashion_mnist",
    "load_fashion_mnist_or_digits",
    "train_val_test",
    "sha256_of",
    "FASHION_CLASSES",
    "load_cifar10",
    "DEBIAN_FASHION_MNIST",
    "FASHION_MNIST_INSTALL",
]

REPO_DATA = Path(__file__).resolve().parent.parent / "data"
# Debian's dataset packages install here; BACKPROPLAB_DEBIAN_DATASETS moves it (the offline tests empty it).
DEBIAN_FASHION_MNIST = (
    Path(os.environ.get("BACKPROPLAB_DEBIAN_DATASETS", "/usr/share/datasets")) / "fashion-mnist"
)
FASHION_CLASSES = (
    "T-shirt/top",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)
# How a student gets Fashion-MNIST, said where it is missing (the student README says the same).
FASHION_MNIST_INSTALL = (
    "on Debian or Ubuntu, `sudo apt install dataset-fashion-mnist`; on any system (Linux, macOS, "
    "Windows), run `python -m backproplab.datasets fashion-mnist` once with a network connection "
    "(30 MB, checked against its SHA-256)."
)
CHUNK = 1 << 16
TIMEOUT_S = 60
_NETWORK_ERRORS = (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException)
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class ChecksumError(RuntimeError):
    """A file's size or SHA-256 differs from the registry's."""


class DownloadError(RuntimeError):
    """A file could not be downloaded."""


# --- registry and cache -------------------------------------------------------


def default_cache_dir():
    """Where :func:`fetch` keeps files when no ``cache_dir`` is given.

    ``$BACKPROPLAB_DATA`` if set, else ``data/cache`` in the repository
    checkout (when the package sits beside ``data/``), else
    ``~/.cache/backproplab``.
    """
    if os.environ.get("BACKPROPLAB_DATA"):
        return Path(os.environ["BACKPROPLAB_DATA"]).expanduser()
    if REPO_DATA.is_dir():
        return REPO_DATA / "cache"
    return Path.home() / ".cache" / "backproplab"


def load_registry(registry=None):
    """The dataset registry: ``{name: [{"filename", "url", "sha256", "size"}, ...]}``.

    ``registry`` is such a dict (returned as is), a path to a JSON file, or
    ``None`` for the repository's ``data/registry.json``.
    """
    if isinstance(registry, dict):
        return registry
    path = Path(registry) if registry is not None else REPO_DATA / "registry.json"
    if not path.is_file():
        raise FileNotFoundError(
            f"dataset registry {path} not found: install backproplab from a checkout "
            f"of the repository (pip install -e .) or pass registry=..."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def _entries(name, registry):
    """The registry's list of file entries for dataset ``name``."""
    reg = load_registry(registry)
    if name not in reg:
        raise KeyError(f"unknown dataset {name!r}: choose one of {', '.join(sorted(reg))}")
    return reg[name]


def _url(entry, mirror):
    """The entry's URL, or ``mirror/<last path part of the URL>`` when a mirror is given."""
    if not mirror:
        return entry["url"]
    last = urllib.parse.urlsplit(entry["url"]).path.rsplit("/", 1)[-1]
    return mirror.rstrip("/") + "/" + last


# --- fetch --------------------------------------------------------------------


def fetch(name, cache_dir=None, progress=True, registry=None, mirror=None, timeout=TIMEOUT_S):
    """Make sure dataset ``name``'s files are in the cache and verified; return the folder.

    name: a registry key (``"mnist"``, ``"fashion-mnist"``, ``"cifar-10"``).
    cache_dir: the cache root (default :func:`default_cache_dir`); the files
        go to ``cache_dir/name/``.
    progress: show a tqdm progress bar while downloading.
    registry: a registry dict or JSON path (default ``data/registry.json``).
    mirror: a base URL that replaces everything before each file name.
    Returns a ``pathlib.Path``. Files already present with the right SHA-256
    are not downloaded again. With ``BACKPROPLAB_OFFLINE=1`` nothing is
    downloaded: a missing file raises ``OSError`` at once instead of waiting
    for a network that is not there.
    """
    entries = _entries(name, registry)
    if any(e.get("url") is None for e in entries):
        raise KeyError(
            f"{name!r} is not a downloadable dataset: its file ships in the repository (see data/README.md)"
        )
    folder = _dataset_folder(name, cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    for entry in entries:
        path = folder / entry["filename"]
        if _is_verified(path, entry):
            continue
        if os.environ.get("BACKPROPLAB_OFFLINE"):
            raise OSError(
                f"{entry['filename']} of {name} is not in {folder}, and BACKPROPLAB_OFFLINE is set"
            )
        _download(_url(entry, mirror), path, entry, progress, timeout)
    return folder


def is_fetched(name, cache_dir=None, registry=None):
    """Whether every file of dataset ``name`` is in the cache with the registry's SHA-256.

    Never downloads: a notebook asks this before it decides to use an online-only dataset.
    Arguments as for :func:`fetch`.
    """
    folder = _dataset_folder(name, cache_dir)
    return all(_is_verified(folder / e["filename"], e) for e in _entries(name, registry))


def _dataset_folder(name, cache_dir):
    """The cache folder of dataset ``name``: ``cache_dir/name`` (default cache when None)."""
    return Path(cache_dir or default_cache_dir()).expanduser() / name


def _is_verified(path, entry):
    """Whether ``path`` is a file with the SHA-256 its registry ``entry`` gives."""
    return path.is_file() and sha256_of(path) == entry["sha256"]


def sha256_of(path):
    """The hex SHA-256 of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _download(url, path, entry, progress, timeout):
    """Download ``url`` to ``path`` through ``path.part``, verified against ``entry``."""
    part = path.with_name(path.name + ".part")
    try:
        size, sha = _stream(url, part, entry, progress, timeout)
        _verify(path, entry, size, sha)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    os.replace(part, path)


def _stream(url, part, entry, progress, timeout):
    """Write ``url``'s body to ``part``; return (bytes written, hex SHA-256)."""
    request = urllib.request.Request(url, headers={"User-Agent": "backproplab"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _copy(response, part, entry, progress)
    except _NETWORK_ERRORS as exc:
        raise DownloadError(_network_message(url, part, entry, exc)) from exc


def _copy(response, part, entry, progress):
    """Copy ``response`` into the file ``part`` with a progress bar; return (size, hex SHA-256)."""
    from tqdm.auto import tqdm

    digest, size = hashlib.sha256(), 0
    bar = tqdm(
        total=entry.get("size"),
        unit="B",
        unit_scale=True,
        desc=entry["filename"],
        disable=not progress,
    )
    with bar, open(part, "wb") as out:
        for block in iter(lambda: response.read(CHUNK), b""):
            out.write(block)
            digest.update(block)
            size += len(block)
            bar.update(len(block))
    return size, digest.hexdigest()


def _network_message(url, part, entry, exc):
    """The error text for a failed download, with how to place the file by hand."""
    if isinstance(exc, urllib.error.HTTPError):
        reason = f"HTTP {exc.code} {exc.reason}"
    else:
        reason = getattr(exc, "reason", None) or exc
    target = part.with_name(entry["filename"])
    return (
        f"could not download {url} ({reason}). Check your connection and try again, "
        f"or download the file another way and place it at {target} "
        f"(expected SHA-256 {entry['sha256']}); set BACKPROPLAB_DATA to use another cache folder."
    )


def _verify(path, entry, size, sha):
    """Raise ChecksumError unless ``size`` and ``sha`` match the registry ``entry``."""
    expected_size = entry.get("size")
    if expected_size is not None and size != expected_size:
        problem = f"has {size} bytes, expected {expected_size}"
    elif sha != entry["sha256"]:
        problem = f"has SHA-256 {sha}, expected {entry['sha256']}"
    else:
        return
    raise ChecksumError(
        f"downloaded {entry['filename']} {problem}; the partial file was deleted. "
        f"The download was corrupted or the server changed the file: run again, or "
        f"place a good copy at {path} by hand."
    )


# --- IDX files ----------------------------------------------------------------


def read_idx(path):
    """Read an IDX file (gzip-compressed or plain) into a NumPy array.

    IDX: two zero bytes, a type code, the number of dimensions ``d``, ``d``
    big-endian uint32 sizes, then the values in big-endian C order. Returns
    an array of that shape in native byte order (``uint8`` for MNIST).
    """
    data = _read_maybe_gzip(Path(path))
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise ValueError(
            f"{path} is not an IDX file: bad magic number {data[:4].hex() or 'empty'} "
            f"(expected 0000 then a type code and the number of dimensions)"
        )
    ndim, dtype = data[3], np.dtype(_IDX_DTYPES[data[2]])
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    body = data[4 + 4 * ndim :]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(body) != expected:
        raise ValueError(
            f"{path}: header says shape {shape} ({expected} bytes) but {len(body)} bytes follow"
        )
    return np.frombuffer(body, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def _read_maybe_gzip(path):
    """The bytes of ``path``, decompressed when it starts with the gzip magic."""
    with open(path, "rb") as f:
        head = f.read(2)
    opener = gzip.open if head == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        return f.read()


# --- loaders ------------------------------------------------------------------


def load_digits_split(test_size=0.2, seed=0):
    """scikit-learn's 8x8 digits, split into train and test (stratified, no network).

    Returns ``(X_train, y_train, X_test, y_test)``: X float64 of shape
    ``(N, 64)`` scaled to [0, 1], y int64 of shape ``(N,)`` with labels 0-9.
    The course's own splits (:data:`SAVED_SPLITS`) are read from ``data/digits.npz``, which
    :func:`write_digits_file` made with scikit-learn: the same arrays, without importing
    scikit-learn (about 1 s). Any other split is made by scikit-learn here.
    """
    saved = _saved_digits_split(test_size, seed)
    return saved if saved is not None else _sklearn_digits_split(test_size, seed)


# (test_size, seed) of the splits the course uses: chapters 02-03's, and the backbone's (chapter 08)
SAVED_SPLITS = ((0.2, 0), (0.4, 0))
DIGITS_FILE = REPO_DATA / "digits.npz"


def _split_key(test_size, seed):
    """``split_0.2_0``; repr keeps 0.2000001 (and 1, a count, against 1.0) apart."""
    return f"split_{test_size!r}_{seed!r}"


def _sklearn_digits_split(test_size, seed):
    images, target, train, test = _sklearn_split_rows(test_size, seed)
    return _split_arrays(images, target, train, test)


def _sklearn_split_rows(test_size, seed):
    """``(images, target, train rows, test rows)``: the digits' grey levels (1797, 64) and labels,
    and the rows scikit-learn's stratified ``train_test_split`` picks."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    train, test = train_test_split(
        np.arange(len(digits.target)),
        test_size=test_size,
        random_state=seed,
        stratify=digits.target,
    )
    return digits.data, digits.target, train, test


def _split_arrays(images, target, train, test):
    """Grey levels 0-16 scaled to [0, 1] (float64) and int64 labels, split by row indices."""
    X, y = np.asarray(images, dtype=np.float64) / 16.0, np.asarray(target, dtype=np.int64)
    return X[train], y[train], X[test], y[test]


def _saved_digits_split(test_size, seed):
    """The split from ``data/digits.npz``, or None where the file or that split is missing."""
    key = _split_key(test_size, seed)
    if not DIGITS_FILE.is_file():
        return None
    with np.load(DIGITS_FILE) as saved:
        if f"{key}_train" not in saved.files:
            return None
        rows = saved[f"{key}_train"], saved[f"{key}_test"]
        return _split_arrays(saved["images"], saved["target"], *rows)


def write_digits_file(path=DIGITS_FILE):
    """Write ``data/digits.npz`` from scikit-learn: ``images`` (1797, 64) uint8 grey levels
    0-16, ``target`` (1797,) uint8, and for each of :data:`SAVED_SPLITS` the row indices
    ``split_<test_size>_<seed>_train`` and ``..._test`` that ``train_test_split`` picks."""
    arrays = {}
    for test_size, seed in SAVED_SPLITS:
        images, target, train, test = _sklearn_split_rows(test_size, seed)
        key = _split_key(test_size, seed)
        arrays[f"{key}_train"], arrays[f"{key}_test"] = (
            train.astype(np.int16),
            test.astype(np.int16),
        )
    arrays["images"], arrays["target"] = images.astype(np.uint8), target.astype(np.uint8)
    np.savez_compressed(path, **arrays)


def _idx_pair(folder, kind):
    """Images ``(N, 1, 28, 28)`` float32 in [0, 1] and labels ``(N,)`` int64 from an MNIST-style folder."""
    prefix = {"train": "train", "test": "t10k"}.get(kind)
    if prefix is None:
        raise ValueError(f"kind must be 'train' or 'test', not {kind!r}")
    images = read_idx(folder / f"{prefix}-images-idx3-ubyte.gz")
    labels = read_idx(folder / f"{prefix}-labels-idx1-ubyte.gz")
    X = images.reshape(len(images), 1, *images.shape[1:]).astype(np.float32) / 255.0
    return X, labels.astype(np.int64)


def load_mnist(kind="train", **fetch_kwargs):
    """MNIST (downloaded by :func:`fetch`): ``(X, y)``, X ``(N, 1, 28, 28)`` float32, y ``(N,)`` int64.

    N is 60000 for ``kind="train"`` and 10000 for ``"test"``. Keyword
    arguments go to :func:`fetch` (``cache_dir``, ``progress``, ...).
    """
    return _idx_pair(fetch("mnist", **fetch_kwargs), kind)


def load_fashion_mnist(kind="train", **fetch_kwargs):
    """Fashion-MNIST: ``(X, y)``, X ``(N, 1, 28, 28)`` float32 in [0, 1], y ``(N,)`` int64.

    Read from the Debian package ``dataset-fashion-mnist``
    (``/usr/share/datasets/fashion-mnist/``) when it is installed, otherwise
    downloaded by :func:`fetch` (keyword arguments go to it).
    """
    names = [e["filename"] for e in _entries("fashion-mnist", fetch_kwargs.get("registry"))]
    if all((DEBIAN_FASHION_MNIST / n).is_file() for n in names):
        return _idx_pair(DEBIAN_FASHION_MNIST, kind)
    return _idx_pair(fetch("fashion-mnist", **fetch_kwargs), kind)


def load_fashion_mnist_or_digits(train_kind="train"):
    """Fashion-MNIST for training a CNN, or scikit-learn's digits enlarged to 28x28 when it is missing.

    Returns ``(X_train, y_train, X_test, y_test, class_names)``: X float32
    ``(N, 1, 28, 28)`` in [0, 1], y int64 ``(N,)``. ``train_kind="test"``
    takes the training images from the (smaller) test file, for smoke tests.
    Without Fashion-MNIST it prints how to install it and falls back to the
    digits, each pixel repeated 3x3 and padded by 2 (8 * 3 + 2 * 2 = 28).
    """
    try:
        X_tr, y_tr = load_fashion_mnist(train_kind, progress=False)
        X_te, y_te = load_fashion_mnist("test", progress=False)
        return X_tr, y_tr, X_te, y_te, FASHION_CLASSES
    except (OSError, RuntimeError, ValueError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    X_a, y_a, X_b, y_b = load_digits_split()
    print(
        f"Fashion-MNIST is not available here ({reason}).\n"
        f"To get it: {FASHION_MNIST_INSTALL}\n"
        f"Meanwhile this notebook uses scikit-learn's 8x8 digits, enlarged to 28x28. What changes: the "
        f"ten classes are the digits 0-9, not clothes; there are {len(X_a):,} training and {len(X_b):,} "
        f"test images instead of 60,000 and 10,000, so the subsets below shrink; and the losses and "
        f"accuracies differ from the Fashion-MNIST numbers the text quotes (digits are easier)."
    )
    return _enlarge_digits(X_a), y_a, _enlarge_digits(X_b), y_b, tuple(str(d) for d in range(10))


def train_val_test(data, n_train, n_val, n_test, keep_out_last=False, seed=0):
    """Seeded subsets of :func:`load_fashion_mnist_or_digits`'s ``data``, shrunk to the images there are.

    data: ``(X_all, y_all, X_test_all, y_test_all, class_names)``. Training and
    validation images are drawn without overlap from ``X_all``; the test images
    are the last ``n_test`` of ``X_test_all``. ``keep_out_last``: ``X_all`` is the
    test file itself (a smoke test), so its last ``n_test`` images stay out of
    training. Where fewer images exist (the digits: 1,437 and 360), the sizes
    shrink in proportion and a line says so. Returns ``((X_train, y_train),
    (X_val, y_val), (X_test, y_test))``.
    """
    X_all, y_all, X_test_all, y_test_all = data[:4]
    available = len(X_all) - (n_test if keep_out_last else 0)
    wanted = (n_train, n_val, n_test)
    if n_train + n_val > available:
        n_train = int(available * n_train / (n_train + n_val))
        n_val = available - n_train
    n_test = min(n_test, len(X_test_all))
    if (n_train, n_val, n_test) != wanted:
        print(
            f"Only {len(X_all)} training and {len(X_test_all)} test images here: using {n_train} for training, "
            f"{n_val} for validation and {n_test} for testing instead of {wanted[0]}, {wanted[1]} and {wanted[2]}."
        )
    order = np.random.default_rng(seed).permutation(available)
    train, val = order[:n_train], order[n_train : n_train + n_val]
    return (
        (X_all[train], y_all[train]),
        (X_all[val], y_all[val]),
        (X_test_all[-n_test:], y_test_all[-n_test:]),
    )


def _enlarge_digits(X):
    """Digits X: (N, 64) -> (N, 1, 28, 28) float32: each pixel becomes a 3x3 block, then 2 pixels of padding."""
    blocks = np.kron(X.reshape(-1, 1, 8, 8), np.ones((3, 3)))
    return np.pad(blocks, ((0, 0), (0, 0), (2, 2), (2, 2))).astype(np.float32)


def load_cifar10(kind="train", **fetch_kwargs):
    """CIFAR-10 (downloaded by :func:`fetch`): ``(X, y)``, X ``(N, 3, 32, 32)`` float32, y ``(N,)`` int64.

    N is 50000 for ``kind="train"`` (``data_batch_1`` to ``_5``) and 10000
    for ``"test"``. The batches are read straight from the verified tar.gz.
    """
    wanted = {"train": [f"data_batch_{i}" for i in range(1, 6)], "test": ["test_batch"]}.get(kind)
    if wanted is None:
        raise ValueError(f"kind must be 'train' or 'test', not {kind!r}")
    archive = fetch("cifar-10", **fetch_kwargs) / "cifar-10-python.tar.gz"
    batches = _cifar_batches(archive, wanted)
    X = np.concatenate([b[b"data"] for b in batches]).reshape(-1, 3, 32, 32)
    y = np.concatenate([np.asarray(b[b"labels"], dtype=np.int64) for b in batches])
    return X.astype(np.float32) / 255.0, y


def _cifar_batches(archive, wanted):
    """Unpickle the members ``cifar-10-batches-py/<w>`` of ``archive``, in the order of ``wanted``.

    The archive's SHA-256 was checked by :func:`fetch` before it is unpickled.
    """
    found = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            base = member.name.rsplit("/", 1)[-1]
            if member.isfile() and base in wanted:
                found[base] = pickle.load(tar.extractfile(member), encoding="bytes")
    missing = [w for w in wanted if w not in found]
    if missing:
        raise ValueError(f"{archive} lacks {', '.join(missing)}: is it cifar-10-python.tar.gz?")
    return [found[w] for w in wanted]


def main(argv=None):
    """``python -m backproplab.datasets NAME [NAME ...]``: download and verify datasets once.

    For example ``python -m backproplab.datasets fashion-mnist`` puts Fashion-MNIST's four files
    in the cache (see :func:`default_cache_dir`) after checking each one's SHA-256.
    """
    import argparse

    downloadable = sorted(n for n, e in load_registry().items() if all(x.get("url") for x in e))
    parser = argparse.ArgumentParser(
        prog="python -m backproplab.datasets", description="Download and verify course datasets."
    )
    parser.add_argument(
        "names", nargs="+", choices=downloadable, metavar="NAME", help=", ".join(downloadable)
    )
    parser.add_argument(
        "--cache-dir",
        help="where to keep the files (default: $BACKPROPLAB_DATA or the course's cache)",
    )
    args = parser.parse_args(argv)
    for name in args.names:
        debian = [DEBIAN_FASHION_MNIST / e["filename"] for e in load_registry()[name]]
        if name == "fashion-mnist" and all(f.is_file() for f in debian):
            print(
                f"{name}: already installed by Debian's dataset-fashion-mnist ({DEBIAN_FASHION_MNIST})"
            )
            continue
        try:
            folder = fetch(name, cache_dir=args.cache_dir)
        except (OSError, RuntimeError) as exc:
            print(f"{name}: {exc}")
            return 1
        print(f"{name}: verified in {folder}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
