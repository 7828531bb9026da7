"""A real JupyterLab in a real browser, for tests/test_browser.py.

JupyterLab serves a temporary folder on 127.0.0.1 with a random port and a
token, with its own HOME and Jupyter folders, so nothing of the user's is read
or changed. Playwright drives Debian's ``chromium`` (``executable_path``;
never a browser Playwright downloads). Waits are Playwright's: a locator
that must reach a state within a timeout, never a fixed sleep.
"""

import importlib.util
import io
import json
import os
import re
import secrets
import shutil
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from autograder.course import REPO
from tests.processes import ServerProcess, free_port

ARTIFACTS = REPO / "artifacts" / "browser"
README_SCREENSHOTS = REPO / "docs" / "screenshots"
README_WIDTH = 960  # pixels; the README's copies are downscaled to this width at most
README_MAX_BYTES = 150_000
VIEWPORT = {"width": 1280, "height": 800}  # a laptop screen
SMALL_VIEWPORT = {"width": 1024, "height": 768}
TIMEOUT_MS = 180_000  # generous: the machine may be grading on every core at the same time
# a tab of the main area (the sidebars have tabs too)
MAIN_TAB = "#jp-main-dock-panel .lm-TabBar-tab"
WIDGET_VIEW = (
    ".jp-Cell-outputArea > .jp-OutputArea-child > .jp-OutputArea-output > .jupyter-widgets"
)
QUICK_KERNEL = "python3-quick"  # runs a notebook's experiments in their short, graded form

# JupyterLab settings of the test's user: no pop-up asking about news, and
# each cell's start and end times saved in the notebook.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"recordTiming": True},
}


def missing_browser():
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if chromium_path() is None:
        return "Chromium not found: install Debian's chromium to run the browser tests"
    if importlib.util.find_spec("playwright") is None:
        return "Playwright not installed: run `make env` (it is in the dev extra)"
    return None


def chromium_path():
    """Debian's chromium, or ``None``."""
    return shutil.which("chromium") or shutil.which("chromium-browser")


class JupyterLab:
    """A JupyterLab server on 127.0.0.1 serving ``root``; a context manager.

    ``home`` receives HOME and every Jupyter folder (config, data, runtime,
    settings, workspaces); the server starts in ``root``, where nbgrader's
    formgrader reads ``nbgrader_config.py``. ``env``: variables the server and
    its kernels get besides (e.g. ``PYTHONPATH``).
    """

    def __init__(self, root, home, env=None):
        self.root, self.home, self.extra_env = Path(root), Path(home), dict(env or {})
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = self.home / "jupyterlab.log"
        self.server = None

    def __enter__(self):
        env = {**_isolated_env(self.home), **self.extra_env}
        _write_settings(Path(env["JUPYTERLAB_SETTINGS_DIR"]))
        _write_quick_kernel(Path(env["JUPYTER_DATA_DIR"]))
        command = [
            str(Path(sys.executable).parent / "jupyter"),
            "lab",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
        ]
        self.server = ServerProcess("JupyterLab", command, self.root, env, self.log)
        self.server.wait_until_answers(
            f"{self.base}/api/status?token={self.token}", TIMEOUT_MS / 1000
        )
        return self

    def __exit__(self, *exc):
        """Stop the server (it shuts its kernels down); kill it if it will not stop."""
        self.server.stop()

    def sessions(self, path):
        """The server's sessions of the notebook at ``path``."""
        return sessions_of(self._api("GET", "sessions"), path)

    def wait_for_kernel(self, path):
        """Return once the notebook's kernel is idle and the browser is connected to it."""
        wait_for_kernel(lambda: self._api("GET", "sessions"), path)

    def shut_down_kernels(self, path):
        """Shut down the kernel of every session of the notebook at ``path`` (closing its tab does not)."""
        for session in self.sessions(path):
            self._api("DELETE", f"sessions/{session['id']}")

    def _api(self, method, endpoint):
        """Call the server's REST API; the decoded JSON answer, if any."""
        request = urllib.request.Request(
            f"{self.base}/api/{endpoint}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def url(self, workspace, path=""):
        """The address of ``path`` (a file under root, or nothing) in its own JupyterLab workspace.

        A workspace of its own keeps one page from reopening the tabs of another.
        """
        tree = f"/tree/{path}" if path else ""
        return f"{self.base}/lab/workspaces/{workspace}{tree}?token={self.token}"


def _isolated_env(home):
    """The environment of the server: a home and Jupyter folders of its own, no test settings."""
    dropped = ("MPLBACKEND", "MPLCONFIGDIR", "NBGRADER_EXECUTION", "IPYTHONDIR", "PYTHONPATH")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in dropped and not k.startswith(("JUPYTER", "JPY_"))
    }
    folders = {
        "HOME": "home",
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_DATA_DIR": "data",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
    }
    for name, folder in folders.items():
        env[name] = str(Path(home) / folder)
        Path(env[name]).mkdir(parents=True, exist_ok=True)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def _write_settings(settings_dir):
    for name, values in LAB_SETTINGS.items():
        path = settings_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


