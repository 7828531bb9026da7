"""The student's and the instructor's experience, in a real browser.

JupyterLab with nbgrader's extensions serves the student zip, unzipped, to kernels
that import its ``backproplab`` and are offline without Fashion-MNIST (a student's
laptop); Debian's chromium, driven by Playwright, runs every chapter (solved, and as
released), answers one exercise wrongly and then rightly, implements what each
release widget asks for and uses the widgets, presses nbgrader's Validate, and opens
the formgrader and a feedback page on the class that the demo grades. Skipped, with
the reason, where chromium or Playwright is missing. The tests share one server and
one browser on one xdist worker; screenshots of each step go to artifacts/browser/,
and ``make screenshots`` refreshes docs/screenshots/ (the README's and the gallery's).
"""

import ast
import json
import re
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from types import SimpleNamespace

import nbformat
import pytest

from autograder.budgets import DEFAULT_SECONDS, budget_seconds, hang_guard_seconds
from autograder.build import read_source
from autograder.bundle import TOP as BUNDLE_TOP
from autograder.bundle import write_bundle
from autograder.course import COURSE, REPO, notebook_stem
from autograder.demo import grade_sample_class
from autograder.submissions import fill, released_notebook, solution_answers
from tests.browser import (
    ARTIFACTS,
    QUICK_KERNEL,
    README_MAX_BYTES,
    README_SCREENSHOTS,
    SMALL_VIEWPORT,
    VIEWPORT,
    MAIN_TAB,
    JupyterLab,
    cell_with_grade_id,
    chromium_context,
    close_tab,
    current_tab,
    labelled,
    menu,
    missing_browser,
    open_document,
    open_lab,
    open_notebook,
    run_all,
    save,
    shoot,
    type_into,
    validate,
    widget_panels,
)

pytestmark = pytest.mark.xdist_group("browser")

CHAPTERS = sorted(p.name for p in COURSE.iterdir() if p.is_dir() and p.name[:2].isdigit())
DEMO_CHAPTER = "01_gradient_descent"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
NBGRADER_CONFIG = """from autograder.course import formgrader_config

c = get_config()  # noqa: F821
c.merge(formgrader_config({workdir!r}, root={root!r}, release_dir={release!r}))
"""


def notebook_path(kind, chapter):
    """Where the server's folder keeps a copy: ``kind`` is course, solved or release."""
    return f"{kind}/{chapter}/{notebook_stem(chapter)}.ipynb"


def runnable(notebook, quick=False):
    """A copy that one Run All runs to the end: every code cell tagged ``raises-exception``.

    JupyterLab stops a Run All at the first error unless the cell carries that
    tag, so this shows every error a student would meet, not only the first.
    ``quick`` runs it on a kernel with ``NBGRADER_EXECUTION`` set, where a
    chapter's long experiments shrink to their graded form.
    """
    notebook = nbformat.from_dict(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), "raises-exception"]
    if quick:
        notebook.metadata["kernelspec"] = {
            "name": QUICK_KERNEL,
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
        }
    return notebook


# An honest slip in chapter 01's first function, and its correction (a student's own words).
SLIP = {"ch01_forward": "def forward(X, W, b):\n    return X @ W - b\n"}
CORRECTED = "def forward(X, W, b):\n    z = X @ W + b  # eq. (1)\n    return z\n"


def grade_demo_class(folder):
    """Grade the demo's sample class as `make demo` does; ``{student: StudentResult}``."""
    results = grade_sample_class(DEMO_CHAPTER, folder / "grading", folder / "demo_class")
    return {r.student: r for r in results}


