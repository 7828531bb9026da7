"""Staged releases: the release for chapter NN holds no answer of chapter NN or later, and works.

Every stage is built as ``python -m autograder bundle --through NN`` builds it (from the
committed ``course/`` and package). Its files are read line by line (a notebook by its
cells' lines): no line of an answer (the code between ``### BEGIN SOLUTION`` and ``### END
SOLUTION``) of chapter NN or a later chapter may appear. Not counted, because they give
nothing away: trivial lines (punctuation, comments, 12 characters or fewer), lines a released
notebook of chapter NN or earlier shows anyway (its text, provided code or tests), lines of
earlier chapters' answers (a student of chapter NN has done those), and the few idioms in
:data:`IDIOMS` that the course's own code writes too. Then chapter NN's imports from
``backproplab`` are run against the unzipped stage alone.
"""

import ast
import os
import re
import subprocess
import sys
import zipfile

import nbformat
import pytest

from autograder import bundle
from autograder.build import read_source
from autograder.bundle import TOP, write_bundle
from autograder.course import COURSE, assignments, notebook_stem
from autograder.provided import module_chapters

ANSWER = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
# Lines of later answers that the course's own code (widgets, the training loop, the backbone's
# pretraining) also writes: idioms, not answers.
IDIOMS = {
    "raise ValueError(",
    "for module, mode in modes:",
    "module.training = mode",
    "model.train()",
    "loss.backward()",
    "for X, y in loader:",
    "loss = loss_fn(model(X), y)",
    "for i in range(0, len(X), batch_size)",
    "with torch.no_grad():",
    "return next_w, config",
}
# Known and reported, not yet decided: backproplab.gradcheck.numerical_gradient, given since
# chapter 01, is the general form of chapter 02's numerical_grad exercise (centred differences,
# perturbing x in place). These are the lines they share.
KNOWN_OVERLAPS = {"x[i] = old + h", "x[i] = old - h"}
TEXT = (".py", ".ipynb", ".md", ".json", ".yml", ".toml", ".txt", ".cfg")


def answer_lines(assignment):
    lines = set()
    for cell in read_source(assignment).cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            for block in ANSWER.findall(cell.source):
                lines |= {line.strip() for line in block.splitlines()}
    return {line for line in lines if not trivial(line)}


def trivial(line):
    return len(line) <= 12 or line.startswith("#") or not re.search(r"[A-Za-z0-9]", line)


def lines_of(name, data):
    """The stripped lines of a bundle file: of its cells for a notebook."""
    text = data.decode("utf-8", "replace")
    if name.endswith(".ipynb"):
        return {
            line.strip() for c in nbformat.reads(text, 4).cells for line in c.source.splitlines()
        }
    return {line.strip() for line in text.splitlines()}


def released_lines(assignment):
    path = COURSE / assignment / f"{notebook_stem(assignment)}.ipynb"
    return lines_of(path.name, path.read_bytes())


@pytest.fixture(scope="module")
def stages(tmp_path_factory):
    """``{chapter: zip path}`` of every stage, and ``None``: the whole course."""
    folder = tmp_path_factory.mktemp("stages")
    built = {None: write_bundle(folder / "all.zip", regenerate=False)}
    for assignment in assignments():
        path = folder / f"{assignment[:2]}.zip"
        built[assignment] = write_bundle(path, regenerate=False, through=assignment[:2])
    return built


@pytest.fixture(scope="module")
def answers():
    return {a: answer_lines(a) for a in assignments()}


def leaks(zip_path, stage, answers):
    """``"file: line (an answer line of NN)"`` for every answer line of ``stage`` or later in the zip."""
    with zipfile.ZipFile(zip_path) as z:
        files = {n: lines_of(n, z.read(n)) for n in z.namelist() if n.endswith(TEXT)}
    public = IDIOMS | KNOWN_OVERLAPS
    for assignment in assignments():
        if assignment <= stage:
            public |= released_lines(assignment)
        if assignment < stage:
            public |= answers[assignment]
    return [
        f"{name}: {line!r} (an answer line of {assignment})"
        for assignment in assignments()
        if assignment >= stage
        for name, lines in files.items()
        for line in sorted((answers[assignment] - public) & lines)
    ]


