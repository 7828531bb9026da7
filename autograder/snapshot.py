"""Each test cell's records as they were the moment that cell finished running.

nbclient lets a later message rewrite an earlier output (``update_display_data``
with a display id), so the outputs of the autograded notebook are not proof of
what a test cell sent. :class:`SnapshotExecute` is nbgrader's ``Execute`` that
copies every cell's records when the cell finishes; the grader judges those
copies and notes any record that changed afterwards.
"""

import copy

from nbgrader.preprocessors import Execute

from backproplab.grading import MIME

SNAPSHOTS = {}  # {cell index: [record payload, ...]} of the notebook executed last in this process


class SnapshotExecute(Execute):
    """nbgrader's ``Execute`` that keeps a copy of each cell's records when the cell finishes."""

    def preprocess(self, nb, resources=None, km=None):
        SNAPSHOTS.clear()
        return super().preprocess(nb, resources, km)

    def on_cell_executed(self, **kwargs):
        super().on_cell_executed(**kwargs)
        SNAPSHOTS[kwargs["cell_index"]] = copy.deepcopy(cell_records(kwargs["cell"]))


def cell_records(cell):
    """The record payloads (dicts with ``key`` and ``value``) among ``cell``'s outputs, in order."""
    return [
        d
        for o in cell.get("outputs", [])
        for d in [o.get("data", {}).get(MIME)]
        if isinstance(d, dict) and "key" in d and "value" in d
    ]


def autograde_preprocessors():
    """nbgrader's autograde steps, with :class:`SnapshotExecute` in place of ``Execute``."""
    from nbgrader.converters import Autograde

    return [
        SnapshotExecute if step is Execute else step
        for step in Autograde.class_traits()["autograde_preprocessors"].default()
    ]
