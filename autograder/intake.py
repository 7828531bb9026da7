"""Find a student's notebook in their folder and make sure nbgrader can grade it.

Each problem either is repaired (and noted for the report) or becomes a
:class:`SubmissionError` whose message the instructor reads. Nothing here
executes student code.
"""

import difflib
import json
import os
import stat
from pathlib import Path

import nbformat

from autograder.course import files_digest, notebook_stem


class SubmissionError(Exception):
    """A submission that cannot be graded, with a reason the instructor reads.

    ``flag`` names the kind of failure in the report: ``unreadable`` (the
    file) or ``crash`` (the kernel or nbgrader gave up while grading).
    """

    def __init__(self, reason, flag="unreadable"):
        super().__init__(reason)
        self.flag = flag


MAX_NOTEBOOK_BYTES = 32 * 2**20  # a solved chapter is well under 1 MB without outputs
MAX_FOLDER_BYTES = 256 * 2**20
MAX_FOLDER_FILES = 2000
EDIT_WINDOW = 4  # cells after its place where an edited locked or test cell is still recognised


def regular_files(folder):
    """Every regular file under ``folder``, sorted, never following a symbolic link.

    Symlinks, devices, pipes and sockets are left out (a symlink could point at
    the solutions or another student's notebook). Raises :class:`SubmissionError`
    when the folder holds more than ``MAX_FOLDER_FILES`` files or ``MAX_FOLDER_BYTES``.
    """
    files, total = [], 0
    for path, info in entries(folder):
        if stat.S_ISREG(info.st_mode):
            files.append(path)
            total += info.st_size
        if len(files) > MAX_FOLDER_FILES or total > MAX_FOLDER_BYTES:
            raise SubmissionError(
                f"the submission holds more than {MAX_FOLDER_FILES} files or "
                f"{MAX_FOLDER_BYTES // 2**20} MiB; submit the notebook alone"
            )
    return sorted(files)


def entries(folder):
    """``(path, lstat)`` of every non-folder entry under ``folder`` (files, links, special files);
    symlinked folders are not entered."""
    for root, _, names in os.walk(folder, followlinks=False):
        for name in names:
            path = Path(root) / name
            yield path, path.lstat()


def folder_digest(folder):
    """SHA-256 over the names and bytes of every regular file in a student's folder."""
    return files_digest(folder, regular_files(folder))


def find_notebook(student_dir, assignment):
    """The student's notebook: the expected name, or the only notebook there is.

    Returns ``(path, notes)``; a renamed notebook is graded and noted. Only
    regular files count: a notebook that is a symbolic link is refused.
    """
    name = f"{notebook_stem(assignment)}.ipynb"
    links = [
        p
        for p, info in entries(student_dir)
        if p.suffix == ".ipynb" and not stat.S_ISREG(info.st_mode)
    ]
    if links:
        raise SubmissionError(
            f"{links[0].name} is a symbolic link or special file, not a notebook: submit the file itself"
        )
    found = [
        p
        for p in regular_files(student_dir)
        if p.suffix == ".ipynb" and ".ipynb_checkpoints" not in p.parts
    ]
    exact = [p for p in found if p.name == name]
    if exact:
        return exact[0], []
    if len(found) == 1:
        return found[0], [f"renamed: graded {found[0].name} as {name}"]
    others = ", ".join(p.name for p in found) or "none"
    raise SubmissionError(f"no {name} in the submission (notebooks found: {others})")


def load_notebook(path):
    """Read ``path`` as an nbformat 4 notebook, repairing what can be repaired.

    Returns ``(notebook, notes)``. Raises :class:`SubmissionError` for an
    empty file, invalid JSON, or a file that is not a notebook.
    """
    size = Path(path).lstat().st_size
    if size > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(
            f"the notebook is {size / 2**20:.0f} MiB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MiB "
            "a chapter can need: clear its outputs (Edit > Clear Outputs of All Cells) and submit again"
        )
    text = Path(path).read_text(encoding="utf-8", errors="replace")
    if not text.strip():
        raise SubmissionError("the notebook file is empty")
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SubmissionError(
            f"the notebook is not valid JSON (line {exc.lineno}): it may be corrupt or truncated"
        ) from None
    if not isinstance(raw, dict) or "cells" not in raw and "worksheets" not in raw:
        raise SubmissionError("the file is JSON but not a Jupyter notebook")
    notes = []
    if raw.get("nbformat", 4) < 4:
        notes.append(f"converted from notebook format {raw.get('nbformat')} to 4")
    try:
        notebook = nbformat.convert(nbformat.reads(text, as_version=nbformat.NO_CONVERT), 4)
    except Exception as exc:  # nbformat raises many kinds on malformed input
        raise SubmissionError(
            f"the notebook cannot be read: {type(exc).__name__}: {exc}"[:300]
        ) from None
    return notebook, notes + remove_duplicate_cells(notebook)


def remove_duplicate_cells(notebook):
    """Keep the first cell of each ``grade_id``; return notes about the ones dropped."""
    seen, kept, dropped = set(), [], []
    for cell in notebook.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if grade_id and grade_id in seen:
            dropped.append(grade_id)
            continue
        seen.add(grade_id)
        kept.append(cell)
    notebook.cells = kept
    return [f"removed duplicated cell {g}" for g in dropped]


