"""A notebook as Google Colab or VS Code saves it, from the JupyterLab notebook a student started with.

Each function takes a notebook as JupyterLab saves it (a filled release: an nbformat 4.5 node whose
cell ids are the grade_ids) and returns ``(file name, text)``: what the other editor writes to disk
once the student has worked in it and run every cell. The notebooks are made to grade the same as
the original, so only what those editors are known to write is modelled; outputs are plain text.

Google Colab (the notebook uploaded or opened from Drive, then *File > Download > Download .ipynb*):

- JSON indented by two spaces, ``nbformat`` first, a cell's keys in Colab's order, non-ASCII kept;
- the notebook's metadata replaced by Colab's: ``colab`` (``name``, ``provenance``, ``toc_visible``),
  ``kernelspec`` ``{"name": "python3", "display_name": "Python 3"}``, ``language_info``
  ``{"name": "python"}``, and ``accelerator`` on a GPU runtime;
- every cell's metadata gains Colab's own cell id (``metadata.id``, twelve characters); a cell that
  printed gains ``colab`` (``base_uri``), ``outputId`` and ``executionInfo``;
- metadata Colab does not know (``nbgrader``, ``deletable``, ``editable``) is kept: public nbgrader
  homework that went through Colab still carries it. ``drop_metadata=True`` models the worst case,
  an editor that keeps none of it;
- ``minor=5`` keeps the 4.5 cell ids (Colab's maintainers say it round-trips a 4.5 notebook);
  ``minor=0`` writes format 4.0, Colab's default for the notebooks it creates, with no cell ids
  but Colab's own in ``metadata.id``;
- a copy saved in Drive is named ``Copy of <name>.ipynb``; the first cell is the install cell the
  student README gives for Colab.

VS Code (its built-in ipynb serializer, with the Jupyter extension's kernel):

- keys sorted at every level, the file's own indent (one space here), a final newline, non-ASCII kept;
- cell metadata and cell ids kept; a cell the student adds gets an id of eight hex digits;
- ``kernelspec`` and ``language_info`` of the virtual environment the student picked, and
  ``vscode.interpreter.hash`` (which earlier versions of the Jupyter extension wrote).
"""

import copy
import hashlib
import json
import random
import string
import uuid

import nbformat

from autograder.build import LANGUAGE_INFO

# The first cell of a notebook worked on in Colab, as the student README gives it.
COLAB_INSTALL_CELL = """\
# Google Colab only: this cell does nothing elsewhere, nor when your notebook is graded.
import sys

if "google.colab" in sys.modules:
    !unzip -q -o /content/backproplab-student.zip -d /content
    %pip install -q --no-deps -e /content/backproplab-student
    sys.path.insert(0, "/content/backproplab-student")
"""

COLAB_ID_CHARACTERS = string.ascii_letters + string.digits + "-_"


def colab_saved(notebook, name, minor=0, drop_metadata=False, copy_name=True, seed=0):
    """``(file name, text)`` of ``notebook`` (file ``name``) worked on in Colab and downloaded."""
    rng = random.Random(seed)
    name = f"Copy of {name}" if copy_name else name
    cells = [nbformat.v4.new_code_cell(COLAB_INSTALL_CELL)] + copy.deepcopy(notebook.cells)
    written = []
    for count, cell in enumerate(_ran(cells), start=1):
        metadata = {} if drop_metadata else dict(cell.get("metadata", {}))
        metadata["id"] = "".join(rng.choice(COLAB_ID_CHARACTERS) for _ in range(12))
        out = {"cell_type": cell.cell_type, "source": _lines(cell.source), "metadata": metadata}
        if minor >= 5:
            out = {"cell_type": cell.cell_type, "id": cell.get("id") or metadata["id"], **out}
        if cell.cell_type == "code":
            if cell.outputs:
                metadata["colab"] = {"base_uri": "https://localhost:8080/"}
                metadata["outputId"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                metadata["executionInfo"] = {
                    "elapsed": rng.randrange(5, 900),
                    "status": "ok",
                    "timestamp": 1767225600000 + 1000 * count,
                    "user": {"displayName": "A Student", "userId": "04217389165512345678"},
                    "user_tz": -60,
                }
            out["execution_count"] = cell.execution_count
            out["outputs"] = [_colab_output(o) for o in cell.outputs]
        written.append(out)
    document = {
        "nbformat": 4,
        "nbformat_minor": minor,
        "metadata": {
            "colab": {"provenance": [], "toc_visible": True, "name": name},
            "kernelspec": {"name": "python3", "display_name": "Python 3"},
            "language_info": {"name": "python"},
            "accelerator": "GPU",
        },
        "cells": written,
    }
    return name, json.dumps(document, indent=2, ensure_ascii=False)


def vscode_saved(notebook, name, seed=0):
    """``(file name, text)`` of ``notebook`` (file ``name``) worked on in VS Code and saved there."""
    rng = random.Random(seed)
    nb = copy.deepcopy(notebook)
    # the student added a scratch cell of their own after the first answer cell
    first_answer = next(
        i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution")
    )
    scratch = nbformat.v4.new_code_cell('print("my own check")')
    scratch["id"] = f"{rng.getrandbits(32):08x}"
    nb.cells.insert(first_answer + 1, scratch)
    cells = []
    for cell in _ran(nb.cells):
        out = {"cell_type": cell.cell_type, "id": cell["id"], "metadata": dict(cell.metadata)}
        out["source"] = _lines(cell.source)
        if cell.cell_type == "code":
            out["execution_count"] = cell.execution_count
            out["outputs"] = [_split_text(dict(o)) for o in cell.outputs]
        cells.append(out)
    document = {
        "cells": cells,
        "metadata": {
            "kernelspec": {
                "display_name": ".venv",
                "language": "python",
                "name": "python3",
            },
            "language_info": {**LANGUAGE_INFO, "version": "3.12.3"},
            "vscode": {"interpreter": {"hash": hashlib.sha256(b".venv/bin/python").hexdigest()}},
        },
        "nbformat": 4,
        "nbformat_minor": notebook.nbformat_minor,
    }
    return name, json.dumps(document, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def _ran(cells):
    """``cells`` after Run All: execution counts in order, a line of output under each test cell."""
    count = 0
    for cell in cells:
        if cell.cell_type == "code":
            count += 1
            cell["execution_count"] = count
            cell["outputs"] = (
                [nbformat.v4.new_output("stream", name="stdout", text="visible tests passed\n")]
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade")
                else []
            )
        yield cell


def _lines(source):
    """A cell's source as the list of lines both editors write."""
    return source.splitlines(keepends=True)


def _colab_output(output):
    """An output as Colab writes it: ``output_type`` first."""
    output = _split_text(dict(output))
    return {"output_type": output.pop("output_type"), **output}


def _split_text(output):
    """A stream output with its text as a list of lines, as both editors write it."""
    if isinstance(output.get("text"), str):
        output["text"] = _lines(output["text"])
    return output
