"""Chapter 07's CIFAR-10 section, online: a student sets DOWNLOAD_CIFAR10 = True and model A trains.

The course is built where no dataset server is reachable, so the download goes to a small fake
CIFAR-10 on a local HTTP server (the registry the notebook reads points there), into an empty
cache; the rest of the chapter runs in its short, graded form.
"""

import nbformat
import numpy as np

from autograder.budgets import run_solution
from autograder.build import read_source
from tests.test_datasets import entry, fake_cifar, server  # noqa: F401 (a fixture)

ARCHIVE = "cifar-10-python.tar.gz"


def online_notebook(registry, cache):
    """Chapter 07 with DOWNLOAD_CIFAR10 switched on, and a cell before it that points the course's
    dataset registry and cache at the test's."""
    nb = read_source("07_pytorch")
    index = next(i for i, c in enumerate(nb.cells) if "DOWNLOAD_CIFAR10 = False" in c.source)
    cell = nb.cells[index]
    cell.source = cell.source.replace("DOWNLOAD_CIFAR10 = False", "DOWNLOAD_CIFAR10 = True")
    redirect = nbformat.v4.new_code_cell(
        "import os\n\nimport backproplab.datasets\n\n"
        f"backproplab.datasets.load_registry = lambda registry=None: {registry!r}\n"
        f"os.environ['BACKPROPLAB_DATA'] = {str(cache)!r}\n"
    )
    nb.cells.insert(index, redirect)
    return nb, cell


def test_switching_the_download_on_fetches_cifar10_and_trains_model_a(server, tmp_path):  # noqa: F811
    """The archive is downloaded once from the local server into the cache, verified, and model A
    (4,259,274 parameters, built from the student's Table32Net) trains and reports its accuracy."""
    base, root, requests = server
    content = fake_cifar(np.random.default_rng(0), n=40)
    (root / ARCHIVE).write_bytes(content)
    registry = {"cifar-10": [entry(ARCHIVE, content, base)]}
    nb, cell = online_notebook(registry, tmp_path / "cache")
    run_solution("07_pytorch", tmp_path, graded=True, nb=nb)
    printed = "".join(o.get("text", "") for o in cell.outputs)
    assert "model A, 4,259,274 parameters: one epoch on 200 CIFAR-10 images" in printed, printed
    assert "test top-1" in printed and "on 40 test images" in printed, printed
    assert requests.count(f"/{ARCHIVE}") == 1
    assert (tmp_path / "cache" / "cifar-10" / ARCHIVE).read_bytes() == content
