"""``python -m autograder export``: a gradebook's grades for Canvas, Moodle and as plain CSV.

The gradebook is nbgrader's own, built with its API; the Canvas file is in the layout of
Canvas's gradebook export (Grades > Export: identity columns, one column per assignment
named "Name (id)", a "Points Possible" row, read-only totals, the test student), and the
Moodle file in the layout of Moodle's CSV grade import (a header line, an identity column,
one column per grade item). Every student the files do not share is listed.
"""

import csv
import datetime
import io
import os
import shutil
import subprocess
import sys
import warnings

import pytest

from autograder.__main__ import main
from autograder.course import DB_URL_ENV, REPO, put_venv_on_path
from autograder.export import export, read_grades

CHAPTER = "01_gradient_descent"
CANVAS_EXPORT = """\
Student,ID,SIS User ID,SIS Login ID,Section,01 Gradient descent (1001),02 Backprop (1002),\
Current Points,Final Points,Current Score,Final Score
    Points Possible,,,,,32.00,40.00,(read only),(read only),(read only),(read only)
"Lovelace, Ada",101,A001,ada@uni.edu,Section 1,,7.00,7.00,7.00,9.72,9.72
"Babbage, Charles",102,A002,charles,Section 1,3.00,,3.00,3.00,9.38,9.38
"Hopper, Grace",103,A003,grace@uni.edu,Section 2,,,0.00,0.00,,
"Ritchie, Dennis",104,A004,dan,Section 2,,,0.00,0.00,,
"Noether, Emmy",105,A005,emmy@uni.edu,Section 2,,,0.00,0.00,,
"Student, Test",999,,,Section 1,,,0.00,0.00,,
"""


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """A gradebook: ada (28 of 32), charles (manual grading pending), s42 (e-mail grace@...),
    dan (nothing submitted) and zed (graded, unknown to Canvas)."""
    from nbgrader.api import Gradebook

    put_venv_on_path()
    path = tmp_path_factory.mktemp("export") / "gradebook.db"
    with warnings.catch_warnings(), Gradebook(f"sqlite:///{path}") as gb:
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment(CHAPTER)
        gb.add_notebook("gradient_descent", CHAPTER)
        gb.add_grade_cell("auto", "gradient_descent", CHAPTER, max_score=30, cell_type="code")
        gb.add_grade_cell("explain", "gradient_descent", CHAPTER, max_score=2, cell_type="markdown")
        scores = {
            "ada_uni.edu": (26, 2, None),
            "charles": (10, None, None),
            "s42": (30, 0, "grace@uni.edu"),
            "dan": None,
            "zed": (12, 1, None),
        }
        for student, score in scores.items():
            email = score[2] if score else None
            gb.update_or_create_student(student, first_name=student, last_name="X", email=email)
            if score is None:
                continue
            gb.add_submission(CHAPTER, student, timestamp=datetime.datetime(2026, 3, 1, 12))
            auto = gb.find_grade("auto", "gradient_descent", CHAPTER, student)
            auto.auto_score, auto.needs_manual_grade = score[0], False
            manual = gb.find_grade("explain", "gradient_descent", CHAPTER, student)
            manual.manual_score, manual.needs_manual_grade = score[1], score[1] is None
        gb.db.commit()
    return path


@pytest.fixture
def workdir(gradebook, tmp_path):
    """A grading folder holding a copy of the module's gradebook, for one test to change."""
    shutil.copy(gradebook, tmp_path / "gradebook.db")
    return tmp_path


def rows(path):
    return list(csv.reader(io.StringIO(path.read_text())))


def test_read_grades_lists_every_student(workdir):
    grades = {g.student: g for g in read_grades(CHAPTER, workdir=workdir)}
    assert sorted(grades) == ["ada_uni.edu", "charles", "dan", "s42", "zed"]
    assert grades["ada_uni.edu"].score == 28 and grades["ada_uni.edu"].max_score == 32
    assert grades["charles"].manual_pending and grades["charles"].score == 10
    assert grades["dan"].score is None
    with pytest.raises(ValueError, match="no chapter 02_backprop"):
        read_grades("02_backprop", workdir=workdir)