@pytest.fixture(scope="module")
def lab_folder(tmp_path_factory):
    """The server's folder: the release, solved and runnable copies, and the demo class, graded in the background."""
    reason = missing_browser()
    if reason:
        pytest.skip(reason)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    root = tmp_path_factory.mktemp("lab")
    student = unzipped_bundle(root)
    shutil.copytree(student / "course", root / "course")
    for chapter in CHAPTERS:
        release = released_notebook(chapter)
        solved = fill(release, solution_answers(chapter))
        quick = budget_seconds(chapter) > DEFAULT_SECONDS
        for kind, notebook in (("solved", runnable(solved, quick)), ("release", runnable(release))):
            (root / notebook_path(kind, chapter)).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(notebook, root / notebook_path(kind, chapter))
    wrong = fill(released_notebook(DEMO_CHAPTER), {**solution_answers(DEMO_CHAPTER), **SLIP})
    (root / notebook_path("wrong", DEMO_CHAPTER)).parent.mkdir(parents=True)
    nbformat.write(runnable(wrong), root / notebook_path("wrong", DEMO_CHAPTER))
    config = NBGRADER_CONFIG.format(
        workdir=str(root / "grading"), root=str(root), release=str(root / "course")
    )
    (root / "nbgrader_config.py").write_text(config)
    with ThreadPoolExecutor(1) as pool:
        yield SimpleNamespace(root=root, student=student, demo=pool.submit(grade_demo_class, root))


def unzipped_bundle(root):
    """The student zip, written and unzipped under ``root``; its top folder."""
    zip_path = write_bundle(root / "backproplab-student.zip", regenerate=False)
    with zipfile.ZipFile(zip_path) as bundle:
        bundle.extractall(root / "unzipped")
    return root / "unzipped" / BUNDLE_TOP


def student_env(student, root):
    """What a student's machine has: the zip's ``backproplab`` package, no Fashion-MNIST (neither
    Debian's package nor a download in the cache) and no network."""
    return {
        "PYTHONPATH": str(student),
        "BACKPROPLAB_OFFLINE": "1",
        "BACKPROPLAB_DEBIAN_DATASETS": str(root / "no-debian-datasets"),
        "BACKPROPLAB_DATA": str(root / "empty-cache"),
    }


@pytest.fixture(scope="module")
def lab(lab_folder, tmp_path_factory):
    """JupyterLab on 127.0.0.1 serving the folder, with a home of its own, as a student has it
    offline from the zip (:func:`student_env`)."""
    env = student_env(lab_folder.student, lab_folder.root)
    with JupyterLab(lab_folder.root, tmp_path_factory.mktemp("lab-home"), env) as server:
        yield server


@pytest.fixture(scope="module")
def browser(lab):
    """A browser context of Debian's chromium, driven by Playwright; ``new_page()`` opens a tab."""
    with chromium_context() as context:
        yield context


@pytest.fixture(scope="module")
def lab_page(browser, lab):
    """One browser tab with JupyterLab, kept open like a student's: each chapter's notebooks open in it."""
    page = open_lab(browser, lab, "chapters")
    yield page
    page.close()


@pytest.fixture(scope="module")
def tidy_page(browser, lab):
    """JupyterLab in another browser tab, for the tests that come after the chapters (whose tabs stay open)."""
    page = open_lab(browser, lab, "validate-and-grade")
    yield page
    page.close()


# `make test` opens the chapters whose released widgets ask the student for a function; `make sweep`
# (which CI also runs) opens the others, whose widgets wait for the exercises' results.
ASKING_FOR_A_FUNCTION = ("01_gradient_descent", "03_training", "04_convolution")


@pytest.fixture(
    scope="module",
    params=[
        c if c in ASKING_FOR_A_FUNCTION else pytest.param(c, marks=pytest.mark.sweep)
        for c in CHAPTERS
    ],
)
def chapter(request):
    """Each chapter in turn: pytest runs all of one chapter's tests before the next chapter's."""
    return request.param


@contextmanager
def running(page, lab, root, kind, chapter):
    """``kind``'s copy of ``chapter`` opened, Run All, saved: ``.page``, ``.notebook`` (its panel) and
    ``.saved`` (the notebook file). Afterwards its tab is closed and its kernel shut down."""
    path = notebook_path(kind, chapter)
    notebook = open_notebook(page, lab, path)
    try:
        code_cells = sum(
            c.cell_type == "code" for c in nbformat.read(root / path, as_version=4).cells
        )
        run_all(notebook, code_cells, timeout_s=hang_guard_seconds(chapter))
        save(page)
        shoot(page, f"{chapter}-{kind}-run")
        yield SimpleNamespace(
            page=page, notebook=notebook, saved=nbformat.read(root / path, as_version=4)
        )
    finally:
        closed(page, notebook, lab, path)


def closed(page, document, lab, path):
    """Leave JupyterLab tidy for the next test: no dialog, the document's tab closed, its kernel shut down."""
    if page.locator(".jp-Dialog").count():
        page.keyboard.press("Escape")
    close_tab(document)
    lab.shut_down_kernels(path)