@pytest.mark.parametrize("stage", assignments())
def test_a_stage_holds_no_answer_of_its_chapter_or_later(stages, answers, stage):
    found = leaks(stages[stage], stage, answers)
    assert not found, "\n".join(found)


def test_the_check_finds_a_module_shipped_too_early(stages, answers, monkeypatch):
    """Negative control: chapter 07's release with every provided module in it leaks chapter 07."""
    monkeypatch.setattr(bundle, "left_out", lambda through=None: set())
    whole = bundle.write_bundle(stages[None].with_name("06-all.zip"), regenerate=False)
    found = leaks(whole, "07_pytorch", answers)
    assert any("backproplab/torch_training.py" in f and "07_pytorch" in f for f in found)
    assert not any("torch_training" not in f for f in found), found


@pytest.mark.parametrize("stage", assignments())
def test_a_stage_holds_its_notebooks_and_earlier_chapters_modules(stages, stage):
    names = set(zipfile.ZipFile(stages[stage]).namelist())
    for assignment in assignments():
        notebook = f"{TOP}/course/{assignment}/{notebook_stem(assignment)}.ipynb"
        assert (notebook in names) == (assignment <= stage), notebook
    for module, chapter in module_chapters().items():
        assert (f"{TOP}/backproplab/{module}.py" in names) == (chapter < stage), module
    readme = zipfile.ZipFile(stages[stage]).read(f"{TOP}/README.md").decode()
    assert f"chapters 01 to {stage[:2]}" in readme or stage == "01_gradient_descent"
    for module, chapter in module_chapters().items():
        assert (f"`backproplab/{module}.py`: chapter {chapter[:2]}" in readme) == (chapter < stage)


def test_the_whole_course_says_it_holds_answers(stages):
    with zipfile.ZipFile(stages[None]) as z:
        names, readme = set(z.namelist()), z.read(f"{TOP}/README.md").decode()
    assert all(f"{TOP}/backproplab/{m}.py" in names for m in module_chapters())
    assert "for self-study. Its `backproplab` package holds the\nanswers of earlier" in readme
    for module, chapter in module_chapters().items():
        assert f"`backproplab/{module}.py`: chapter {chapter[:2]}'s answers" in readme


def backproplab_imports(assignment):
    """Every ``import``/``from`` of ``backproplab`` in the chapter's code cells, as source lines."""
    statements = []
    for cell in read_source(assignment).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            module = getattr(node, "module", None) if isinstance(node, ast.ImportFrom) else None
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if (module or "").startswith("backproplab") or any(
                n.startswith("backproplab") for n in names
            ):
                line = ast.unparse(node)
                if line not in statements:
                    statements.append(line)
    return statements


# An editable install of the package (pip install -e .) answers imports of its submodules
# from the repository: drop its finder, so that only the unzipped stage can answer.
ISOLATE = """import sys
sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in getattr(f, "__module__", "")]
"""
ALL_FROM_STAGE = """import pathlib
here = pathlib.Path.cwd().resolve()
outside = [n for n, m in list(sys.modules.items()) if n.split(".")[0] == "backproplab"
           and not pathlib.Path(m.__file__).resolve().is_relative_to(here)]
assert not outside, outside
"""


def run_imports(zip_path, assignment, folder):
    """Run ``assignment``'s imports from ``backproplab`` against the unzipped bundle alone."""
    zipfile.ZipFile(zip_path).extractall(folder)
    root = folder / TOP
    imports = backproplab_imports(assignment)
    assert imports, f"{assignment} imports nothing from backproplab?"
    script = "\n".join([ISOLATE, *imports, ALL_FROM_STAGE])
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    return subprocess.run(
        [sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True
    )


@pytest.mark.parametrize("stage", assignments())
def test_a_chapters_imports_work_against_its_own_stage(stages, stage, tmp_path):
    result = run_imports(stages[stage], stage, tmp_path)
    assert result.returncode == 0, f"{stage}'s imports against its stage:\n{result.stderr}"


def test_an_earlier_stage_lacks_what_a_later_chapter_imports(stages, tmp_path):
    """Negative control: chapter 05 imports chapter 04's loops, which chapter 04's release lacks."""
    result = run_imports(stages["04_convolution"], "05_im2col_gpu", tmp_path)
    assert result.returncode != 0 and "backproplab.conv_naive" in result.stderr