def test_plain_csv(workdir, tmp_path):
    report = export(read_grades(CHAPTER, workdir=workdir), "csv", tmp_path / "out.csv")
    table = rows(tmp_path / "out.csv")
    assert table[0][:8] == [
        "student_id",
        "first_name",
        "last_name",
        "email",
        "score",
        "max_score",
        "manual_pending",
        "submitted",
    ]
    by_id = {r[0]: r for r in table[1:]}
    assert by_id["ada_uni.edu"][4:8] == ["28", "32", "no", "yes"]
    assert by_id["charles"][4:8] == ["10", "32", "yes", "yes"]
    assert by_id["dan"][4:8] == ["", "32", "no", "no"], "a missing submission is a row too"
    assert by_id["s42"][3] == "grace@uni.edu"
    assert by_id["ada_uni.edu"][8] == "2026-03-01T12:00:00"
    assert report.not_submitted == ["dan"] and report.manual_pending == ["charles"]


def test_moodle_import_layout(workdir, tmp_path):
    export(read_grades(CHAPTER, workdir=workdir), "moodle", tmp_path / "m.csv", "Chapter 01")
    table = rows(tmp_path / "m.csv")
    assert table[0] == ["Username", "Email address", "First name", "Last name", "Chapter 01"]
    assert ["s42", "grace@uni.edu", "s42", "X", "30"] in table
    assert ["dan", "", "dan", "X", ""] in table
    assert len(table) == 6, "every gradebook student has a row"


def test_canvas_fills_the_instructors_export(workdir, tmp_path):
    (tmp_path / "canvas.csv").write_text("\ufeff" + CANVAS_EXPORT)  # Canvas writes a BOM
    report = export(
        read_grades(CHAPTER, workdir=workdir),
        "canvas",
        tmp_path / "import.csv",
        "01 Gradient descent",
        canvas_csv=tmp_path / "canvas.csv",
    )
    table = rows(tmp_path / "import.csv")
    assert table[0] == [
        "Student",
        "ID",
        "SIS User ID",
        "SIS Login ID",
        "Section",
        "01 Gradient descent (1001)",
    ]
    assert table[1] == ["    Points Possible", "", "", "", "", "32.00"]
    grade = {r[1]: r[5] for r in table[2:]}
    assert grade["101"] == "28", "SIS Login ada@uni.edu is the gradebook's ada_uni.edu"
    assert grade["102"] == "10", "charles: the automatic part, listed as pending"
    assert grade["103"] == "30", "grace@uni.edu is the e-mail of gradebook student s42"
    assert grade["104"] == "", "dan submitted nothing: left empty, listed"
    assert grade["105"] == "" and grade["999"] == ""
    assert report.not_in_lms == ["zed"]
    assert report.no_grade_here == ["Noether, Emmy", "Student, Test"]
    assert report.not_submitted == ["dan"] and report.manual_pending == ["charles"]
    lines = "\n".join(report.lines())
    assert "zed" in lines and "Noether, Emmy" in lines and "dan" in lines


def test_canvas_column_must_be_named_when_not_found(workdir, tmp_path):
    (tmp_path / "canvas.csv").write_text(CANVAS_EXPORT)
    with pytest.raises(ValueError, match=r"01 Gradient descent \(1001\); 02 Backprop \(1002\)"):
        export(
            read_grades(CHAPTER, workdir=workdir),
            "canvas",
            tmp_path / "i.csv",
            CHAPTER,
            canvas_csv=tmp_path / "canvas.csv",
        )
    (tmp_path / "other.csv").write_text("name,grade\nada,1\n")
    with pytest.raises(ValueError, match="not a Canvas gradebook export"):
        export([], "canvas", tmp_path / "i.csv", "x", canvas_csv=tmp_path / "other.csv")