@pytest.fixture(scope="module")
def solved(lab_page, lab, lab_folder, chapter):
    """The chapter with the solution filled in, after Run All."""
    with running(lab_page, lab, lab_folder.root, "solved", chapter) as run:
        yield run


@pytest.fixture(scope="module")
def release(lab_page, lab, lab_folder, chapter):
    """The untouched release of the chapter, after Run All."""
    with running(lab_page, lab, lab_folder.root, "release", chapter) as run:
        yield run


@pytest.fixture(scope="module")
def demo_results(lab_folder):
    """The demo class's results, once its grading (started with the server) is done."""
    return lab_folder.demo.result()


def errors_and_stderr(notebook):
    """``"cell id: what"`` for every error output and stderr stream of the notebook."""
    found = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"{cell.id}: {output.ename}: {output.evalue}"[:300])
            elif output.get("name") == "stderr":
                found.append(f"{cell.id}: stderr: {output.text}"[:300])
    return found


# --- the student opens a notebook ------------------------------------------------


def test_the_students_python_takes_backproplab_from_the_zip_and_has_no_fashion_mnist(lab_folder):
    """The server's kernels run as a student's machine would: the package of the unzipped
    bundle, and no Fashion-MNIST to load (chapters 05, 07 and 08 fall back to the digits)."""
    import os
    import subprocess
    import sys

    code = (
        "import backproplab, backproplab.datasets as d; print(backproplab.__file__)\n"
        "try:\n    d.load_fashion_mnist('test', progress=False); print('loaded')\n"
        "except (OSError, RuntimeError, ValueError) as e:\n    print('missing')"
    )
    env = {**os.environ, **student_env(lab_folder.student, lab_folder.root)}
    ran = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        cwd=lab_folder.root / "course",  # where a kernel starts: not beside the repository
        capture_output=True,
        text=True,
    )
    where, fashion_mnist = ran.stdout.split()
    assert where.startswith(str(lab_folder.student)), ran.stderr[-2000:]
    assert fashion_mnist == "missing"


def test_a_released_notebook_opens_without_unsaved_changes(lab_page, lab, chapter):
    """Opened, its kernel started, the student's notebook shows no "unsaved changes" dot: it
    already holds the kernelspec and language_info JupyterLab writes (autograder.build)."""
    import platform

    from playwright.sync_api import expect

    from autograder.build import COURSE_PYTHON

    if platform.python_version() != COURSE_PYTHON:
        pytest.skip(
            f"the kernel's Python is {platform.python_version()}, not the course's {COURSE_PYTHON}"
        )
    path = f"course/{chapter}/{notebook_stem(chapter)}.ipynb"
    notebook = open_notebook(lab_page, lab, path)
    try:
        lab_page.wait_for_timeout(3000)  # the kernel's language_info arrives just after "Idle"
        expect(lab_page.locator(MAIN_TAB + ".lm-mod-current.jp-mod-dirty")).to_have_count(0)
        shoot(lab_page, f"{chapter}-first-screen", readme=True)
    finally:
        closed(lab_page, notebook, lab, path)


# --- the student, the solution filled in ---------------------------------------


def test_solved_notebook_runs_without_errors(solved):
    """With the solution filled in, Run All in JupyterLab gives no error and nothing on stderr."""
    assert errors_and_stderr(solved.saved) == []


def cell_seconds(notebook):
    """``{cell id: seconds}`` from the start and end times JupyterLab records in each cell."""
    from datetime import datetime

    seconds = {}
    for cell in notebook.cells:
        times = cell.metadata.get("execution", {})
        if "iopub.execute_input" in times and "shell.execute_reply" in times:
            start, end = (
                datetime.fromisoformat(times[k].replace("Z", "+00:00"))
                for k in ("iopub.execute_input", "shell.execute_reply")
            )
            seconds[cell.id] = (end - start).total_seconds()
    return seconds


