"""The adversarial corpus, graded in one batch: every hostile or broken
submission gets the score it deserves, leaks nothing, and affects no one else.

Needs the sandbox (Linux with bubblewrap, as root or not; CI runs both); skipped elsewhere with the reason.
"""

import csv
import json
import os
import re
import shutil
import socket
import sqlite3
import threading
from pathlib import Path

import nbformat
import pytest

from autograder.build import release
from autograder.course import REPO
from autograder.grade import grade_class
from autograder.sandbox import unavailable_reason
from tests.adversarial.corpus import ASSIGNMENT, NOTEBOOK, build_corpus
from tests.test_release import HIDDEN, _secret_lines

pytestmark = [
    pytest.mark.xdist_group("adversarial"),
    pytest.mark.skipif(
        unavailable_reason() is not None, reason=f"no sandbox here: {unavailable_reason()}"
    ),
]
WORKERS = 2


@pytest.fixture(scope="module")
def listener():
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            accepted.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], accepted
    server.close()


@pytest.fixture(scope="module", params=["local", pytest.param("dask", marks=pytest.mark.sweep)])
def engine(request, tmp_path_factory):
    """Where the corpus is graded: ``(name, scheduler, [folders its sandboxes' settings are in])``.

    ``local``, the default worker pool, in ``make test``; ``dask``, a real scheduler and two
    workers on 127.0.0.1, in ``make sweep``: the same outcomes are asked of both.
    """
    if request.param == "local":
        yield "local", None, []
        return
    pytest.importorskip("distributed")
    from tests.dask_cluster import running_cluster

    with running_cluster(tmp_path_factory.mktemp("adversarial-dask")) as (cluster, client):
        yield "dask", client, [cluster.local_directory(name) for name in ("a", "b")]


@pytest.fixture(scope="module")
def graded(tmp_path_factory, listener, engine):
    """``(expected, results, workdir)`` for the whole corpus."""
    root = tmp_path_factory.mktemp(f"adversarial-{engine[0]}")
    second = root / "second-checkout"  # another copy of the course elsewhere on the machine
    shutil.copytree(REPO / "solutions" / ASSIGNMENT, second / "solutions" / ASSIGNMENT)
    ctx = {
        "repo": str(REPO),
        "workdir": str(root / "work"),
        "submissions": str(root / "corpus"),
        "port": listener[0],
        "second_checkout": str(second),
    }
    expected = build_corpus(root / "corpus", ctx)
    results = grade_class(
        root / "corpus",
        ASSIGNMENT,
        workdir=root / "work",
        timeout=10,
        student_timeout=150,
        workers=WORKERS,
        scheduler=engine[1],
    )
    return expected, {r.name or r.student: r for r in results}, root / "work"


def test_corpus_is_large_enough(graded, record_property):
    """At least 30 hostile or broken cases besides the controls; what they scored goes to the suite's reports."""
    expected, results, _ = graded
    cases = [c for c in expected if "control" not in c]
    assert len(cases) >= 30
    full = results["control-perfect"].auto_max
    flagged = sum(bool(results[c].flags) for c in cases)
    over = [c for c in cases if results[c].auto_score > results["control-perfect"].auto_score]
    record_property(
        "report",
        f"adversarial corpus ({ASSIGNMENT}, {full:g} points): {len(cases)} cases, "
        f"{sum(results[c].status == 'graded' for c in cases)} graded, {flagged} flagged, "
        f"{len(over)} above the solution's score",
    )


