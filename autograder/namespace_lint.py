"""Test cells that a student's star import could break.

A student may write ``from numpy import *`` or ``from torch import *`` in an
answer cell. That rebinds ``sum``, ``max``, ``all``, ``float``, ``range``...
in the notebook's namespace, and a test cell that calls the bare builtin would
then raise and cost an honest student points. Test cells therefore reach
builtins through ``builtins.`` (the locked setup cell imports ``builtins``);
:func:`shadowable_loads` finds the cells that do not.
"""

import ast
import functools

from autograder.build import read_source

STAR_IMPORTED = ("numpy", "math", "torch")


@functools.cache
def star_exports():
    """Every name that ``from numpy import *``, ``from math import *`` or ``from torch import *`` binds."""
    names = set()
    for module in STAR_IMPORTED:
        namespace = {}
        exec(f"from {module} import *", namespace)
        names |= set(namespace) - {"__builtins__"}
    return frozenset(names)


def bound_names(tree):
    """Names a piece of code binds itself (assignments, imports, definitions, arguments)."""
    bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            bound.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    return bound


def shadowable_loads(assignment):
    """``{grade_id: [(name, line, column), ...]}`` of bare names in test cells that a star import can rebind.

    Names the student's own answer cells define are the student's to keep.
    Names of the locked setup cell are not safe (``from numpy import *``
    rebinds ``record``), so a test cell imports what it uses itself.
    """
    code = [c for c in read_source(assignment).cells if c.cell_type == "code"]
    defined = set().union(*(bound_names(ast.parse(c.source)) for c in code if _is_answer(c)))
    found = {}
    for cell in filter(_is_test, code):
        tree = ast.parse(cell.source)
        risky = star_exports() - bound_names(tree) - defined
        loads = [
            (n.id, n.lineno, n.col_offset)
            for n in ast.walk(tree)
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load) and n.id in risky
        ]
        if loads:
            found[cell.metadata["nbgrader"]["grade_id"]] = sorted(loads, key=lambda t: t[1:])
    return found


def _is_answer(cell):
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def _is_test(cell):
    return bool(cell.metadata.get("nbgrader", {}).get("grade"))
