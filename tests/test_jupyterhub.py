"""A class on a JupyterHub, in a real browser: nbgrader's exchange from release to feedback.

JupyterHub on 127.0.0.1 (tests/hub.py) with three local users. The instructor releases
chapter 01 from a terminal with ``nbgrader release_assignment``. Ada, in Chromium, fetches it
from the Assignments tab, answers every exercise in the notebook's editor, validates and
submits. Ben fetches and submits from his terminal, with a slip in one function. The
instructor collects, grades with this project's grader (sandboxed without root: the
instructor is an ordinary user) and releases feedback. Ada fetches it in the Assignments tab
and reads the grader's points in JupyterLab. Root only (it creates local users); skipped with
the reason elsewhere, and CI sets ``BACKPROPLAB_REQUIRE_HUB=1`` so that it cannot skip there.
"""

import csv
import os
import pwd
import re
import shutil
import subprocess
import zipfile
from contextlib import contextmanager
from types import SimpleNamespace

import nbformat
import pytest

from autograder.build import read_source
from autograder.bundle import TOP as BUNDLE_TOP
from autograder.bundle import write_bundle
from autograder.course import REPO, notebook_stem
from autograder.submissions import fill, released_notebook, solution_answers
from tests.browser import (
    MAIN_TAB,
    cell_with_grade_id,
    chromium_context,
    current_tab,
    keep_this_version_when_the_disk_looks_newer,
    menu,
    open_document,
    save,
    sessions_seen_by,
    shoot,
    type_into,
    validate,
    wait_for_kernel,
)

pytestmark = pytest.mark.xdist_group("jupyterhub")

CHAPTER = "01_gradient_descent"
NOTEBOOK = f"{CHAPTER}/{notebook_stem(CHAPTER)}.ipynb"
INSTRUCTOR, ADA, BEN = "bpl-hub-instructor", "bpl-hub-ada", "bpl-hub-ben"
# Ben's honest slip: a sign error in the first function (the visible and hidden tests catch it)
SLIP = {"ch01_forward": "def forward(X, W, b):\n    return X @ W - b\n"}
# Ada's written answers, in her own words (the instructor grades them by hand)
WRITTEN = "Each step overshoots the minimum by more than it gains, so the error grows."
CHECKOUT_PARTS = ("autograder", "backproplab", "course", "data", "solutions", "pyproject.toml")


@pytest.fixture(scope="module")
def hub_module():
    """tests/hub.py, or a skip (a failure in CI) that says what is missing."""
    reason = _missing()
    if reason:
        if os.environ.get("BACKPROPLAB_REQUIRE_HUB"):
            pytest.fail(f"BACKPROPLAB_REQUIRE_HUB is set but {reason}")
        pytest.skip(reason)
    from tests import hub

    return hub


def _missing():
    try:
        from tests.hub import missing_hub
    except ImportError as exc:  # jupyterhub is in the dev extra: `make env`
        return f"JupyterHub is not installed ({exc}): run `make env`"
    return missing_hub()


@pytest.fixture(scope="module")
def term(hub_module, tmp_path_factory):
    """The users, the exchange and the instructor's checkout and course, with chapter 01 released;
    the users are deleted afterwards."""
    hub = hub_module
    root = tmp_path_factory.mktemp("hub")
    exchange = root / "exchange"
    exchange.mkdir()
    exchange.chmod(0o777)  # as nbgrader's docs set it up: every user writes into it
    try:
        for name in (INSTRUCTOR, ADA, BEN):
            hub.create_user(name, root / "home" / name)
        yield set_up_the_term(hub, root, exchange)
    finally:
        for name in (INSTRUCTOR, ADA, BEN):
            hub.remove_user(name)