def test_solved_notebook_cell_times_are_recorded_in_the_browser(solved, chapter):
    """JupyterLab records each cell's time (kept in artifacts/); together they stay under the hang guard, not the budget."""
    seconds = cell_seconds(solved.saved)
    slowest = sorted(seconds.items(), key=lambda kv: -kv[1])[:5]
    timings = ARTIFACTS / "cell_seconds.json"
    record = json.loads(timings.read_text()) if timings.exists() else {}
    record[chapter] = {"total": round(sum(seconds.values()), 2), "slowest": dict(slowest)}
    timings.write_text(json.dumps(record, indent=1))
    assert seconds, "JupyterLab recorded no cell times (the recordTiming setting)"
    assert sum(seconds.values()) <= hang_guard_seconds(chapter), f"slowest cells: {slowest}"


def test_every_figure_has_alt_text(solved):
    """Each image in the solved notebook, plot or widget, has a description a screen reader can read."""
    images = solved.notebook.locator(".jp-OutputArea-output img")
    alts = [images.nth(i).get_attribute("alt") for i in range(images.count())]
    assert alts, "no figure found in the outputs"
    missing = [i for i, alt in enumerate(alts) if not alt or alt.startswith("<Figure size")]
    assert missing == [], (
        f"images {missing} of {len(alts)} have no alt text: show a figure with "
        "backproplab.plotting.show_figure(fig, alt), not plt.show()"
    )


# --- the widgets ----------------------------------------------------------------


def slide(description, key="ArrowRight"):
    """Move the slider labelled ``description`` one step (its handle, with the keyboard: ``key``)."""

    def act(panel):
        handle = labelled(panel, "widget-slider", description).locator(".noUi-handle")
        handle.focus()
        handle.press(key)

    return act


def pick(description, option):
    """Pick ``option`` in the menu labelled ``description``."""

    def act(panel):
        labelled(panel, "widget-dropdown", description).locator("select").select_option(option)

    return act


def edit_kernel_cell(row, column, value):
    """Type ``value`` into a cell of the kernel explorer's 3x3 grid and press Enter."""

    def act(panel):
        box = panel.locator(".widget-text input[type=number]").nth(3 * row + column)
        box.fill(value)
        box.press("Enter")

    return act


def nudge_first_control(panel):
    """A chapter without a scripted interaction: move its first slider, or pick its first menu's next option."""
    handles = panel.locator(".noUi-handle")
    if handles.count():
        handles.first.focus()
        handles.first.press("ArrowRight")
        return
    select = panel.locator("select").first
    options = select.locator("option").evaluate_all("options => options.map(o => o.value)")
    current = select.input_value()
    select.select_option(options[(options.index(current) + 1) % len(options)])


INTERACTIONS = {
    "01_gradient_descent": [("learning-rate-slider", slide("learning rate"))],
    "02_backprop": [("hidden-unit-slider", slide("hidden unit"))],
    "03_training": [
        ("optimiser-menu", pick("optimiser", "adam")),
        ("surface-menu", pick("surface", "Rosenbrock")),
    ],
    "04_convolution": [
        ("kernel-cell", edit_kernel_cell(1, 1, "2")),
        ("kernel-menu", pick("kernel", "blur")),
    ],
    # The viewer opens on the trained filters, the last checkpoint: step back one.
    "05_im2col_gpu": [("checkpoint-slider", slide("checkpoint", "ArrowLeft"))],
}
# docs/screenshots/ shows every panel as it opens; the README shows these two under these names.
README_PANELS = {
    ("03_training", "optimiser-menu"): "optimiser-paths",
    ("04_convolution", "kernel-cell"): "kernel-explorer",
}


# True once the panel shows a figure other than ``old`` (an image source), fully decoded.
NEW_FIGURE = """([panel, old]) => {
    const image = panel.querySelector('img');
    return image !== null && image.src !== old && image.complete;
}"""


def test_using_each_widget_control_redraws_its_figure(solved, chapter):
    """Moving a slider, picking an option or editing a kernel cell draws a new figure: new PNG data, other pixels."""
    from playwright.sync_api import expect

    if widget_panels(solved.notebook).count() == 0:
        pytest.skip(f"{chapter} has no widget")
    panels = widget_panels(solved.notebook)
    for index in range(panels.count()):
        panels.nth(index).scroll_into_view_if_needed()
        shoot(panels.nth(index), f"{chapter}-widget-{index + 1}", readme=True)
    panel = panels.first
    for name, act in INTERACTIONS.get(chapter, [("first-control", nudge_first_control)]):
        panel.scroll_into_view_if_needed()
        expect(panel.locator("img")).to_have_count(1)
        source = panel.locator("img").get_attribute("src")
        readme = README_PANELS.get((chapter, name))
        before = shoot(panel, readme or f"{chapter}-{name}-before", readme=bool(readme))
        act(panel)
        solved.page.wait_for_function(NEW_FIGURE, arg=[panel.element_handle(), source])
        after = shoot(panel, f"{chapter}-{name}-after")
        assert after != before, f"{name}: the panel looks exactly as before"
        if name == "kernel-cell":
            expect(labelled(panel, "widget-dropdown", "kernel").locator("select")).to_have_value(
                "custom"
            )