def _write_quick_kernel(data_dir):
    """A kernel like python3 whose notebooks run their experiments as a smoke test (see CONTRIBUTING)."""
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "env": {"NBGRADER_EXECUTION": "browser-test"},
    }
    folder = data_dir / "kernels" / QUICK_KERNEL
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "kernel.json").write_text(json.dumps(spec))


# --- pages ------------------------------------------------------------------


@contextmanager
def chromium_context():
    """A browser context of Debian's chromium, driven by Playwright; ``new_page()`` opens a tab.

    One context: its pages share the browser's cache.
    """
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=chromium_path())
        context = chromium.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        yield context
        chromium.close()


def open_lab(browser, lab, workspace):
    """A new tab of ``browser`` (a Playwright browser context) with JupyterLab loaded in ``workspace``."""
    from playwright.sync_api import expect

    page = browser.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    keep_this_version_when_the_disk_looks_newer(page)
    page.goto(lab.url(workspace))
    expect(page.locator(".jp-DirListing-content")).to_be_visible()
    return page


def keep_this_version_when_the_disk_looks_newer(page):
    """Answer JupyterLab's "File Changed" dialog with Overwrite, as its user would, whenever it shows.

    Nothing else writes the notebooks a page has open, but on a loaded machine JupyterLab can
    misjudge the time of its own last save and ask; unanswered, the dialog blocks every click.
    """
    dialog = page.locator(".jp-Dialog", has_text="has changed on disk")
    page.add_locator_handler(
        dialog, lambda d: d.get_by_role("button", name="Overwrite").click(), no_wait_after=True
    )


def menu(page, top, command):
    """Click the menu bar's ``top`` menu, then its item running JupyterLab's ``command``."""
    page.get_by_role("menuitem", name=top, exact=True).click()
    page.locator(f".lm-Menu-item[data-command='{command}']").click()


def open_document(page, path):
    """File > Open from Path...: open ``path`` in a new tab of JupyterLab; return the tab's content."""
    from playwright.sync_api import expect

    menu(page, "File", "filebrowser:open-path")
    dialog = page.locator(".jp-Dialog")
    dialog.locator("input").fill(path)
    dialog.locator("button.jp-mod-accept").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(MAIN_TAB + ".lm-mod-current")).to_have_attribute(
        "title", re.compile(f"^Path: {re.escape(path)}$", re.MULTILINE)
    )
    return current_tab(page)


def current_tab(page):
    """The content of JupyterLab's current main-area tab (a locator that keeps pointing at it)."""
    return page.locator(f"#{page.locator(MAIN_TAB + '.lm-mod-current').get_attribute('data-id')}")


def sessions_of(sessions, path):
    """The sessions of the notebook at ``path`` among a server's ``sessions`` (``GET api/sessions``).

    JupyterLab names a session after the notebook's folder and a unique id
    (``folder/<uuid>``), with the notebook's file name as its ``name``.
    """
    folder, name = str(PurePosixPath(path).parent), PurePosixPath(path).name
    return [
        s for s in sessions if str(PurePosixPath(s["path"]).parent) == folder and s["name"] == name
    ]


def wait_for_kernel(all_sessions, path):
    """Return once the kernel of the notebook at ``path`` is idle and a browser is connected to it.

    ``all_sessions()`` lists the server's sessions. Until the kernel is ready a cell run in
    the browser runs nothing (its prompt goes back to ``[ ]``). The server knows; the page's
    "Idle" shows before the kernel has even started.
    """
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while not any(
        s["kernel"]["execution_state"] == "idle" and s["kernel"]["connections"] > 0
        for s in sessions_of(all_sessions(), path)
    ):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the kernel of {path} did not start: {all_sessions()}")
        time.sleep(0.2)  # polling the server's state, not synchronising the browser


