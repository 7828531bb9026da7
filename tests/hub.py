"""A JupyterHub on 127.0.0.1 with local users and nbgrader's exchange, for tests/test_jupyterhub.py.

On a hub each user logs in and gets a JupyterLab of their own, running as their own
Linux account; nbgrader's exchange is a folder they all share, where the instructor
releases and collects assignments and releases feedback.

Here the hub runs as root behind configurable-http-proxy (npm), logs users in with one
test password (JupyterHub's DummyAuthenticator) and starts each user's JupyterLab with
:class:`CheckoutSpawner`: JupyterHub's LocalProcessSpawner, but through bubblewrap, which
mounts this checkout's Python read-only (it may lie in root's home or in a temporary
folder only root can enter) and the user's home and the exchange writable, before
``setpriv`` becomes the user. :func:`as_user` runs a command the same way, as a user's
terminal on the hub would. Students' servers see the release of the course package they
were given, not this checkout; the instructor works in a copy of the checkout of their own.
"""

import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path

from jupyterhub.spawner import LocalProcessSpawner
from traitlets import List, Unicode

from autograder.course import REPO
from autograder.sandbox import kernel_needs
from autograder.sandbox_kernel import parent_folders, system_folders
from tests.browser import LAB_SETTINGS, TIMEOUT_MS, chromium_path
from tests.processes import ServerProcess, free_port

COURSE_ID = "backproplab"
PASSWORD = secrets.token_hex(8)  # the DummyAuthenticator's one password for every test user
PROXY = "configurable-http-proxy"


def missing_hub():
    """Why the JupyterHub round trip cannot run here, or ``None`` when it can."""
    if os.geteuid() != 0:
        return "the JupyterHub test needs root: it creates local users and starts their servers"
    if chromium_path() is None:
        return "Chromium not found: install Debian's chromium to run the browser tests"
    for tool, how in (
        ("bwrap", "apt-get install bubblewrap"),
        ("useradd", "Debian's passwd package"),
        (PROXY, f"npm install --global {PROXY}@5 (.ci/run does)"),
    ):
        if shutil.which(tool) is None:
            return f"{tool} not found: {how}"
    return None


# --- local users ---------------------------------------------------------------------------


def create_user(name, home):
    """A Linux account ``name`` with its home at ``home`` (made anew: an old account goes first)."""
    remove_user(name)
    subprocess.run(
        ["useradd", "--create-home", "--home-dir", str(home), "--shell", "/bin/bash", name],
        check=True,
    )


def remove_user(name):
    """Stop every process of ``name`` and delete the account (its home stays, for the test's folder)."""
    if subprocess.run(["id", "-u", name], capture_output=True).returncode != 0:
        return
    deadline = time.monotonic() + 30
    while True:  # userdel refuses while a killed process of the user has not yet exited
        subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        done = subprocess.run(["userdel", name], capture_output=True, text=True)
        if done.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"userdel {name}: {done.stderr}")
        time.sleep(0.2)  # polling the kernel's process table, not synchronising the browser


def as_user(name, argv, writable=(), checkout=None, package=None, cwd=None):
    """The command line that runs ``argv`` as user ``name``, started by root.

    bubblewrap builds a mount namespace: the system read-only, this Python and the helper
    package (:func:`autograder.sandbox.kernel_needs`) read-only, the user's home and ``writable``
    writable, the machine's /proc (the grader's own sandbox needs it) and a private /tmp; then
    ``setpriv`` drops root for the user. The network is the machine's, as on a hub. It starts in
    ``cwd``, by default the user's home.

    Two things take the place of this checkout's files (all but its venv): ``checkout``, the
    user's own copy of the repository (an instructor's clone), mounted writable where this
    checkout is, so that the venv's editable install finds their ``autograder``; or ``package``,
    the unzipped student release of one chapter (a student), read-only, on their PYTHONPATH.
    """
    user = pwd.getpwnam(name)
    mounts = user_mounts(user.pw_dir, writable, checkout, package)
    command = ["bwrap", *system_mounts()]
    for folder in parent_folders([target for _, _, target in mounts]):
        command += ["--perms", "0755", "--dir", folder]
    for flag, source, target in mounts:
        command += [flag, source, target]
    drop = [f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]
    return [*command, "--chdir", str(cwd or user.pw_dir), "--", "setpriv", *drop, "--", *argv]


def system_mounts():
    """bubblewrap's arguments for /usr, /etc and the top folders (read-only), /proc, /dev, /tmp."""
    return [
        *system_folders(),
        *["--ro-bind", "/etc", "/etc", "--bind", "/proc", "/proc", "--dev", "/dev"],
        *["--perms", "1777", "--tmpfs", "/tmp"],
    ]


def user_mounts(home, writable, checkout, package):
    """``[(flag, source, target)]``, each mount after those it lies in (see :func:`as_user`)."""
    needs = [Path(p) for p in kernel_needs()]
    if checkout is None and package is None:
        mounts = [("--ro-bind", str(p), str(p)) for p in needs]
    else:
        mounts = [("--ro-bind", str(p), str(p)) for p in needs if not p.is_relative_to(REPO)]
        if checkout is not None:
            mounts.append(("--bind", str(checkout), str(REPO)))
        venv = Path(sys.prefix).resolve()
        if venv.is_relative_to(REPO):
            mounts.append(("--ro-bind", str(venv), str(venv)))
        if package is not None:
            mounts.append(("--ro-bind", str(package), str(package)))
    return mounts + [("--bind", str(p), str(p)) for p in [home, *writable]]