# Problems with a panel's layout, measured in the page: sliders too short to drag, controls or figures
# sticking out of the panel, a panel wider than the notebook.
LAYOUT_PROBLEMS = """panel => {
    const box = panel.getBoundingClientRect(), problems = [];
    const notebook = panel.closest('.jp-Notebook').getBoundingClientRect();
    if (box.right > notebook.right + 1) problems.push(`the panel sticks out of the notebook by ${Math.round(box.right - notebook.right)} px`);
    for (const track of panel.querySelectorAll('.widget-slider .noUi-target')) {
        const width = track.getBoundingClientRect().width;
        const label = track.closest('.widget-slider').querySelector('.widget-label').textContent;
        if (width < 100) problems.push(`the slider "${label}" is ${Math.round(width)} px long`);
    }
    for (const item of panel.querySelectorAll('.widget-inline-hbox, img')) {
        const r = item.getBoundingClientRect();
        if (r.width > 0 && r.right > box.right + 1) problems.push(`"${(item.textContent || item.alt).trim().slice(0, 40)}" sticks out by ${Math.round(r.right - box.right)} px`);
    }
    return problems;
}"""


def test_widget_fits_a_small_screen(solved, chapter):
    """At 1024x768 with the file browser open, sliders keep a track to drag and nothing sticks out of the panel."""
    page, panels = solved.page, widget_panels(solved.notebook)
    if panels.count() == 0:
        pytest.skip(f"{chapter} has no widget")
    cells = solved.notebook.locator(".jp-Notebook").element_handle()
    width = cells.evaluate("n => n.clientWidth")
    page.set_viewport_size(SMALL_VIEWPORT)
    try:
        page.wait_for_function("([cells, width]) => cells.clientWidth < width", arg=[cells, width])
        problems = [
            p for i in range(panels.count()) for p in panels.nth(i).evaluate(LAYOUT_PROBLEMS)
        ]
        panels.first.scroll_into_view_if_needed()
        shoot(page, f"{chapter}-small-screen")
    finally:
        page.set_viewport_size(VIEWPORT)
    assert problems == []


# --- the student, the untouched release ------------------------------------------