def restore_metadata(notebook, release):
    """Give back nbgrader metadata to cells that lost it; return notes for the report.

    A cell is recognised by its id: the course's cell ids equal the ``grade_id``s, and Colab keeps
    a cell's id in ``metadata.id`` when it writes format 4.0, which has none. A cell without either
    (an editor that dropped both) is recognised by its place: the submission's cells are aligned
    with the release's on their sources, and a cell in the place of a release cell of the same
    type takes its metadata (an answer filled in, a locked cell edited). A grade_id the
    submission already holds is never given to a second cell.
    """
    by_id = {c.get("id"): c for c in release.cells if "nbgrader" in c.metadata}
    held = {_grade_id(c) for c in notebook.cells}
    placed = _aligned(notebook.cells, release.cells)
    restored = []
    for index, cell in enumerate(notebook.cells):
        if "nbgrader" in cell.get("metadata", {}):
            continue
        ids = (cell.get("id"), cell.get("metadata", {}).get("id"))
        source = next((by_id[i] for i in ids if i in by_id), None) or placed.get(index)
        if source is None or "nbgrader" not in source.metadata:
            continue
        grade_id = source.metadata["nbgrader"]["grade_id"]
        if grade_id in held:
            continue
        cell.setdefault("metadata", {})["nbgrader"] = dict(source.metadata["nbgrader"])
        held.add(grade_id)
        restored.append(grade_id)
    return [f"restored nbgrader metadata of {len(restored)} cells"] if restored else []


def restore_deleted_cells(notebook, release):
    """Put back every test and locked cell of ``release`` that the submission lacks; return notes.

    Each goes right after the nearest release cell before it that the submission holds (at the
    top when there is none), as released (nbgrader restores a locked cell's source anyway). A
    deleted answer cell is not put back: its tests then fail, as they would in the student's
    notebook, and a cell of theirs that was not recognised keeps its code. nbgrader's own
    ``add_missing_cells`` places a test cell after the cell before it in the release and fails
    with a ``KeyError`` when that one is gone too (an answer deleted with its tests).
    """
    held, missing, anchor = {_grade_id(c) for c in notebook.cells}, [], None
    for cell in release.cells:
        grade_id = _grade_id(cell)
        if grade_id is None:
            continue
        if cell.metadata["nbgrader"].get("solution"):  # an answer cell: never put back
            anchor = grade_id if grade_id in held else anchor
            continue
        if grade_id not in held:
            ids = [_grade_id(c) for c in notebook.cells]
            notebook.cells.insert(ids.index(anchor) + 1 if anchor else 0, nbformat.from_dict(cell))
            held.add(grade_id)
            missing.append(grade_id)
        anchor = grade_id
    if not missing:
        return []
    return [f"put back {len(missing)} deleted cells as released: {', '.join(missing)}"]


def _grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def _aligned(cells, release_cells):
    """``{index in cells: release cell}``: the cells in the place of a release cell.

    The two lists are aligned on ``(cell type, source)``. Where the sources differ, a release
    answer cell takes the next cell of its type (the student's answer: nbgrader keeps an answer
    cell's source, so even a wrong place costs nothing), and a locked or test cell takes only a
    cell of its type whose source is still close to its own (an edit), so that a cell the student
    wrote where a test cell was deleted stays theirs.
    """
    ours = [(c.get("cell_type"), str(c.get("source", "")).strip()) for c in cells]
    theirs = [(c.cell_type, c.source.strip()) for c in release_cells]
    matcher = difflib.SequenceMatcher(None, theirs, ours, autojunk=False)
    placed = {}
    for tag, r0, r1, s0, s1 in matcher.get_opcodes():
        if tag == "equal":
            placed.update({s: release_cells[r] for r, s in zip(range(r0, r1), range(s0, s1))})
        elif tag == "replace":
            for r in range(r0, r1):
                answer = release_cells[r].metadata.get("nbgrader", {}).get("solution")
                # an edited locked or test cell is looked for a few cells on, no further
                end = s1 if answer else min(s1, s0 + EDIT_WINDOW)
                s = next(
                    (
                        k
                        for k in range(s0, end)
                        if ours[k][0] == theirs[r][0]
                        and (answer or _close(ours[k][1], theirs[r][1]))
                    ),
                    None,
                )
                if s is not None:
                    placed[s], s0 = release_cells[r], s + 1
    return placed


def _close(text, original):
    """Whether ``text`` is ``original`` edited, rather than something else: difflib's ratio >= 0.6
    (its cheap upper bounds first, so a huge cell costs no more than its length)."""
    matcher = difflib.SequenceMatcher(None, text, original)
    return all(
        bound() >= 0.6 for bound in (matcher.real_quick_ratio, matcher.quick_ratio, matcher.ratio)
    )


def clean_metadata(notebook, kernel_name):
    """Point the notebook at the grading kernel and give every cell a valid id.

    With ids on every cell the notebook is format 4.5 (Colab writes 4.0, which has none, and a
    4.0 notebook with ids fails validation against its own schema).
    """
    notebook.metadata["kernelspec"] = {
        "name": kernel_name,
        "display_name": kernel_name,
        "language": "python",
    }
    for index, cell in enumerate(notebook.cells):
        if not isinstance(cell.get("id"), str) or not cell.get("id"):
            cell["id"] = f"cell-{index}"
    notebook.nbformat_minor = max(notebook.get("nbformat_minor", 0), nbformat.v4.nbformat_minor)
    return notebook