def user_env(name, package=None):
    """The environment of ``name``'s commands: this Python's tools first on the PATH, and
    ``package`` (see :func:`as_user`) on the PYTHONPATH."""
    home = pwd.getpwnam(name).pw_dir
    return {
        **({"PYTHONPATH": str(package)} if package is not None else {}),
        "HOME": home,
        "USER": name,
        "LOGNAME": name,
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
    }


def run_as(name, argv, writable=(), checkout=None, package=None, cwd=None, timeout=600):
    """Run ``argv`` as ``name`` (:func:`as_user`); its completed process, output as text."""
    return subprocess.run(
        as_user(name, argv, writable, checkout, package, cwd),
        env=user_env(name, package),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class CheckoutSpawner(LocalProcessSpawner):
    """LocalProcessSpawner that starts each server through :func:`as_user`."""

    writable = List(Unicode(), help="folders every user may write besides their home").tag(
        config=True
    )
    package = Unicode(help="the students' release of the course package (see as_user)").tag(
        config=True
    )

    def make_preexec_fn(self, name):
        return None  # bubblewrap needs root to mount; setpriv then becomes the user

    async def start(self):
        self.cmd = as_user(
            self.user.name,
            [sys.executable, "-m", "jupyterhub.singleuser"],
            self.writable,
            package=self.package or None,
        )
        return await super().start()


# --- the hub ---------------------------------------------------------------------------------

HUB_CONFIG = """\
c = get_config()  # noqa: F821
c.JupyterHub.bind_url = "http://127.0.0.1:{port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_port}"
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.pid_file = "proxy.pid"
c.JupyterHub.db_url = "sqlite:///jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "cookie_secret"
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {password!r}
c.Authenticator.allowed_users = set({users!r})
c.JupyterHub.spawner_class = "tests.hub.CheckoutSpawner"
c.CheckoutSpawner.writable = [{exchange!r}]
c.CheckoutSpawner.package = {package!r}
c.Spawner.default_url = "/lab"
c.Spawner.environment = {{"PATH": {path!r}, "PYTHONPATH": {package!r}, "LANG": "C.UTF-8"}}
c.Spawner.http_timeout = 120
c.Spawner.start_timeout = 180
"""

NBGRADER_CONFIG = """\
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = {course!r}
c.Exchange.root = {exchange!r}
"""


class Hub:
    """JupyterHub with its proxy on 127.0.0.1, run as root from ``folder``; a context manager.

    ``users`` may log in with :data:`PASSWORD`; their servers see the exchange at ``exchange``
    and ``package``, the course package they are given (see :func:`as_user`).
    """

    def __init__(self, folder, users, exchange, package):
        self.folder, self.users, self.exchange = Path(folder), list(users), str(exchange)
        self.package = str(package)
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = self.folder / "jupyterhub.log"
        self.server = None

    def __enter__(self):
        (self.folder / "jupyterhub_config.py").write_text(
            HUB_CONFIG.format(
                port=self.port,
                hub_port=free_port(),
                proxy_port=free_port(),
                proxy=shutil.which(PROXY),
                password=PASSWORD,
                users=self.users,
                exchange=self.exchange,
                package=self.package,
                path=f"{Path(sys.executable).parent}:/usr/bin:/bin",
            )
        )
        command = [sys.executable, "-m", "jupyterhub", "-f", "jupyterhub_config.py"]
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        self.server = ServerProcess("JupyterHub", command, self.folder, env, self.log)
        self.server.wait_until_answers(f"{self.base}/hub/api/", TIMEOUT_MS / 1000)
        return self

    def __exit__(self, *exc):
        """Stop the hub (it stops the users' servers and its proxy); kill whatever is left."""
        self.server.stop()
        for name in self.users:
            subprocess.run(["pkill", "-KILL", "-u", name], capture_output=True)
        pid_file = self.folder / "proxy.pid"
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()], capture_output=True)


def write_nbgrader_config(name, exchange, **settings):
    """``~/.jupyter/nbgrader_config.py`` of user ``name``: the course and the exchange, and
    ``settings`` (``{"CourseDirectory.root": ...}``)."""
    text = NBGRADER_CONFIG.format(course=COURSE_ID, exchange=str(exchange))
    text += "".join(f"c.{key} = {value!r}\n" for key, value in settings.items())
    write_as(name, ".jupyter/nbgrader_config.py", text)


def write_lab_settings(name):
    """User ``name``'s JupyterLab settings: those of the browser tests (no news pop-up)."""
    for settings, values in LAB_SETTINGS.items():
        write_as(name, f".jupyter/lab/user-settings/{settings}", json.dumps(values))


def write_as(name, relative, text):
    """Write ``text`` to ``relative`` in user ``name``'s home, the file and new folders theirs."""
    user = pwd.getpwnam(name)
    path = Path(user.pw_dir) / relative
    missing = [p for p in reversed(path.parents) if not p.exists()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    for made in [*missing, path]:
        os.chown(made, user.pw_uid, user.pw_gid)