def names_bound(source):
    """Names a cell's code binds at its top level (assignments, definitions, imports, loops)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    names = set()
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in statement.names}
        else:
            names |= {
                n.id
                for n in ast.walk(statement)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
    return names


def unexpected_release_errors(notebook, solution):
    """Errors that are not the student's work to do: only NotImplementedError and, after a cell
    failed, a NameError for a name that cell would have defined, are expected."""
    bound = {
        cell.id: names_bound(cell.source) for cell in solution.cells if cell.cell_type == "code"
    }
    undefined, unexpected = set(), []
    for cell in notebook.cells:
        errors = [o for o in cell.get("outputs", []) if o.output_type == "error"]
        for error in errors:
            missing = re.fullmatch(r"name '(\w+)' is not defined", error.evalue)
            if error.ename == "NameError" and missing and missing[1] in undefined:
                continue
            if error.ename != "NotImplementedError":
                unexpected.append(f"{cell.id}: {error.ename}: {error.evalue}"[:300])
        if errors:
            undefined |= bound.get(cell.id, set())
    return unexpected


def test_release_errors_only_where_the_student_has_work_to_do(release, chapter):
    """Run All on the untouched release: errors only come from unanswered exercises, none from the course."""
    outputs = [o for c in release.saved.cells for o in c.get("outputs", [])]
    assert any(o.get("ename") == "NotImplementedError" for o in outputs), (
        "the release asks for no work"
    )
    assert unexpected_release_errors(release.saved, read_source(chapter)) == []


def test_release_widgets_show_a_picture_or_what_to_implement(release, chapter):
    """In the untouched release, each widget shows a figure or says what to implement first, never a traceback."""
    from playwright.sync_api import expect

    panels = widget_panels(release.notebook)
    if panels.count() == 0:
        pytest.skip(f"{chapter}'s widgets need the exercises' results: the release shows none")
    for index in range(panels.count()):
        panel = panels.nth(index)
        if panel.locator("img").count() == 0:
            expect(panel).to_contain_text(re.compile(r"[Ii]mplement .*above first"))
    widget_cells = [
        c
        for c in release.saved.cells
        if any(WIDGET_MIME in o.get("data", {}) for o in c.get("outputs", []))
    ]
    assert len(widget_cells) == panels.count()
    assert errors_and_stderr(nbformat.v4.new_notebook(cells=widget_cells)) == []
    panels.first.scroll_into_view_if_needed()
    shoot(panels.first, f"{chapter}-release-widget")


# --- the student, one answer wrong and then right ----------------------------------


def test_a_wrong_answer_shows_its_message_on_screen_and_the_corrected_one_passes(
    tidy_page, lab, lab_folder
):
    """A sign slip in chapter 01's forward: its test's "Check failed" sentence is the first thing
    under the cell and on screen; corrected in the editor and run again, the test passes."""
    from playwright.sync_api import expect

    path = notebook_path("wrong", DEMO_CHAPTER)
    saved = nbformat.read(lab_folder.root / path, as_version=4)
    with opened(tidy_page, lab, path) as notebook:
        run_all(notebook, sum(c.cell_type == "code" for c in saved.cells), timeout_s=300)
        answer = cell_with_grade_id(notebook, saved, "ch01_forward")
        test = cell_with_grade_id(notebook, saved, "ch01_forward_visible")
        test.evaluate("cell => cell.scrollIntoView({block: 'start'})")
        message = test.locator(".jp-OutputArea-output")
        expect(message).to_have_count(1)
        assert message.inner_text().startswith("Check failed: z at the start"), message.inner_text()
        assert "Traceback" not in message.inner_text()
        expect(message).to_be_in_viewport(ratio=1)
        shoot(tidy_page, "failing-message", readme=True)
        type_into(answer, CORRECTED)
        test.locator(".jp-InputPrompt").click()  # the test cell, in command mode
        tidy_page.keyboard.press("Shift+Enter")
        expect(message).to_have_text(re.compile(r"^forward: visible tests passed\s*$"))
        shoot(tidy_page, "passing-message")


def answer_defining(chapter, name):
    """The grade_id of ``chapter``'s answer cell that defines function ``name``, and its answer."""
    for grade_id, answer in solution_answers(chapter).items():
        if re.search(rf"^def {re.escape(name)}\(", answer, re.MULTILINE):
            return grade_id, answer
    raise AssertionError(f"no answer cell of {chapter} defines {name}")


def test_a_release_widget_draws_once_the_student_implements_what_it_asks(release, chapter):
    """In the untouched release, a widget that asks for a function ("Implement train_momentum
    above first") draws a figure once the student writes that function (and whatever else it
    then asks for) and moves a control: it calls the student's current functions."""
    from playwright.sync_api import expect

    panels = widget_panels(release.notebook)  # the course's panels, and tqdm's progress bars
    asks = re.compile(r"[Ii]mplement \w+ above first")
    waiting = [i for i in range(panels.count()) if asks.search(panels.nth(i).inner_text())]
    if not waiting:
        pytest.skip(f"{chapter}'s release shows no widget waiting for a function")
    panel, asked = panels.nth(waiting[0]), []
    while panel.locator("img").count() == 0:
        text = panel.inner_text()
        wanted = re.search(r"[Ii]mplement (\w+) above first", text)
        assert wanted, f"the panel shows no figure and asks for nothing: {text[-400:]}"
        name = wanted[1]
        assert name not in asked and len(asked) < 8, f"still asks for {name} after {asked}"
        asked.append(name)
        grade_id, answer = answer_defining(chapter, name)
        type_into(cell_with_grade_id(release.notebook, release.saved, grade_id), answer)
        panel.scroll_into_view_if_needed()
        nudge_first_control(panel)
        # it stops asking for that function, then shows a figure or asks for another one
        expect(panel.get_by_text(re.compile(rf"[Ii]mplement {name} above first"))).to_have_count(0)
        asking = panel.get_by_text(re.compile(r"[Ii]mplement \w+ above first"))
        expect(panel.locator("img").or_(asking).first).to_be_visible()
    shoot(panel, f"{chapter}-release-widget-implemented")


