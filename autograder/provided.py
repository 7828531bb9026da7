"""Provided modules: earlier chapters' answers, generated from marked solution cells.

A later chapter never asks a student to write again what an earlier chapter
graded; it imports that chapter's answers from ``backproplab``. Those modules
are not written by hand: an answer cell whose header carries
``provided="layers"`` (after its ``nbgrader={...}``) goes into
``backproplab/layers.py``, as the solution has it, without nbgrader's
``### BEGIN/END SOLUTION`` lines (d2l's ``#@save``). ``python -m autograder
build`` rewrites them (:func:`write_modules`), each under a header naming its
chapter and cells; ``tests/test_provided.py`` checks that the committed files
are a fresh generation.

:data:`MODULES` gives each module its docstring, the imports its cells need
and, where a later chapter needs more than the answer, an ``epilogue`` of the
course's own code (never an answer). All the cells of a module come from one
chapter: a staged release for chapter NN (``python -m autograder bundle
--through NN``) holds the modules of chapters before NN only.
"""

import ast
import os
import re
from dataclasses import dataclass
from pathlib import Path

from autograder.build import read_script
from autograder.course import REPO, SOLUTIONS, assignments, notebook_stem

PACKAGE = REPO / "backproplab"
MARKER = "provided"
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", re.MULTILINE)


@dataclass(frozen=True)
class Module:
    doc: str
    imports: str
    epilogue: str = ""


MODULES = {
    "layers": Module(
        doc="""Chapter 02's dense layers, given to later chapters as provided code.

Every layer is a pair ``*_forward(inputs...) -> (out, cache)`` and
``*_backward(dout, cache) -> gradients``; each gradient has the shape of the
input or parameter it belongs to. Rows are examples: ``X`` is ``(N, D)``,
``W`` is ``(D, M)``, ``b`` is ``(M,)``. Chapter 02 derives all of them
(its eqs. 9-16); chapter 03 and later use them without writing them again.
They run on NumPy or CuPy arrays alike: NumPy's functions hand a CuPy array
to CuPy (``__array_ufunc__``, ``__array_function__``).
""",
        imports="import numpy as np",
    ),
    "optim": Module(
        doc="""Chapter 03's Adam and AdamW, given to later chapters as provided code.

An optimiser is an update rule with state: ``step(w, dw, config) -> (next_w,
config)``, where ``config`` holds the hyperparameters and the state (the
moments ``m``, ``v`` and the step count ``t``), created on the first step.
Chapter 03 derives both (its eqs. 10-12); von Hacht's eq. (2.41) is AdamW.
They run on NumPy or CuPy arrays: ``np.zeros_like`` of a CuPy array is a
CuPy array.
""",
        imports="import numpy as np",
    ),
    "regularization": Module(
        doc="""Chapter 03's inverted dropout, given to later chapters as provided code.

In training mode each unit is kept with probability ``p`` and scaled by
``1/p``; in evaluation mode the layer is the identity (chapter 03, eq. 14;
von Hacht, eqs. 2.42-2.46, where ``p`` is the keep probability). Chapter 03's
answer draws a float64 mask on the CPU; the course wraps it
(:func:`backproplab.backend.dropout_on_any_backend`) so that the mask is
drawn with the NumPy generator ``rng`` (a seed gives the same mask on either
backend), lives where ``x`` lives, and keeps ``x``'s dtype.
""",
        imports="from backproplab.backend import dropout_on_any_backend",
        epilogue="dropout_forward = dropout_on_any_backend(dropout_forward)",
    ),
    "conv_naive": Module(
        doc="""Chapter 04's convolution and max pooling, given to later chapters as provided code.

These are the loop versions chapter 04 derives from the definitions (its
eqs. 6-14): the output sizes, a convolution layer (a cross-correlation, as in
every deep-learning library) and max pooling, forward and backward. Chapter 05
makes them fast and uses these as the reference the fast versions must match.
Arrays are NCHW: ``x`` is ``(N, C, H, W)``, filters ``w`` are ``(F, C, KH, KW)``.
NumPy only: they are the slow, obvious reference.
""",
        imports="import numpy as np",
    ),
    "torch_training": Module(
        doc="""Chapter 07's PyTorch training code, provided to chapter 08.

``train_step``, ``topk_accuracy`` and ``evaluate`` are the answers to chapter
06's exercises, with exactly the signatures and the meaning that chapter
grades (``tests/test_torch_training.py`` checks their behaviour).
:func:`~backproplab.training_loop.fit` and ``make_loader``, the loop chapter 08
and ``backproplab.pretrain_backbone`` train with, are the course's own code
(``backproplab/training_loop.py``), imported here.
""",
        imports="import torch",
        epilogue="from backproplab.training_loop import fit, make_loader",
    ),
}


