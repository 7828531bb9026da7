"""The student release: course/ is exactly what solutions/ generates, and leaks nothing."""

import ast
import filecmp
import json
import re
import textwrap
import zipfile

import jupytext
import nbformat
import pytest

from autograder.build import read_source, release, source_script
from autograder.bundle import write_bundle
from autograder.course import COURSE, REPO, notebook_stem
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


@pytest.mark.parametrize("assignment", CHAPTERS)
def test_a_notebook_opens_in_jupyterlab_without_unsaved_changes(assignment):
    """It already holds what JupyterLab writes on open, so the tab shows no "unsaved changes" dot.

    JupyterLab replaces the kernelspec and language_info with the running kernel's as soon as
    the kernel starts, and marks the notebook changed unless they are equal; it upgrades an
    older nbformat; and it saves what nbformat writes. Only language_info's patch version
    depends on the student's Python (autograder.build.COURSE_PYTHON).
    """
    from ipykernel.ipkernel import IPythonKernel
    from jupyter_client.kernelspec import KernelSpecManager

    from autograder.build import COURSE_PYTHON

    text = (COURSE / assignment / f"{notebook_stem(assignment)}.ipynb").read_text(encoding="utf-8")
    nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert (nb.nbformat, nb.nbformat_minor) == (4, nbformat.current_nbformat_minor)
    spec = KernelSpecManager().get_kernel_spec("python3")
    assert nb.metadata.kernelspec == {
        "name": "python3",
        "display_name": spec.display_name,
        "language": spec.language,
    }
    kernel_says = {**IPythonKernel.language_info, "version": COURSE_PYTHON}
    assert nb.metadata.language_info == kernel_says
    pinned = re.search(r"python=(\d+\.\d+)", (REPO / "environment.yml").read_text()).group(1)
    assert COURSE_PYTHON.startswith(pinned + "."), "the course's Python is environment.yml's"
    changes, _ = nbformat.validator.normalize(json.loads(text))
    assert changes == 0, "nbformat would change the notebook when reading it"
    assert text == nbformat.writes(nb, version=nbformat.NO_CONVERT) + "\n", (
        "saving the notebook unchanged would rewrite the file"
    )


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


def test_a_new_gradebook_carries_nbgraders_newest_migration_read_without_a_process(
    tmp_path, monkeypatch
):
    """A release's new gradebook is stamped with the migration `alembic heads` names, and no
    process is started to read it."""
    import sqlite3
    import subprocess
    import sys
    from pathlib import Path

    from nbgrader.dbutil import ALEMBIC_DIR

    ini = tmp_path / "alembic.ini"  # the command nbgrader runs, on its migrations
    ini.write_text(f"[alembic]\nscript_location = {ALEMBIC_DIR}\n")
    alembic = Path(sys.executable).parent / "alembic"
    heads = subprocess.run(
        [alembic, "-c", ini, "heads"], capture_output=True, text=True, check=True
    ).stdout
    asked = heads.split()[0]

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[0]}")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    release(["01_gradient_descent"], course_dir=tmp_path / "release", workdir=tmp_path)
    with sqlite3.connect(tmp_path / "gradebook.db") as db:
        stamped = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert stamped == [(asked,)] and len(asked) == 12


def test_an_edited_script_is_read_again(tmp_path):
    """The parse of a chapter script is reused only while the file is unchanged, and callers
    get copies of their own."""
    from autograder.build import read_script

    script = tmp_path / "chapter.py"
    script.write_text("# %%\nx = 1\n")
    first = read_script(script)
    first.cells[0].source = "changed by a caller"
    assert read_script(script).cells[0].source == "x = 1"
    script.write_text("# %%\nx = 22\n")
    assert read_script(script).cells[0].source == "x = 22"


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


# --- the student README, followed as written ---------------------------------------------------------


@pytest.fixture(scope="module")
def student_bundle(tmp_path_factory):
    """The student zip, unzipped: ``(folder holding the zip's top folder, the README's text)``."""
    folder = tmp_path_factory.mktemp("student")
    zip_path = write_bundle(folder / "backproplab-student.zip", regenerate=False)
    with zipfile.ZipFile(zip_path) as z:
        z.extractall(folder / "unzipped")
    top = folder / "unzipped"
    return top, (top / "backproplab-student" / "README.md").read_text(encoding="utf-8")