def set_up_the_term(hub, root, exchange):
    """Each user's configuration, the instructor's checkout, the students' package; release chapter 01."""
    home = {name: pwd.getpwnam(name).pw_dir for name in (INSTRUCTOR, ADA, BEN)}
    checkout = instructor_checkout(home[INSTRUCTOR])
    hub.write_nbgrader_config(
        INSTRUCTOR, exchange, **{"CourseDirectory.root": f"{home[INSTRUCTOR]}/course"}
    )
    for name in (ADA, BEN):
        hub.write_nbgrader_config(name, exchange)
        hub.write_lab_settings(name)
    package = students_package(root)
    term = SimpleNamespace(
        root=root, exchange=exchange, home=home, checkout=checkout, package=package
    )
    instructor(
        term,
        f"mkdir -p ~/course/release && cp -r course/{CHAPTER} ~/course/release/ && "
        f"cd ~/course && nbgrader release_assignment {CHAPTER}",
    )
    return term


def instructor_checkout(home):
    """The instructor's own copy of the course repository, in their home, owned by them."""
    checkout = os.path.join(home, "backprop-lab")
    ignore = shutil.ignore_patterns("__pycache__", "working", "*.ipynb_checkpoints")
    for part in CHECKOUT_PARTS:
        source, target = REPO / part, os.path.join(checkout, part)
        if source.is_dir():
            shutil.copytree(source, target, ignore=ignore)
        else:
            shutil.copy2(source, target)
    subprocess.run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", checkout], check=True)
    return checkout


def students_package(root):
    """Chapter 01's student release, unzipped as the hub's admin installs it for the students."""
    with zipfile.ZipFile(
        write_bundle(root / "release-01.zip", regenerate=False, through="01")
    ) as z:
        z.extractall(root / "release-01")
    return root / "release-01" / BUNDLE_TOP


def instructor(term, script):
    """Run a bash ``script`` in the instructor's terminal (their checkout is where they start)."""
    from tests.hub import run_as

    done = run_as(
        INSTRUCTOR,
        ["bash", "-c", f"set -e; {script}"],
        writable=[term.exchange],
        checkout=term.checkout,
        cwd=REPO,
    )
    assert done.returncode == 0, f"{script}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def student(term, name, script):
    """Run a bash ``script`` in student ``name``'s terminal; the completed process."""
    from tests.hub import run_as

    return run_as(name, ["bash", "-c", script], writable=[term.exchange], package=term.package)


@pytest.fixture(scope="module")
def hub(hub_module, term):
    """The hub, with Ada and Ben allowed to log in."""
    with hub_module.Hub(term.root, [ADA, BEN], term.exchange, term.package) as server:
        yield server


@pytest.fixture(scope="module")
def ada(hub):
    """Ada's browser tab (Debian's chromium, driven by Playwright): logged in to the hub, in her
    own JupyterLab."""
    with chromium_context() as browser:
        page = browser.new_page()
        with explained(hub, page, "log-in"):
            log_in(page, hub, ADA)
        yield page


@contextmanager
def explained(hub, page, step):
    """On a failure in ``step``: a screenshot of ``page`` and the end of the hub's log (the users'
    servers log there too) in the error."""
    try:
        yield
    except Exception as exc:
        shoot(page, f"hub-failed-{step}")
        raise AssertionError(
            f"{step} failed: {exc}\n--- the hub's log, less its routine requests ---\n"
            + unusual_lines(hub.log.read_text(errors="replace"))
        ) from exc


def unusual_lines(log, keep=60):
    """The last ``keep`` lines of a hub's ``log`` that are not successful requests: its
    warnings, errors, kernel restarts and failed requests."""
    routine = re.compile(r"^\[I [^\]]*\] (1|2|3)\d\d (GET|POST|PUT|PATCH|DELETE|HEAD) ")
    return "\n".join([line for line in log.splitlines() if not routine.match(line)][-keep:])


def log_in(page, hub, name):
    """Log ``name`` in to the hub in ``page`` (a browser tab); return when JupyterLab shows."""
    from playwright.sync_api import expect

    from tests.hub import PASSWORD

    keep_this_version_when_the_disk_looks_newer(page)
    page.goto(f"{hub.base}/hub/login")
    page.locator("#username_input").fill(name)
    page.locator("#password_input").fill(PASSWORD)
    page.locator("#login_submit").click()
    expect(page).to_have_url(re.compile(rf"/user/{name}/lab"))
    expect(page.locator(".jp-DirListing-content")).to_be_visible()


