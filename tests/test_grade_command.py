"""The instructor's grading command: a zip in, a table and grades.csv out; no sandbox, no grading."""

import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import autograder.grade
from autograder.course import REPO
from autograder.grade import SandboxUnavailable, check_sandbox
from autograder.sandbox import unavailable_reason
from autograder.submissions import released_notebook, write_submission
from tests.processes import processes_mentioning

pytestmark = pytest.mark.xdist_group("grade_command")
ASSIGNMENT = "01_gradient_descent"


@pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no sandbox here: {unavailable_reason()}"
)
def test_grade_zip_from_the_command_line(tmp_path):
    """A zip of two students: the table lists both, a notebook-less one with its reason; rerunning changes nothing."""
    folder = tmp_path / "class"
    write_submission(released_notebook(ASSIGNMENT), folder, "ada", ASSIGNMENT)
    (folder / "bob").mkdir()
    (folder / "bob" / "notes.txt").write_text("forgot the notebook")
    archive = shutil.make_archive(str(tmp_path / "class"), "zip", folder)
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        archive,
        "--chapter",
        ASSIGNMENT,
        "--workdir",
        str(tmp_path / "work"),
    ]
    first = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr[-2000:]
    table = {line.split()[0]: line for line in first.stdout.splitlines() if line.split()}
    assert "0 / 28" in table["ada"] and "graded" in table["ada"]
    assert "not graded" in table["bob"] and "no gradient_descent.ipynb" in table["bob"]
    rows = list(csv.DictReader(open(tmp_path / "work" / "grades.csv")))
    assert [r["student"] for r in rows] == ["ada", "bob"]
    again = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-2000:]
    assert list(csv.DictReader(open(tmp_path / "work" / "grades.csv"))) == rows


def test_refuses_to_grade_without_a_sandbox(monkeypatch, capsys):
    """Where the sandbox is impossible, grading stops loudly unless the instructor passes unsafe."""
    monkeypatch.setattr(
        autograder.grade, "unavailable_reason", lambda: "the grader is not running as root"
    )
    with pytest.raises(
        SandboxUnavailable, match=r"(?s)REFUSING TO GRADE.*not running as root.*--unsafe"
    ):
        check_sandbox(unsafe=False)
    check_sandbox(unsafe=True)
    assert "WITHOUT a sandbox" in capsys.readouterr().err


@pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no sandbox here: {unavailable_reason()}"
)
def test_killed_run_resumes_without_losing_or_double_counting(tmp_path):
    """Kill the grader after its first student; the rerun keeps that result and grades the rest once."""
    folder = tmp_path / "class"
    for student in ("s1", "s2", "s3"):
        write_submission(released_notebook(ASSIGNMENT), folder, student, ASSIGNMENT)
    work = tmp_path / "work"
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(folder),
        "--chapter",
        ASSIGNMENT,
        "--workdir",
        str(work),
    ]
    run = subprocess.Popen(
        command,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    first = work / "results" / "s1.json"
    deadline = time.monotonic() + 240
    while not first.exists() and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.1)
    os.killpg(run.pid, signal.SIGKILL)
    run.wait()
    assert first.exists()
    stamp = first.stat().st_mtime_ns
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = list(csv.DictReader(open(work / "grades.csv")))
    assert sorted(r["student"] for r in rows) == ["s1", "s2", "s3"]
    assert [(r["status"], r["auto_score"], r["reason"]) for r in rows] == [("graded", "0", "")] * 3
    assert first.stat().st_mtime_ns == stamp, "the finished student was graded again"


def test_zip_collect_names_are_sorted_into_student_folders(tmp_path):
    """Flat files named as nbgrader's zip_collect names them become one folder per student."""
    from autograder.grade import _unpacked

    for name in (
        "ada_attempt_2026-11-01-10-00_gradient_descent.ipynb",
        "bob_lee_attempt_2026-11-02-09-30_notes.txt",
    ):
        (tmp_path / name).write_text("{}")
    with _unpacked(tmp_path) as folder:
        found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert found == ["ada/gradient_descent.ipynb", "bob_lee/notes.txt"]


def test_the_sandbox_shows_the_kernel_the_shipped_data_but_not_the_grader():
    """Chapter 08 loads the backbone from data/ inside the sandbox, even when the checkout is under /tmp (which it hides)."""
    from autograder.sandbox import kernel_needs
    from backproplab.datasets import REPO_DATA

    exposed = kernel_needs()
    assert str(REPO_DATA.resolve()) in exposed
    assert not [p for p in exposed if p.endswith(("/solutions", "/autograder", "/tests", "/.git"))]


@pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no sandbox here: {unavailable_reason()}"
)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_stopping_the_grader_stops_every_sandbox_it_started(tmp_path, signum):
    """Ctrl-C (SIGINT) or SIGTERM to the grader, while a student's kernel loops: no worker, kernel or sandbox survives."""
    notebook = released_notebook(ASSIGNMENT)
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ch01_forward":
            cell.source = "while True:\n    pass\n"
    write_submission(notebook, tmp_path / "class", "looper", ASSIGNMENT)
    work = tmp_path / "work"
    command = [
        sys.executable,
        "-m",
        "autograder",
        "grade",
        str(tmp_path / "class"),
        "--chapter",
        ASSIGNMENT,
        "--workdir",
        str(work),
        "--timeout",
        "120",
    ]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    # Wait for the student's kernel itself: bwrap arms --die-with-parent as it starts, and a
    # grader killed in those first milliseconds leaves a bwrap whose parent was already gone.
    while not (
        (sandboxed := _descendants(processes_mentioning(str(work))))
        & set(processes_mentioning("ipykernel_launcher"))
    ):
        assert time.monotonic() < deadline and run.poll() is None, "no sandboxed kernel started"
        time.sleep(0.2)
    run.send_signal(signum)
    run.wait(timeout=30)
    # generous: under a loaded CI machine, killed processes take a while to be reaped
    deadline = time.monotonic() + 60
    while (
        _alive(sandboxed | set(processes_mentioning(str(tmp_path)))) and time.monotonic() < deadline
    ):
        time.sleep(0.2)
    survivors = _alive(sandboxed | set(processes_mentioning(str(tmp_path))))
    assert survivors == [], f"processes of the stopped grader survive: {_described(survivors)}"


def _descendants(pids):
    """``pids`` and every process below them."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
    found, frontier = set(pids), set(pids)
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _described(pids):
    """``{pid: (state, command line)}``, for a failure message."""
    described = {}
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        described[pid] = (state, cmdline[:300])
    return described


def _alive(pids):
    """The processes of ``pids`` that still run (a zombie, dead but not yet reaped, does not)."""
    alive = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if state != "Z":
            alive.append(pid)
    return sorted(alive)