# --- nbgrader's Validate ----------------------------------------------------------


@contextmanager
def opened(page, lab, path):
    """A document opened in its own tab for one test; its tab closed (and kernel shut down) afterwards."""
    document = (
        open_notebook(page, lab, path) if path.endswith(".ipynb") else open_document(page, path)
    )
    try:
        yield document
    finally:
        closed(page, document, lab, path)


def test_validate_passes_the_solved_notebook(tidy_page, lab):
    """nbgrader's Validate button on the solved chapter 01 says that every test passes."""
    from playwright.sync_api import expect

    with opened(tidy_page, lab, notebook_path("solved", DEMO_CHAPTER)) as notebook:
        dialog = validate(notebook)
        expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
        shoot(tidy_page, "validate", readme=True)
        dialog.get_by_role("button", name="Ok").click()
        expect(dialog).to_have_count(0)


def test_validate_shows_a_failing_test_of_the_untouched_release(tidy_page, lab):
    """Validate on the untouched release shows one of the release's test cells failing, with its error."""
    from playwright.sync_api import expect

    with opened(tidy_page, lab, notebook_path("course", DEMO_CHAPTER)) as notebook:
        dialog = validate(notebook)
        expect(dialog).to_contain_text("The following cell failed:")
        expect(dialog).to_contain_text(re.compile(r"NotImplementedError|NameError"))
        shoot(tidy_page, "validate-release")
        failing = dialog.locator("pre").first.inner_text().strip()
        dialog.get_by_role("button", name="Ok").click()
    tests = {
        c.source.strip()
        for c in released_notebook(DEMO_CHAPTER).cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"
    }
    assert failing in tests


# --- the instructor ----------------------------------------------------------------


def points(result):
    """``"score / max"`` over all of a student's grade cells, as the formgrader writes it."""
    cells = result.cells.values()
    return f"{sum(c.score or 0 for c in cells):g} / {sum(c.max_score for c in cells):g}"


def test_formgrader_shows_the_demo_submissions_with_their_points(tidy_page, demo_results):
    """Nbgrader > Formgrader lists the demo's students for chapter 01 with the points the grader gave."""
    from playwright.sync_api import expect

    menu(tidy_page, "Nbgrader", "nbgrader:open-formgrader")
    tab = current_tab(tidy_page)
    formgrader = tab.frame_locator("iframe")
    assignment = formgrader.locator("tr", has_text=DEMO_CHAPTER)
    expect(assignment).to_contain_text(str(len(demo_results)))
    shoot(tidy_page, "formgrader-assignments")
    assignment.get_by_role("link", name=str(len(demo_results)), exact=True).click()
    for student, result in demo_results.items():
        expect(formgrader.locator("tr", has_text=student)).to_contain_text(points(result))
    formgrader.locator("table").scroll_into_view_if_needed()
    shoot(tidy_page, "formgrader", readme=True)
    close_tab(tab)


def test_feedback_page_shows_points_and_why_tests_failed(tidy_page, lab, demo_results):
    """The feedback of the student with mistakes opens in JupyterLab with their points and each failed test's reason."""
    from playwright.sync_api import expect

    result = demo_results["mistakes"]
    failed = [
        name
        for name, cell in result.cells.items()
        if cell.autograded and cell.score < cell.max_score
    ]
    assert failed, "the demo's student with mistakes failed no test"
    html = f"grading/feedback/mistakes/{DEMO_CHAPTER}/{notebook_stem(DEMO_CHAPTER)}.html"
    with opened(tidy_page, lab, html) as viewer:
        feedback = viewer.frame_locator("iframe")
        expect(feedback.locator("body")).to_contain_text(
            f"Autograded points: {result.auto_score:g} / {result.auto_max:g}"
        )
        for name in failed:
            expect(feedback.locator("tr", has_text=name)).to_contain_text(
                f"{result.cells[name].score:g} / "
            )
        shoot(tidy_page, "feedback", readme=True)