def assignments_tab(page):
    """Nbgrader > Assignment List (or its open tab); its content, refreshed."""
    from playwright.sync_api import expect

    tab = page.locator(MAIN_TAB, has_text=re.compile("^Assignments$"))
    if tab.count():
        tab.click()
    else:
        menu(page, "Nbgrader", "nbgrader:open-assignment-list")
    expect(page.locator(f"{MAIN_TAB}.lm-mod-current")).to_contain_text("Assignments")
    panel = current_tab(page)
    panel.locator("#refresh_assignments_list").click()
    expect(panel.locator(".list_loading:visible")).to_have_count(0)
    return panel


def listed(panel, which):
    """Chapter 01's row in one list of the Assignments tab: released, fetched or submitted."""
    return panel.locator(f"#{which}_assignments_list .list_item", has_text=CHAPTER)


@pytest.fixture(scope="module")
def ada_submitted(ada, hub, term):
    """Ada fetches chapter 01, answers each exercise in the editor, validates and submits;
    the "Submitted assignments" row."""
    with explained(hub, ada, "submission"):
        return submit_in_the_browser(ada, hub)


def submit_in_the_browser(ada, hub):
    """Fetch, answer, save, validate and submit chapter 01 in the page ``ada``; the submitted row."""
    from playwright.sync_api import expect

    panel = assignments_tab(ada)
    listed(panel, "released").get_by_role("button", name="Fetch").click()
    expect(listed(panel, "fetched")).to_be_visible()
    shoot(ada, "hub-assignments-fetched")
    notebook = open_document(ada, NOTEBOOK)
    wait_for_kernel(lambda: sessions_seen_by(ada, f"{hub.base}/user/{ADA}"), NOTEBOOK)
    saved = released_notebook(CHAPTER)
    for grade_id, (kind, answer) in answers().items():
        cell = cell_with_grade_id(notebook, saved, grade_id)
        if kind == "code":
            type_into(cell, answer)
        else:
            write_markdown(cell, WRITTEN)
    save(ada)
    dialog = validate(notebook)
    expect(dialog).to_contain_text("Success! Your notebook passes all the tests.")
    dialog.get_by_role("button", name="Ok").click()
    panel = assignments_tab(ada)
    listed(panel, "fetched").get_by_role("button", name="Submit").click()
    expect(listed(panel, "submitted")).to_be_visible()
    shoot(ada, "hub-assignments-submitted")
    return listed(panel, "submitted").inner_text()


def answers():
    """``{grade_id: (cell type, the solution's answer)}`` of chapter 01's exercises."""
    kinds = {
        c.metadata.get("nbgrader", {}).get("grade_id"): c.cell_type
        for c in read_source(CHAPTER).cells
    }
    return {g: (kinds[g], a) for g, a in solution_answers(CHAPTER).items()}


def write_markdown(cell, text):
    """Replace a Markdown cell's text in its editor and render it, as a student would."""
    from playwright.sync_api import expect

    cell.dblclick()  # a rendered Markdown cell opens its editor
    cell.locator(".cm-content").click()
    cell.page.keyboard.press("Control+A")
    cell.page.keyboard.insert_text(text)
    cell.page.keyboard.press("Control+Enter")
    expect(cell.locator(".jp-MarkdownOutput")).to_contain_text(text)


@pytest.fixture(scope="module")
def ben_submitted(term):
    """Ben fetches chapter 01 in his terminal, answers it with a slip and submits."""
    fetched = student(term, BEN, f"nbgrader fetch_assignment {CHAPTER}")
    assert fetched.returncode == 0, fetched.stderr
    path = os.path.join(term.home[BEN], NOTEBOOK)
    nbformat.write(fill(released_notebook(CHAPTER), {**solution_answers(CHAPTER), **SLIP}), path)
    user = pwd.getpwnam(BEN)
    os.chown(path, user.pw_uid, user.pw_gid)
    submitted = student(term, BEN, f"nbgrader submit {CHAPTER}")
    assert submitted.returncode == 0, submitted.stderr
    return submitted