def sessions_seen_by(page, server):
    """``server``'s sessions (``GET api/sessions``), asked from inside ``page`` as JupyterLab asks:
    with the page's cookies and its XSRF token (a hub's single-user server wants both)."""
    return page.evaluate(
        """async (url) => {
            const xsrf = document.cookie.match(/(?:^|; )_xsrf=([^;]*)/);
            const headers = xsrf ? {"X-XSRFToken": decodeURIComponent(xsrf[1])} : {};
            const answer = await fetch(url, {headers});
            if (!answer.ok) throw new Error(`${url}: ${answer.status}`);
            return answer.json();
        }""",
        f"{server}/api/sessions",
    )


def open_notebook(page, lab, path):
    """Open the notebook at ``path``; return its panel once its kernel is idle and connected."""
    from playwright.sync_api import expect

    notebook = open_document(page, path)
    lab.wait_for_kernel(path)
    expect(page.get_by_text(re.compile(r"^Python 3 \(ipykernel\) \| Idle$"))).to_be_visible()
    return notebook


def close_tab(document):
    """Close the tab showing ``document`` with its close icon, saving it first if it has unsaved changes."""
    from playwright.sync_api import expect

    tab = document.page.locator(f"{MAIN_TAB}[data-id='{document.get_attribute('id')}']")
    tab.click()
    if "jp-mod-dirty" in tab.get_attribute("class").split():
        save(document.page)
    tab.locator(".lm-TabBar-tabCloseIcon").click()
    expect(tab).to_have_count(0)


def run_all(notebook, code_cells, timeout_s):
    """Run > Run All Cells; return when every one of the notebook's ``code_cells`` has run."""
    from playwright.sync_api import expect

    menu(notebook.page, "Run", "runmenu:run-all")
    numbered = notebook.locator(".jp-CodeCell .jp-InputPrompt").filter(
        has_text=re.compile(r"\[\d+\]")
    )
    expect(numbered).to_have_count(code_cells, timeout=timeout_s * 1000)


def save(page):
    """File > Save Notebook; return when the current tab no longer shows unsaved changes."""
    from playwright.sync_api import expect

    menu(page, "File", "docmanager:save")
    expect(page.locator(MAIN_TAB + ".lm-mod-current.jp-mod-dirty")).to_have_count(0)


def cell_with_grade_id(notebook, saved, grade_id):
    """The cell of ``notebook`` (the panel) that is ``grade_id``'s cell in ``saved`` (the file)."""
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in saved.cells]
    return notebook.locator(".jp-Notebook .jp-Cell").nth(ids.index(grade_id))


def type_into(cell, source):
    """Replace a cell's source as a student would, in its editor; run it (Ctrl+Enter) and wait
    until it has run."""
    from playwright.sync_api import expect

    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    cell.locator(".cm-content").click()
    cell.page.keyboard.press("Control+A")
    cell.page.keyboard.insert_text(source)
    cell.page.keyboard.press("Control+Enter")
    expect(prompt).not_to_have_text(before)
    expect(prompt).to_have_text(re.compile(r"\[\d+\]"))


def validate(notebook):
    """Press the notebook's Validate button; the dialog with nbgrader's verdict."""
    from playwright.sync_api import expect

    notebook.get_by_role("button", name="Validate").click()
    dialog = notebook.page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Validation Results")
    return dialog


def widget_panels(notebook):
    """The widgets shown in the notebook's outputs, top to bottom."""
    return notebook.locator(WIDGET_VIEW)


def labelled(panel, kind, description):
    """The control of CSS class ``kind`` (``widget-slider``...) whose label reads ``description``."""
    label = panel.page.locator(
        "label.widget-label", has_text=re.compile(f"^{re.escape(description)}$")
    )
    return panel.locator(f".{kind}").filter(has=label)


# --- screenshots ----------------------------------------------------------


def shoot(target, name, readme=False):
    """Save a screenshot of ``target`` (a page or a locator) as ``artifacts/browser/<name>.png``; return its bytes.

    With ``readme`` and ``BACKPROPLAB_README_SCREENSHOTS=1`` (``make screenshots``),
    also refresh the README's small copy, ``docs/screenshots/<name>.png``.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    png = target.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    if readme and os.environ.get("BACKPROPLAB_README_SCREENSHOTS") == "1":
        write_readme_copy(png, README_SCREENSHOTS / f"{name}.png")
    return png


def write_readme_copy(png, path):
    """A small copy of a screenshot for the README: at most README_WIDTH wide, a 128-colour palette."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    if image.width > README_WIDTH:
        image = image.resize(
            (README_WIDTH, round(image.height * README_WIDTH / image.width)), Image.LANCZOS
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    if path.stat().st_size > README_MAX_BYTES:
        raise AssertionError(
            f"{path.name} is {path.stat().st_size} bytes; crop it below {README_MAX_BYTES}"
        )
    return path