def _cases():
    """Every case the corpus writes, discovered by writing it (no list to keep in step by hand)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        ctx = {"repo": str(REPO), "workdir": scratch, "submissions": scratch, "port": 0}
        return sorted(build_corpus(Path(scratch) / "corpus", ctx))


@pytest.mark.parametrize("case", _cases())
def test_case_gets_the_outcome_it_deserves(graded, case):
    """Status, score, flags and reason as the corpus says."""
    expected, results, _ = graded
    want, got = expected[case], results[case]
    full, mistakes = results["control-perfect"].auto_max, results["control-mistakes"].auto_score
    assert want.status in (got.status, "any"), f"{case}: {got.status} ({got.reason})"
    score = {"full": full, "zero": 0, "mistakes": mistakes}.get(want.score)
    if want.score == "at-most-mistakes":
        assert got.auto_score <= mistakes, (
            f"{case}: {got.auto_score} points, more than the honest mistakes' {mistakes}"
        )
    elif want.score == "partial":
        assert 0 < got.auto_score < full, f"{case}: {got.auto_score}"
    else:
        assert got.auto_score == score, (
            f"{case}: {got.auto_score} points, deserves {score} ({got.notes})"
        )
    assert set(want.flags) <= set(got.flags), f"{case}: flags {got.flags}"
    if want.honest:
        assert set(got.flags) <= {"renamed"}, f"{case}: an honest student flagged {got.flags}"
    assert want.reason in got.reason


# Notebooks saved by Google Colab or VS Code (tests/adversarial/editors.py), each against the
# same work saved by JupyterLab.
EDITED = {
    "colab-copy": "control-perfect",
    "colab-format-4.0": "control-perfect",
    "colab-metadata-dropped": "control-perfect",
    "colab-mistakes": "control-mistakes",
    "vscode": "control-perfect",
    "vscode-mistakes": "control-mistakes",
}


@pytest.mark.parametrize("case", EDITED)
def test_another_editors_notebook_is_graded_cell_by_cell_as_the_jupyterlab_one(graded, case):
    """Colab's or VS Code's copy of a notebook (their metadata, format 4.0 without cell ids,
    "Copy of" names, an install cell, nbgrader's metadata gone): every cell's points and reason
    are those of the JupyterLab notebook, and nobody is called a cheat."""
    _, results, _ = graded
    lab, other = results[EDITED[case]], results[case]
    assert other.status == "graded", other.reason
    cells = {g: (c.score, c.max_score, c.reason) for g, c in other.cells.items()}
    assert cells == {g: (c.score, c.max_score, c.reason) for g, c in lab.cells.items()}
    assert set(other.flags) <= {"renamed"}, f"an honest student flagged {other.flags}"


def test_mistakes_base_is_between_zero_and_full(graded):
    """The 'mistakes' reference score is a real middle score, so equality with it means something."""
    _, results, _ = graded
    assert 0 < results["control-mistakes"].auto_score < results["control-perfect"].auto_max


@pytest.mark.parametrize(
    "case",
    [
        "read-solutions",
        "read-hidden-tests",
        "read-autograded",
        "read-gradebook",
        "read-other-student",
        "write-gradebook",
        "read-git-history",
        "socket-localhost",
        "socket-outside",
        "read-etc-passwd",
        "read-sys",
        "read-second-checkout",
        "write-run-lock",
        "ipc-read",
    ],
)
def test_probe_was_blocked(graded, case):
    """The probe ran (its cell printed 'blocked') and nothing leaked."""
    _, _, workdir = graded
    outputs = _outputs_text(workdir, case)
    assert "blocked:" in outputs and "LEAK:" not in outputs


def test_no_connection_reached_the_host(graded, listener):
    """The kernel's socket to 127.0.0.1 never arrived."""
    assert listener[1] == []


def test_gradebook_is_intact(graded, tmp_path):
    """The gradebook's record of the assignment equals a freshly made one."""
    _, _, workdir = graded
    release([ASSIGNMENT], course_dir=tmp_path / "release", workdir=tmp_path)
    query = "select name, checksum, source from source_cell order by name"
    fresh = sqlite3.connect(tmp_path / "gradebook.db").execute(query).fetchall()
    assert sqlite3.connect(workdir / "gradebook.db").execute(query).fetchall() == fresh


def test_nothing_of_the_sandbox_keeps_running(graded, engine):
    """No sandbox of this batch survives it: no process names its IPC folders, and (as root) none
    runs as its uids. A Dask worker keeps its grading processes for the next batch (they close with
    the worker), so there no student's kernel may survive."""
    _, _, workdir = graded
    kernels = [workdir / "jupyter" / "kernels"] if engine[0] == "local" else []
    kernels += [k for root in engine[2] for k in root.glob("**/jupyter/kernels")]
    settings = [json.loads(p.read_text()) for k in kernels for p in k.glob("*/settings.json")]
    sandboxes = len({s["uid"] for s in settings})
    assert sandboxes == WORKERS if engine[0] == "local" else 1 <= sandboxes <= 2
    marks = [s["ipc_dir"] for s in settings]
    # rootless uids exist only inside
    uids = {s["uid"] for s in settings} if os.geteuid() == 0 else set()
    alive = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
            uid = int(
                next(
                    ln for ln in (proc / "status").read_text().splitlines() if ln.startswith("Uid:")
                ).split()[1]
            )
        except (OSError, StopIteration):
            continue
        kept = engine[0] == "dask" and "ipykernel" not in cmdline
        if (uid in uids or any(m in cmdline for m in marks)) and not kept:
            alive.append(f"{proc.name}: {cmdline[:80]}")
    assert alive == []


def test_feedback_hides_hidden_tests_and_stays_small(graded):
    """No feedback page shows a hidden test's code, and none is huge (images, prints)."""
    _, results, workdir = graded
    secrets = _secret_lines(ASSIGNMENT, HIDDEN)
    pages = list((workdir / "feedback").rglob("*.html"))
    assert len(pages) == len([r for r in results.values() if r.status == "graded"])
    for page in pages:
        text = page.read_text()
        assert not [s for s in secrets if s in text], (
            f"{page.parent.parent.name} shows hidden tests"
        )
        assert len(text) < 5_000_000, f"{page} is {len(text)} bytes"


def _outputs_text(workdir, student):
    path = workdir / "autograded" / student / ASSIGNMENT / NOTEBOOK
    nb = nbformat.read(path, 4)
    return "\n".join(
        str(o.get("text", "")) for c in nb.cells if c.cell_type == "code" for o in c.outputs
    )


def test_odd_folder_names_get_safe_distinct_ids(graded):
    """Globs, spaces, formulas and escapes never reach nbgrader: each odd name has an id of its own."""
    from tests.adversarial.corpus import ODD_NAMES

    _, results, workdir = graded
    ids = [results[name].student for name in ODD_NAMES]
    assert len(set(ids)) == len(ids) and all(
        re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", i) for i in ids
    ), ids
    rows = {r["name"]: r for r in csv.DictReader(open(workdir / "grades.csv", newline=""))}
    assert '\'=HYPERLINK("x")' in rows, "a formula must reach the spreadsheet as text"
    assert not [n for n in rows if any(not c.isprintable() for c in n)], (
        "control characters reached grades.csv"
    )
    gradebook = sqlite3.connect(workdir / "gradebook.db")
    scores = dict(
        gradebook.execute(
            "select s.student_id, sum(g.auto_score) from grade g join submitted_notebook n on g.notebook_id = n.id "
            "join submitted_assignment s on n.assignment_id = s.id group by s.student_id"
        ).fetchall()
    )
    for name in ODD_NAMES:
        assert scores[results[name].student] == results[name].auto_score, name


@pytest.mark.parametrize("case", ["xss-markdown", "xss-outputs"])
def test_no_student_script_reaches_the_instructors_pages(graded, case):
    """The stored autograded notebook and the feedback page carry the student's HTML only as inert text."""
    _, _, workdir = graded
    notebook = nbformat.read(workdir / "autograded" / case / ASSIGNMENT / NOTEBOOK, 4)
    page = next((workdir / "feedback" / case).rglob("*.html")).read_text()
    # code is shown as text, never run
    shown = [c.source for c in notebook.cells if c.cell_type != "code"]
    shown += [json.dumps(o) for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    for text in [*shown, json.dumps(notebook.metadata), page]:
        assert "<script>alert" not in text and "<img src=x" not in text and "<svg" not in text
    active = ("application/javascript", "image/svg+xml", "text/html", "text/markdown")
    assert not [
        k
        for c in notebook.cells
        if c.cell_type == "code"
        for o in c.outputs
        for k in o.get("data", {})
        if k in active
    ]
    assert "widgets" not in notebook.metadata


@pytest.mark.parametrize(
    ("case", "base"),
    [
        ("harvest-references", "control-untouched"),
        ("rewrite-records-later", "control-mistakes"),
        ("records-from-answer-cell", "control-untouched"),
    ],
)
def test_harvesting_earns_no_point(graded, case, base):
    """Harvesting in-kernel references, rewriting records later, or sending them from an answer cell gains nothing."""
    _, results, _ = graded
    honest = results[base].cells
    gained = {
        g: c.score
        for g, c in results[case].cells.items()
        if c.autograded and c.score > honest[g].score
    }
    assert gained == {}, f"{case} gained points over {base} in {gained}"


def test_rewritten_and_stray_records_are_noted_for_the_instructor(graded):
    """The grader tells the instructor which records it ignored, and why."""
    _, results, _ = graded
    assert any("rewritten after it finished" in n for n in results["rewrite-records-later"].notes)
    assert any("is not a test cell" in n for n in results["records-from-answer-cell"].notes)