def _commands(readme):
    """The lines of the README's code blocks."""
    blocks = re.findall(r"```[a-z]*\n(.*?)```", readme, re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_student_readme_starts_where_the_zip_unpacks_and_says_nothing_of_the_instructor(
    student_bundle,
):
    top, readme = student_bundle
    assert [p.name for p in top.iterdir()] == ["backproplab-student"]
    commands = _commands(readme)
    assert commands[0] == "cd backproplab-student", "the first command enters the unzipped folder"
    head = readme[: readme.index("## 2.")]
    for instructor_word in ("solutions/", "autograder", "generate_assignment", "formgrader"):
        assert instructor_word not in readme, f"the student README mentions {instructor_word}"
    assert "Validate" not in head


def test_student_readme_gives_venv_and_conda_commands_for_each_system(student_bundle):
    top, readme = student_bundle
    root = top / "backproplab-student"
    commands = _commands(readme)
    assert (
        "python3 -m venv .venv" in commands and ". .venv/bin/activate" in commands
    )  # Linux, macOS
    assert "py -m venv .venv" in commands and r".venv\Scripts\Activate.ps1" in commands  # Windows
    assert r".venv\Scripts\activate.bat" in readme  # Windows, Command Prompt
    assert "conda env create -f environment.yml" in commands
    name = re.search(r"^name: (\S+)$", (root / "environment.yml").read_text(), re.M).group(1)
    assert f"conda activate {name}" in commands
    assert "jupyter lab course" in commands and (root / "course" / "01_gradient_descent").is_dir()
    # every extra the README installs exists in the bundle's pyproject.toml
    pyproject = (root / "pyproject.toml").read_text()
    for extra in set(re.findall(r'-e "\.\[(\w+)\]"', readme)):
        assert re.search(rf"^{extra} = \[", pyproject, re.M), (
            f"no extra {extra!r} in pyproject.toml"
        )


def test_student_readme_installs_torch_from_the_cpu_index_as_the_repository_readme_says(
    student_bundle,
):
    _, readme = student_bundle
    cpu_index = "--extra-index-url https://download.pytorch.org/whl/cpu"
    assert cpu_index in (REPO / "README.md").read_text()
    torch_installs = [c for c in _commands(readme) if '".[torch]"' in c]
    assert torch_installs and all(c.endswith(cpu_index) for c in torch_installs)


def test_student_readme_says_what_data_ships_and_how_to_get_fashion_mnist(student_bundle):
    from backproplab.datasets import FASHION_MNIST_INSTALL

    top, readme = student_bundle
    assert "sudo apt install dataset-fashion-mnist" in readme
    command = "python -m backproplab.datasets fashion-mnist"
    assert command in _commands(readme) and command in FASHION_MNIST_INSTALL
    assert "Without Fashion-MNIST" in readme and "1,437 training and 360 test images" in readme
    assert (top / "backproplab-student" / "data" / "weights" / "fashion_backbone.pt").is_file()


def test_student_readme_gives_the_colab_cell_the_grading_tests_submit(student_bundle):
    """The README's first cell for Colab is the one the Colab-saved notebooks of the adversarial
    corpus carry, graded there to the points of the JupyterLab notebook (tests/test_adversarial.py)."""
    from tests.adversarial.editors import COLAB_INSTALL_CELL

    _, readme = student_bundle
    blocks = [textwrap.dedent(b) for b in re.findall(r"```python\n(.*?)```", readme, re.DOTALL)]
    assert COLAB_INSTALL_CELL in blocks


def test_conda_environment_installs_what_pyproject_requires():
    """environment.yml is tested by what it must agree with: the same packages, the same ranges."""
    env = (REPO / "environment.yml").read_text()
    listed = env[env.index("\ndependencies:") :]
    conda = dict(re.findall(r"^  - ([a-z][\w-]*)(\S*)$", listed, re.M))
    conda.pop("python"), conda.pop("pip")
    deps = re.search(
        r"^dependencies = \[(.*?)^\]", (REPO / "pyproject.toml").read_text(), re.M | re.S
    )
    required = dict(re.findall(r'"([a-z][\w-]*)([^"]*)"', deps.group(1)))
    assert conda == required
    assert re.search(r"^      - -e \.$", env, re.M), (
        "the conda environment installs backproplab itself"
    )


def test_the_bundle_builds_and_runs_from_the_unzipped_folder(student_bundle, tmp_path):
    """`pip install -e .` in the unzipped folder (offline here: no dependencies, no build isolation),
    and the package finds the registry and the weights beside it, as an editable install does."""
    import subprocess
    import sys

    top, _ = student_bundle
    root = top / "backproplab-student"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index"]
        + ["--quiet", "--wheel-dir", str(tmp_path), str(root)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = zipfile.ZipFile(next(tmp_path.glob("backproplab-*.whl")))
    assert "backproplab/datasets.py" in wheel.namelist()
    metadata = wheel.read(next(n for n in wheel.namelist() if n.endswith("METADATA"))).decode()
    assert "Provides-Extra: torch" in metadata
    code = (
        "import backproplab, backproplab.datasets as d; from pathlib import Path; "
        "print(Path(backproplab.__file__).parent.parent == Path.cwd(), d.load_registry() != {})"
    )
    ran = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert ran.stdout.split() == ["True", "True"], ran.stderr[-2000:]