@dataclass(frozen=True)
class Cell:
    assignment: str
    grade_id: str
    source: str


def marked_cells():
    """``{module: [Cell, ...]}``: every solution cell marked ``provided=...``, in course order."""
    found = {}
    for assignment in assignments():
        path = SOLUTIONS / assignment / f"{notebook_stem(assignment)}.py"
        for cell in read_script(path).cells:
            name = cell.metadata.get(MARKER)
            if name is None:
                continue
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "?")
            if name not in MODULES:
                raise ValueError(f"{grade_id}: {MARKER}={name!r} names no module of MODULES")
            if cell.cell_type != "code" or not cell.metadata["nbgrader"].get("solution"):
                raise ValueError(f"{grade_id}: only code answer cells can be {MARKER}")
            source = SOLUTION_MARKERS.sub("", cell.source).strip("\n")
            found.setdefault(name, []).append(Cell(assignment, grade_id, source))
    return found


def module_chapters():
    """``{module: assignment}``: the chapter each provided module comes from."""
    chapters = {}
    for name, cells in marked_cells().items():
        sources = {c.assignment for c in cells}
        if len(sources) != 1:
            raise ValueError(f"backproplab/{name}.py gathers cells of {sorted(sources)}: use one")
        chapters[name] = sources.pop()
    missing = set(MODULES) - set(chapters)
    if missing:
        raise ValueError(f"no solution cell is marked {MARKER}= for {sorted(missing)}")
    return chapters


def public_names(code):
    """The public names ``code`` defines or imports at its top level, in order."""
    names = []
    for node in ast.parse(code).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.ImportFrom):
            names += [a.asname or a.name for a in node.names]
    return [n for n in names if not n.startswith("_")]


def render(name, cells):
    """The text of ``backproplab/<name>.py`` from its marked cells (already ruff-formatted)."""
    spec = MODULES[name]
    assignment = cells[0].assignment
    ids = ", ".join(c.grade_id for c in cells)
    source = f"solutions/{assignment}/{notebook_stem(assignment)}.py"
    header = [
        "# GENERATED by `python -m autograder build`: do not edit this file.",
        f"# Chapter {assignment[:2]}'s answer cells {ids}",
        f'# (marked {MARKER}="{name}") of {source};',
        "# edit those cells, or autograder/provided.py for the docstring, the imports",
        "# and the course's own code at the end, and rebuild.",
    ]
    names = []
    for code in [c.source for c in cells] + [spec.epilogue]:
        names += [n for n in public_names(code) if n not in names]
    top = "\n".join(header) + '\n"""' + spec.doc + '"""\n\n' + spec.imports + "\n\n"
    top += "__all__ = [\n" + "".join(f'    "{n}",\n' for n in names) + "]"
    parts = [top] + [f"# {source}, cell {c.grade_id}\n{c.source}" for c in cells]
    if spec.epilogue:
        parts.append(
            f"# The course's own code, not chapter {assignment[:2]}'s answer.\n{spec.epilogue}"
        )
    return "\n\n\n".join(parts) + "\n"


def generate():
    """``{path: text}`` of every provided module, generated from the solutions now."""
    return {PACKAGE / f"{name}.py": render(name, cells) for name, cells in marked_cells().items()}


def write_modules():
    """Rewrite the provided modules that differ from a fresh generation; return those written."""
    module_chapters()  # every module has cells, each from one chapter
    written = []
    for path, text in generate().items():
        if path.exists() and path.read_text() == text:
            continue
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_text(text)
        os.replace(partial, path)
        written.append(path)
    return written


def stage_modules(through):
    """The provided modules a release for chapter ``through`` leaves out: those of it or later."""
    return sorted(name for name, chapter in module_chapters().items() if chapter >= through)


def module_path(name):
    return Path("backproplab") / f"{name}.py"
