"""What the grader and its worker processes hand each other: a job, and a student's result.

Both travel as JSON files (the worker is another process), or as the same
plain dicts in a Dask task (:mod:`autograder.dask_engine`): each class has
``to_dict`` and ``from_dict``, and nothing else is ever written or read, so a
field added on one side cannot silently go missing on the other. Statuses
and flags are enums whose values are the words that appear in ``grades.csv``.
"""

import json
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path


class _Word(str, Enum):
    """An enum that prints, formats and compares as its word (``Flag.CRASH == "crash"``)."""

    def __str__(self):
        return self.value


class Status(_Word):
    """Whether a student's notebook was graded."""

    GRADED = "graded"
    NOT_GRADED = "not graded"


class Flag(_Word):
    """What an instructor should look at."""

    TIMEOUT = "timeout"  # the student's whole grading ran past --student-timeout
    CRASH = "crash"  # the kernel or the grading process died
    # a check that passed in the kernel fails outside, or records were rewritten
    TAMPERED = "tampered"
    UNREADABLE = "unreadable"  # no notebook, not JSON, a symlink, too big...
    RENAMED = "renamed"  # graded from a notebook of another name


@dataclass
class Job:
    """One student to grade, as the worker process receives it.

    The batch fills the chapter's part once; the worker's sandbox settings and
    the student's part are added per student (:meth:`for_student`).
    """

    assignment: str
    workdir: str
    timeout: int
    unsafe: bool
    hidden_ids: list
    grading_digest: str
    # the gradebook's SQLAlchemy URL (autograder.course.gradebook_url); "": the workdir's SQLite
    db_url: str = ""
    kernel_name: str = ""
    jupyter_path: str = ""
    ipc_prefix: str = ""
    uid: int = None
    cgroups: list = None
    student: str = ""
    student_dir: str = ""
    submission_sha256: str = ""

    def for_student(self, settings, student, student_dir, digest):
        """This job for one student, with a worker's sandbox ``settings`` (see ``install_kernelspec``)."""
        known = {f.name for f in fields(self)}
        return Job(
            **{
                **asdict(self),
                **{k: v for k, v in settings.items() if k in known},
                "student": student,
                "student_dir": str(student_dir),
                "submission_sha256": digest,
            }
        )

    def to_dict(self):
        return asdict(self)

    @classmethod
    def from_dict(cls, d):
        return cls(**d)

    def write(self, path):
        Path(path).write_text(json.dumps(self.to_dict()))

    @classmethod
    def read(cls, path):
        return cls.from_dict(json.loads(Path(path).read_text()))


@dataclass(frozen=True)
class CellScore:
    """Points of one grade cell; ``score`` is None while it needs manual grading."""

    score: float
    max_score: float
    autograded: bool
    reason: str = ""  # the grader's words when an autograded cell lost points


@dataclass
class StudentResult:
    """One student's grade: points per grade cell, totals, flags and what went wrong."""

    student: str  # the safe id nbgrader and the gradebook use (autograder.roster.safe_id)
    cells: dict = field(default_factory=dict)  # grade_id -> CellScore
    status: Status = Status.GRADED
    reason: str = ""
    flags: list = field(default_factory=list)  # of Flag
    notes: list = field(default_factory=list)
    seconds: float = 0.0
    name: str = ""  # the folder name as submitted, when it differs from the id
    submission_sha256: str = ""  # what was graded: the folder's digest and the grader's

    def to_dict(self):
        return {**asdict(self), "status": self.status.value, "flags": [f.value for f in self.flags]}

    @classmethod
    def from_dict(cls, d):
        values = {
            k: d[k] for k in ("reason", "notes", "seconds", "name", "submission_sha256") if k in d
        }
        return cls(
            d["student"],
            {k: CellScore(**v) for k, v in d.get("cells", {}).items()},
            Status(d.get("status", Status.GRADED)),
            flags=[Flag(f) for f in d.get("flags", [])],
            **values,
        )

    def not_graded(self, reason, flag):
        """This result turned into "not graded" for ``reason``, flagged ``flag``."""
        self.status, self.reason = Status.NOT_GRADED, reason
        self.flags.append(Flag(flag))
        return self

    @property
    def auto_score(self):
        return sum(c.score for c in self.cells.values() if c.autograded)

    @property
    def auto_max(self):
        return sum(c.max_score for c in self.cells.values() if c.autograded)

    @property
    def manual_pending(self):
        """Points of written answers that still wait for the instructor."""
        return sum(c.max_score for c in self.cells.values() if not c.autograded and c.score is None)