def test_readme_screenshots_exist_and_are_small():
    """Every screenshot the README and the gallery (docs/screenshots/README.md) show is in
    docs/screenshots/ and at most 150 kB; the gallery shows each chapter's first screen and widget
    and a failing check, and docs/screenshots/ holds nothing that neither page shows."""
    pages = [REPO / "README.md", README_SCREENSHOTS / "README.md"]
    shown = {
        name
        for page in pages
        for name in re.findall(r"\((?:docs/screenshots/)?([\w.-]+\.png)\)", page.read_text())
    }
    sizes = {
        name: (README_SCREENSHOTS / name).stat().st_size
        if (README_SCREENSHOTS / name).exists()
        else None
        for name in shown
    }
    assert {n: s for n, s in sizes.items() if s is None or s > README_MAX_BYTES} == {}
    wanted = {f"{c}-{what}.png" for c in CHAPTERS for what in ("first-screen", "widget-1")}
    assert wanted | {"failing-message.png"} <= shown
    assert {p.name for p in README_SCREENSHOTS.glob("*.png")} == shown


# --- student content in the instructor's browser -------------------------------------


@pytest.fixture(scope="module")
def xss_class(tmp_path_factory):
    """The corpus's two script-carrying submissions, graded as any class is: ``(workdir, [student])``."""
    from autograder.grade import grade_class
    from autograder.sandbox import unavailable_reason
    from tests.adversarial.corpus import build_corpus

    root = tmp_path_factory.mktemp("xss")
    corpus = root / "corpus"
    build_corpus(
        corpus,
        {"repo": str(REPO), "workdir": str(root / "work"), "submissions": str(corpus), "port": 0},
    )
    cases = ["xss-markdown", "xss-outputs"]
    for other in [p for p in corpus.iterdir() if p.name not in cases]:
        shutil.rmtree(other) if other.is_dir() and not other.is_symlink() else other.unlink()
    grade_class(
        corpus, DEMO_CHAPTER, workdir=root / "work", unsafe=unavailable_reason() is not None
    )
    return root / "work", cases


def watched_page(browser):
    """A new tab that records every dialog, console message and request: ``(page, events)``."""
    page = browser.new_page()
    events = []
    page.on("dialog", lambda d: (events.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("console", lambda m: events.append(f"console: {m.text}") if "xss" in m.text else None)
    page.on(
        "request",
        lambda r: (
            events.append(f"request: {r.url}")
            if "/api/terminals" in r.url or r.url.endswith("/x")
            else None
        ),
    )
    return page, events


@pytest.fixture(scope="module")
def xss_formgrader(xss_class, tmp_path_factory):
    """A second JupyterLab, logged in, whose formgrader shows the graded script-carrying class: ``(server, workdir)``."""
    workdir, _ = xss_class
    root = workdir.parent
    config = NBGRADER_CONFIG.format(
        workdir=str(workdir), root=str(root), release=str(workdir / "release")
    )
    (root / "nbgrader_config.py").write_text(config)
    with JupyterLab(root, tmp_path_factory.mktemp("xss-lab-home")) as server:
        yield server, workdir


def _submission_id(workdir, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        return gb.find_submission_notebook(notebook_stem(DEMO_CHAPTER), DEMO_CHAPTER, student).id


@pytest.mark.parametrize("case", ["xss-markdown", "xss-outputs"])
def test_no_student_script_runs_in_the_instructors_browser(browser, xss_formgrader, case):
    """The live formgrader (logged in, where a script could open a terminal) and the feedback page run none of it."""
    server, workdir = xss_formgrader
    feedback = next((workdir / "feedback" / case).rglob("*.html")).as_uri()
    formgrader = f"{server.base}/formgrader/submissions/{_submission_id(workdir, case)}/?token={server.token}"
    for name, url in (("feedback", feedback), ("formgrader", formgrader)):
        page, events = watched_page(browser)
        try:
            page.goto(url)
            page.wait_for_timeout(2500)
            shoot(page, f"{case}-{name}")
            assert "Hello grader" in page.content() or case != "xss-markdown", (
                f"{name} does not show the submission"
            )
            assert page.locator("body").inner_text().strip(), f"{name} shows nothing"
        finally:
            page.close()
        assert events == [], f"{name}: {events}"
