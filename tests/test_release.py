"""The student release: course/ is exactly what solutions/ generates, and leaks nothing."""

import ast
import filecmp
import re
import zipfile

import jupytext
import nbformat
import pytest

from autograder.build import read_source, release, source_script
from autograder.bundle import write_bundle
from autograder.course import COURSE, notebook_stem
from autograder.namespace_lint import shadowable_loads
from tests.conftest import CHAPTERS

pytestmark = pytest.mark.xdist_group("release")

HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS(.*?)### END HIDDEN TESTS", re.DOTALL)
SOLUTION = re.compile(r"### BEGIN SOLUTION(.*?)### END SOLUTION", re.DOTALL)


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """course/ regenerated from solutions/ into a temporary folder."""
    out = tmp_path_factory.mktemp("course")
    release(course_dir=out)
    return out


def _files(folder):
    return sorted(p.relative_to(folder) for p in folder.rglob("*") if p.is_file())


def test_course_is_what_solutions_generate(regenerated):
    """Every file under course/ equals its regenerated copy, and none is missing or extra."""
    released = [p for p in _files(COURSE) if p.parts[0] in CHAPTERS]
    assert released == _files(regenerated), "run `python -m autograder build` and commit course/"
    different = [
        str(p) for p in released if not filecmp.cmp(COURSE / p, regenerated / p, shallow=False)
    ]
    assert different == [], f"out of date (run `python -m autograder build`): {different}"


def _secret_lines(assignment, pattern):
    """Distinctive lines inside solution or hidden-test regions of a chapter's source.

    A line the chapter also has outside every such region (``with torch.no_grad():``) is no secret.
    """
    lines, public = set(), set()
    for cell in read_source(assignment).cells:
        for region in pattern.findall(cell.source):
            lines |= {ln.strip() for ln in region.splitlines() if len(ln.strip()) > 12}
        outside = SOLUTION.sub("", HIDDEN.sub("", cell.source))
        public |= {ln.strip() for ln in outside.splitlines()}
    return lines - public


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_release_holds_no_solution_and_no_hidden_test(assignment):
    """No solution code, hidden test, or marker of either reaches the student notebook."""
    text = (COURSE / assignment / f"{notebook_stem(assignment)}.ipynb").read_text()
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    student_lines = {
        ln.strip() for c in nbformat.reads(text, 4).cells for ln in c.source.splitlines()
    }
    for pattern in (SOLUTION, HIDDEN):
        leaked = _secret_lines(assignment, pattern) & student_lines
        assert not leaked, f"these lines leak into course/: {sorted(leaked)[:5]}"


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_release_has_no_outputs(assignment):
    """Student notebooks ship without outputs or execution counts."""
    nb = nbformat.read(COURSE / assignment / f"{notebook_stem(assignment)}.ipynb", 4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_jupytext_round_trip_keeps_nbgrader_metadata(assignment, tmp_path):
    """.py -> .ipynb -> .py -> .ipynb keeps every cell's source and nbgrader metadata."""
    first = jupytext.read(source_script(assignment), fmt="py:percent")
    again = jupytext.reads(jupytext.writes(first, fmt="py:percent"), fmt="py:percent")
    assert [c.source for c in again.cells] == [c.source for c in first.cells]
    meta = [c.metadata.get("nbgrader") for c in first.cells]
    assert [c.metadata.get("nbgrader") for c in again.cells] == meta
    assert sum(m is not None for m in meta) >= 10, "the chapter should have nbgrader cells"


def test_student_bundle_holds_course_and_helpers_only(tmp_path):
    """The student zip has course/, backproplab/ and set-up files, nothing of the instructor's."""
    names = zipfile.ZipFile(write_bundle(tmp_path / "student.zip", regenerate=False)).namelist()
    tops = {n.split("/")[1] for n in names}
    assert {
        "course",
        "backproplab",
        "data",
        "environment.yml",
        "pyproject.toml",
        "README.md",
    } <= tops
    assert "backproplab-student/data/registry.json" in names, (
        "fetch needs the registry beside the package"
    )
    assert not [n for n in names if "/data/cache/" in n], (
        "downloaded datasets stay out of the bundle"
    )
    assert not tops & {"solutions", "autograder", "tests", "benchmarks", ".ci"}
    assert not [n for n in names if n.endswith(".py") and "/course/" in n]


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_source_has_no_control_characters(assignment):
    """No tab or other control character in a chapter's source: a Python escape such as "\\t" in "\\times" leaves one."""
    text = source_script(assignment).read_text(encoding="utf-8")
    found = sorted({repr(ch) for ch in text if ord(ch) < 32 and ch != "\n"})
    assert not found, (
        f"{assignment} contains {found}: write LaTeX in raw strings or double the backslash"
    )


def test_build_names_the_chapters_when_given_an_unknown_one(capsys):
    """`python -m autograder build 06` says which chapter names exist instead of failing inside nbgrader."""
    from autograder.__main__ import main

    assert main(["build", "06"]) == 2
    assert "no chapter 06: choose from 01_gradient_descent" in capsys.readouterr().err


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_test_cells_survive_a_students_star_import(assignment):
    """No test cell calls a bare builtin that ``from numpy/math/torch import *`` rebinds; they use ``builtins.``."""
    assert shadowable_loads(assignment) == {}, (
        "write builtins.sum(...), builtins.range(...), ... in these test cells"
    )
    setup = next(
        c
        for c in read_source(assignment).cells
        if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("_setup")
    )
    assert "import builtins" in setup.source.splitlines(), (
        "the locked setup cell must import builtins"
    )


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_test_cells_judge_nothing_the_grader_does_not(assignment):
    """Hidden cells only record; visible cells record through check(), which asserts what the grader compares."""
    for cell in read_source(assignment).cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade") or cell.cell_type != "code":
            continue
        calls = {
            n.func.id
            for n in ast.walk(ast.parse(cell.source))
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
        }
        judges = sorted(c for c in calls if c.startswith("expect_") or c == "assert_allclose")
        asserts = any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(cell.source)))
        if "BEGIN HIDDEN TESTS" in cell.source:
            assert not judges and not asserts and "check" not in calls, (
                f"{meta['grade_id']} judges in the kernel"
            )
        else:
            assert "record" not in calls, (
                f"{meta['grade_id']} records without checking: use check()"
            )
            assert not judges and not asserts, (
                f"{meta['grade_id']} asserts {judges or 'assert'} beside its checks"
            )