def test_command_line(workdir, tmp_path, capsys):
    (tmp_path / "canvas.csv").write_text(CANVAS_EXPORT)
    out = tmp_path / "import.csv"
    argv = ["export", "--chapter", CHAPTER, "--workdir", str(workdir), "--output", str(out)]
    assert main([*argv, "--format", "canvas", "--canvas", str(tmp_path / "canvas.csv")]) == 2
    assert "choose the Canvas column" in capsys.readouterr().err
    canvas = ["--format", "canvas", "--canvas", str(tmp_path / "canvas.csv")]
    assert main([*argv, *canvas, "--column", "01 Gradient"]) == 0
    printed = capsys.readouterr().out
    assert "1 in the gradebook but not in the LMS file (not exported): zed" in printed
    assert "2 in the LMS file without a grade here" in printed
    assert main(argv) == 0 and rows(out)[0][0] == "student_id"


def nbgrader_export(*options, env=None):
    """``nbgrader export OPTIONS`` run from the repository (its nbgrader_config.py) as a command."""
    return subprocess.run(
        [sys.executable, "-m", "nbgrader", "export", *options],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
    )


def test_nbgrader_export_plugins(workdir, tmp_path):
    """``nbgrader export --exporter=autograder.export.<...>ExportPlugin`` writes the files
    ``python -m autograder export`` writes, and logs its report."""
    grades = read_grades(CHAPTER, workdir=workdir)
    db = f"--db=sqlite:///{workdir / 'gradebook.db'}"
    plain = nbgrader_export(
        db, "--exporter=autograder.export.PlainExportPlugin", f"--to={tmp_path / 'plain.csv'}"
    )
    assert plain.returncode == 0, plain.stderr[-3000:]
    export(grades, "csv", tmp_path / "expected.csv")
    assert rows(tmp_path / "plain.csv") == rows(tmp_path / "expected.csv")
    assert "1 submitted nothing (grade left empty): dan" in plain.stderr

    moodle = nbgrader_export(
        db,
        "--exporter=autograder.export.MoodleExportPlugin",
        f"--to={tmp_path / 'moodle.csv'}",
        f"--assignment={CHAPTER}",
        "--student=dan",
        "--student=s42",
        "--MoodleExportPlugin.column=Chapter 01",
    )
    assert moodle.returncode == 0, moodle.stderr[-3000:]
    assert rows(tmp_path / "moodle.csv") == [
        ["Username", "Email address", "First name", "Last name", "Chapter 01"],
        ["dan", "", "dan", "X", ""],
        ["s42", "grace@uni.edu", "s42", "X", "30"],
    ]

    # Canvas, the gradebook named by $BACKPROPLAB_DB_URL (nbgrader_config.py reads it)
    (tmp_path / "canvas.csv").write_text("\ufeff" + CANVAS_EXPORT)
    env = {DB_URL_ENV: f"sqlite:///{workdir / 'gradebook.db'}"}
    canvas = ["--exporter=autograder.export.CanvasExportPlugin", f"--to={tmp_path / 'c.csv'}"]
    filled = nbgrader_export(
        *canvas,
        f"--CanvasExportPlugin.canvas={tmp_path / 'canvas.csv'}",
        "--CanvasExportPlugin.column=01 Gradient",
        env=env,
    )
    assert filled.returncode == 0, filled.stderr[-3000:]
    export(grades, "canvas", tmp_path / "c-expected.csv", "01 Gradient", tmp_path / "canvas.csv")
    assert rows(tmp_path / "c.csv") == rows(tmp_path / "c-expected.csv")
    assert "1 in the gradebook but not in the LMS file (not exported): zed" in filled.stderr


def test_export_plugin_errors_exit_with_their_reason(workdir, tmp_path, caplog):
    """A plugin's error (here: no Canvas file, no chapter) exits with status 2 and says why."""
    from nbgrader.api import Gradebook

    from autograder.export import CanvasExportPlugin, PlainExportPlugin

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        with pytest.raises(SystemExit) as stopped:
            CanvasExportPlugin(to=str(tmp_path / "c.csv")).export(gb)
        assert stopped.value.code == 2
        assert "--CanvasExportPlugin.canvas=FILE" in caplog.text
        gb.update_or_create_assignment("02_backprop")
        with pytest.raises(SystemExit):
            PlainExportPlugin(to=str(tmp_path / "p.csv")).export(gb)
        assert "--assignment=NN_name (the gradebook has 01_gradient_descent, 02_backprop)" in (
            caplog.text
        )
