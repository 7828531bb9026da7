"""Safe intake, one small test per behaviour: student ids, file checks, zips, CSV fields, sanitised pages."""

import json
import zipfile

import nbformat
import pytest

from autograder.grade import _cell_text, _extract_capped, _sort_flat_files
from autograder.intake import (
    MAX_NOTEBOOK_BYTES,
    SubmissionError,
    clean_metadata,
    find_notebook,
    folder_digest,
    load_notebook,
    restore_deleted_cells,
    restore_metadata,
)
from autograder.roster import printable, roster, safe_id
from autograder.sanitize import escape_tags, sanitize_notebook
from autograder.submissions import fill, released_notebook, solution_answers

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


def _grade_ids(notebook):
    return [_grade_id(c) for c in notebook.cells]


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _solved():
    release = released_notebook(ASSIGNMENT)
    return release, fill(release, solution_answers(ASSIGNMENT))


def test_cells_that_lost_metadata_and_ids_are_recognised_by_their_place():
    """Colab's worst case: format 4.0 (no cell ids) and no nbgrader metadata; a cell added on top,
    one after an answer cell, and a locked cell edited. Every nbgrader cell gets its own back."""
    release, notebook = _solved()
    expected = [None] + _grade_ids(notebook)
    after_forward = expected.index("ch01_forward") + 1
    expected.insert(after_forward, None)
    notebook.cells.insert(0, nbformat.v4.new_code_cell("!pip install -q backproplab"))
    notebook.cells.insert(after_forward, nbformat.v4.new_code_cell("print(forward)"))
    notebook.cells[expected.index("ch01_symbols")].source += "\nprint(x1)"
    for cell in notebook.cells:
        cell.pop("id", None)
        cell.metadata = {}
    notes = restore_metadata(notebook, release)
    assert _grade_ids(notebook) == expected
    assert notes == [f"restored nbgrader metadata of {len([g for g in expected if g])} cells"]


def test_a_cell_written_where_a_test_cell_was_deleted_stays_the_students():
    """Colab and VS Code let a student delete a test cell; their own cell in its place keeps its
    code (nbgrader adds the test back), while an edited copy of the test is recognised."""
    release, notebook = _solved()
    visible = _grade_ids(notebook).index("ch01_forward_visible")
    notebook.cells[visible] = nbformat.v4.new_code_cell("def helper(x):\n    return 2 * x\n")
    edited = _grade_ids(notebook).index("ch01_cost_visible")
    notebook.cells[edited].source += "\nprint('checked')\n"
    notebook.cells[edited].pop("id")
    notebook.cells[edited].metadata = {}
    restore_metadata(notebook, release)
    ids = _grade_ids(notebook)
    assert ids[visible] is None and "ch01_forward_visible" not in ids
    assert ids[edited] == "ch01_cost_visible"


def test_an_id_kept_in_the_cell_metadata_is_recognised_and_no_grade_id_is_given_twice():
    release, notebook = _solved()
    forward = _grade_ids(notebook).index("ch01_forward")
    notebook.cells[forward].pop("id")
    notebook.cells[forward].metadata = {"id": "ch01_forward"}  # where Colab keeps a cell's id
    copy = nbformat.from_dict(notebook.cells[forward + 1])  # the visible test, pasted again
    copy.metadata, copy["id"] = {}, "ch01_forward_visible"
    notebook.cells.insert(forward + 2, copy)
    restore_metadata(notebook, release)
    ids = _grade_ids(notebook)
    assert ids[forward] == "ch01_forward" and ids[forward + 2] is None
    assert ids.count("ch01_forward_visible") == 1


def test_a_format_4_0_notebook_is_graded_as_a_valid_4_5_one(tmp_path):
    """Colab writes format 4.0, which has no cell ids; once the grader gives each cell one, the
    notebook is 4.5, or it would fail validation against its own schema."""
    _, notebook = _solved()
    raw = nbformat.writes(notebook)
    old = nbformat.reads(raw, as_version=4)
    old.nbformat_minor = 0
    for cell in old.cells:
        cell.pop("id")
    (tmp_path / NOTEBOOK).write_text(json.dumps(old))
    loaded, _ = load_notebook(tmp_path / NOTEBOOK)
    cleaned = clean_metadata(loaded, "python3")
    assert cleaned.nbformat_minor == 5
    nbformat.validate(nbformat.reads(nbformat.writes(cleaned), as_version=nbformat.NO_CONVERT))


def test_tests_deleted_with_their_answer_come_back_after_the_cell_before_them():
    """An answer cell deleted with its two test cells: the test cells come back where the release
    has them (after the nbgrader cell before them that is still there), the answer does not."""
    release = released_notebook(ASSIGNMENT)
    gone = ("ch01_forward", "ch01_forward_visible", "ch01_forward_hidden")
    submitted = fill(release, solution_answers(ASSIGNMENT))
    ids = _grade_ids(release)
    before = [i for i in ids[: ids.index("ch01_forward")] if i is not None][-1]
    submitted.cells = [c for c in submitted.cells if _grade_id(c) not in gone]
    notes = restore_deleted_cells(submitted, release)
    ids = _grade_ids(submitted)
    assert "ch01_forward" not in ids
    place = ids.index("ch01_forward_visible")
    assert ids[place - 1 : place + 2] == [before, "ch01_forward_visible", "ch01_forward_hidden"]
    assert notes == [
        "put back 2 deleted cells as released: ch01_forward_visible, ch01_forward_hidden"
    ]
    assert restore_deleted_cells(submitted, release) == []