@pytest.fixture(scope="module")
def graded(term, ada_submitted, ben_submitted):
    """The instructor collects, grades with the course's grader and releases the feedback;
    ``{student: row of grades.csv}``."""
    instructor(term, f"cd ~/course && nbgrader collect {CHAPTER}")
    instructor(
        term,
        f"python -m autograder grade ~/course/submitted --chapter {CHAPTER} --workdir ~/grading",
    )
    instructor(term, f"nbgrader release_feedback {CHAPTER} --CourseDirectory.root=$HOME/grading")
    with open(os.path.join(term.home[INSTRUCTOR], "grading", "grades.csv")) as f:
        return {row["student"]: row for row in csv.DictReader(f)}


def test_a_student_fetches_answers_validates_and_submits_in_the_assignments_tab(ada_submitted):
    """Ada's submission is listed under "Submitted assignments" with its time."""
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", ada_submitted), ada_submitted


def test_a_student_cannot_read_another_students_submission(term, ada_submitted, ben_submitted):
    """The exchange's inbound folder lets Ben hand in, not look at what Ada handed in."""
    inbound = term.exchange / "backproplab" / "inbound"
    peek = student(term, BEN, f"ls {inbound}")
    assert peek.returncode != 0 and "Permission denied" in peek.stderr, peek


def test_a_students_python_has_the_chapters_release_not_the_course_repository(term):
    """Students import backproplab from the chapter's release; the solutions are not there to read."""
    probe = student(term, BEN, "python -c 'import backproplab; print(backproplab.__file__)'")
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.startswith(str(term.package)), probe.stdout
    peek = student(term, BEN, f"ls {REPO / 'solutions'}")
    assert peek.returncode != 0 and "No such file" in peek.stderr, peek


def test_the_instructor_grades_the_collected_class_with_the_courses_grader(graded):
    """Ada's answers get every autograded point; Ben's slip loses the points of its tests."""
    assert set(graded) == {ADA, BEN}
    ada, ben = graded[ADA], graded[BEN]
    assert ada["status"] == ben["status"] == "graded", graded
    assert float(ada["auto_score"]) == float(ada["auto_max"]) > 0
    assert float(ben["auto_score"]) < float(ben["auto_max"])
    assert ben["ch01_forward_visible"] == ben["ch01_forward_hidden"] == "0", ben


def test_a_student_fetches_feedback_and_reads_the_graders_points(ada, hub, graded):
    """Fetch Feedback in the Assignments tab, then the feedback page shows Ada's points."""
    with explained(hub, ada, "feedback"):
        read_feedback_in_the_browser(ada, graded[ADA])


def read_feedback_in_the_browser(ada, grades):
    """Fetch Ada's feedback in the Assignments tab, open it, and find her points (``grades``: her row)."""
    from playwright.sync_api import expect

    panel = assignments_tab(ada)
    submitted = listed(panel, "submitted")
    expect(submitted).to_contain_text("feedback available to fetch")
    submitted.get_by_role("button", name="Fetch Feedback").click()
    submitted.get_by_text("(view feedback)").click()
    html = f"{notebook_stem(CHAPTER)}.html"
    ada.locator(".jp-DirListing-item", has_text=html).dblclick()
    expect(ada.locator(f"{MAIN_TAB}.lm-mod-current")).to_contain_text(html)
    viewer = current_tab(ada)
    points = f"{float(grades['auto_score']):g} / {float(grades['auto_max']):g}"
    expect(viewer.frame_locator("iframe").locator("body")).to_contain_text(
        f"Autograded points: {points}"
    )
    shoot(ada, "hub-feedback")
