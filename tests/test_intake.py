"""Safe intake, one small test per behaviour: student ids, file checks, zips, CSV fields, sanitised pages."""

import zipfile

import nbformat
import pytest

from autograder.grade import _cell_text, _extract_capped, _sort_flat_files
from autograder.intake import (
    MAX_NOTEBOOK_BYTES,
    SubmissionError,
    find_notebook,
    folder_digest,
    load_notebook,
)
from autograder.roster import printable, roster, safe_id
from autograder.sanitize import escape_tags, sanitize_notebook

ASSIGNMENT = "01_gradient_descent"
NOTEBOOK = "gradient_descent.ipynb"


@pytest.mark.parametrize(
    "name, expected",
    [
        ("alice", "alice"),
        ("mallory ", "mallory"),
        ("*", "student"),
        ("../bob", "bob"),
        ("José Núñez", "Jose_Nunez"),
        ("=HYPERLINK(1)", "HYPERLINK_1"),
        ("\x1b[31mred", "31mred"),
    ],
)
def test_safe_id_keeps_only_letters_digits_dot_dash_underscore(name, expected):
    assert safe_id(name) == expected


def test_roster_gives_clashing_names_distinct_ids(tmp_path):
    for name in ("mallory", "mallory ", " mallory"):
        (tmp_path / name).mkdir()
    ids = [s.id for s in roster(tmp_path)]
    assert sorted(ids) == ["mallory", "mallory-2", "mallory-3"]


def test_roster_reports_a_symlinked_folder_and_a_loose_file(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "eve").symlink_to(tmp_path / "alice")
    (tmp_path / "notes.txt").write_text("x")
    problems = {s.name: s.problem for s in roster(tmp_path)}
    assert (
        problems["alice"] == ""
        and "symbolic link" in problems["eve"]
        and "not a folder" in problems["notes.txt"]
    )


def test_a_symlinked_notebook_is_refused_not_followed(tmp_path):
    (tmp_path / "elsewhere.ipynb").write_text(nbformat.writes(nbformat.v4.new_notebook()))
    (tmp_path / "student").mkdir()
    (tmp_path / "student" / NOTEBOOK).symlink_to(tmp_path / "elsewhere.ipynb")
    with pytest.raises(SubmissionError, match="symbolic link"):
        find_notebook(tmp_path / "student", ASSIGNMENT)


def test_a_huge_notebook_is_refused_before_reading(tmp_path):
    path = tmp_path / NOTEBOOK
    with open(path, "wb") as f:
        f.truncate(MAX_NOTEBOOK_BYTES + 1)
    with pytest.raises(SubmissionError, match="Clear Outputs"):
        load_notebook(path)


def test_the_digest_ignores_symlinks_and_changes_with_content(tmp_path):
    (tmp_path / "a.txt").write_text("one")
    before = folder_digest(tmp_path)
    (tmp_path / "zero").symlink_to("/dev/zero")
    assert folder_digest(tmp_path) == before
    (tmp_path / "a.txt").write_text("two")
    assert folder_digest(tmp_path) != before


def test_a_zip_bomb_member_is_left_out_and_the_rest_unpacked(tmp_path, capsys):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("alice/gradient_descent.ipynb", "{}")
        z.writestr("mallory/gradient_descent.ipynb", b"\0" * 64 * 2**20)
    _extract_capped(archive, tmp_path / "out")
    assert (tmp_path / "out" / "alice" / NOTEBOOK).exists()
    assert not (tmp_path / "out" / "mallory" / NOTEBOOK).exists()
    assert "zip bomb" in capsys.readouterr().err


def test_a_flat_file_named_dot_dot_stays_in_its_folder(tmp_path):
    flat = tmp_path / "mallory_attempt_2026-01-01_.."
    flat.write_text("{}")
    _sort_flat_files([flat], tmp_path / "students")
    assert (tmp_path / "students" / "mallory" / "unnamed").read_text() == "{}"


@pytest.mark.parametrize(
    "text, shown",
    [
        ("=1+1", "'=1+1"),
        ("+x", "'+x"),
        ("@a", "'@a"),
        ("-2", "'-2"),
        ("a\x1b[31m", "a?[31m"),
        ("plain", "plain"),
    ],
)
def test_csv_fields_are_text_not_formulas_or_escapes(text, shown):
    assert _cell_text(text) == shown


def test_printable_replaces_control_characters():
    assert printable("bob\nrow\x07") == "bob?row?"


def test_escape_tags_neutralises_tags_but_keeps_comparisons():
    assert (
        escape_tags("<script>x</script> a < b, $x < 2$")
        == "&lt;script>x&lt;/script> a < b, $x < 2$"
    )


def test_sanitize_keeps_inert_outputs_and_removes_active_ones():
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output(
            "display_data", data={"text/html": "<script>1</script>", "text/plain": "1"}
        ),
        nbformat.v4.new_output("display_data", data={"application/javascript": "alert(1)"}),
        nbformat.v4.new_output("stream", name="stdout", text="<b>printed</b>"),
    ]
    nb.cells = [nbformat.v4.new_markdown_cell("<img src=x onerror=alert(1)>"), cell]
    sanitize_notebook(nb)
    assert nb.cells[0].source.startswith("&lt;img")
    assert nb.cells[1].outputs[0]["data"] == {"text/plain": "1"}
    assert (
        "removed" in nb.cells[1].outputs[1]["text"]
        and nb.cells[1].outputs[2]["text"] == "<b>printed</b>"
    )
