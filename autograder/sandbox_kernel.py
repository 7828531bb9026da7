"""The sandboxed kernel launcher: the ``argv`` of the ``backproplab-sandbox`` kernelspec.

``python -m autograder.sandbox_kernel SETTINGS CONNECTION_FILE`` runs in the
folder nbgrader executes the notebook in and replaces itself by Debian's
``bwrap`` (bubblewrap), which starts the kernel in an **allow-list** root:

- new user (when not root), mount, PID, network, IPC and UTS namespaces, and
  its own ``/proc``; no access to the kernel's keyrings (a seccomp filter,
  :mod:`autograder.seccomp`); no ``/sys``, no network at all (not even the host's
  loopback), a minimal ``/dev``;
- read-only: ``/usr`` (with the ``/bin``, ``/lib`` links), this Python
  (venv and base install), the helper package and ``data/``
  (``settings.expose``); nothing else of the machine exists inside;
- writable: a size-capped tmpfs ``/tmp`` with the home (``/tmp/home``,
  which receives the working folder's files, not the notebooks, and a copy of
  the grader's matplotlib font list, ``settings.mpl_cache``) and the
  worker's IPC socket folder, through which the grader talks to the kernel.

Before that, the launcher joins the worker's control group, where the machine
allows one (:mod:`autograder.cgroups`): memory and processes of the whole
sandbox together are capped. Inside, ``prlimit`` caps memory, processes,
file size and CPU time per process and turns off core files; as root, ``setpriv`` then drops to the worker's unprivileged
uid with no capabilities (without root the user namespace already holds no
privilege on the machine). When the kernel ends, the PID namespace ends with
it, and every process the student left behind is killed.
"""

import json
import os
import sys
from pathlib import Path

from autograder import cgroups, seccomp

HOME = "/tmp/home"
SUBMITTED = "/tmp/.submitted"
CONNECTION = "/tmp/.connection.json"
MPL_CACHE = "/tmp/.matplotlib"  # the grader's font list (settings.mpl_cache), copied into the home
PASSED_ENV = (
    "NBGRADER_EXECUTION",
    "NBGRADER_VALIDATING",
    "BACKPROPLAB_BACKEND",
    "LANG",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
)

# Run inside, as the first Python process: copy the working folder and the font list into the home,
# then exec the rest.
STAGE = """
import os, shutil, sys
uid, home, submitted, connection, fonts = int(sys.argv[1]), *sys.argv[2:6]
rest = sys.argv[6:]
shutil.copytree(submitted, home, dirs_exist_ok=True, symlinks=True,
                ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
shutil.copyfile(connection, home + "/.connection.json")
if os.path.isdir(fonts):
    shutil.copytree(fonts, home + "/.mpl", dirs_exist_ok=True)
if os.geteuid() == 0:
    for root, dirs, files in os.walk(home):
        for name in [root, *(os.path.join(root, n) for n in dirs + files)]:
            os.chown(name, uid, uid, follow_symlinks=False)
os.chdir(home)
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # the kernel's own banner; cell output travels over ZeroMQ
os.execvp(rest[0], rest)
"""


def main(argv):
    settings_file, connection_file = argv
    settings = json.loads(Path(settings_file).read_text())
    # the whole sandbox, every process it starts, shares the group's caps
    cgroups.join(settings.get("cgroups"))
    argv = bwrap_argv(
        settings, connection_file, os.getcwd(), os.geteuid() == 0, seccomp_fd=seccomp.filter_fd()
    )
    os.execvpe("bwrap", argv, kernel_environment(settings))


def bwrap_argv(settings, connection_file, workdir, as_root, program=None, seccomp_fd=None):
    """The whole ``bwrap`` command line: namespaces, the allow-listed root, then the limited kernel.

    ``program`` replaces ipykernel (the tests run probes in the very same sandbox).
    ``seccomp_fd``: an inherited descriptor holding :func:`autograder.seccomp.keyring_filter`.
    """
    seccomp_args = ["--seccomp", str(seccomp_fd)] if seccomp_fd is not None else []
    return [
        "bwrap",
        *namespaces(settings, as_root),
        *seccomp_args,
        *root_filesystem(settings, as_root),
        "--ro-bind",
        workdir,
        SUBMITTED,
        "--ro-bind",
        connection_file,
        CONNECTION,
        *(["--ro-bind", settings["mpl_cache"], MPL_CACHE] if settings.get("mpl_cache") else []),
        "--chdir",
        "/tmp",
        "--",
        *kernel_command(settings, as_root, program),
    ]


def namespaces(settings, as_root):
    """Everything unshared; without root, a user namespace whose only user is the sandbox uid."""
    flags = [
        "--unshare-ipc",
        "--unshare-pid",
        "--unshare-net",
        "--unshare-uts",
        "--unshare-cgroup-try",
        "--hostname",
        "sandbox",
        "--die-with-parent",
        "--new-session",
    ]
    if not as_root:
        flags += [
            "--unshare-user",
            "--uid",
            str(settings["uid"]),
            "--gid",
            str(settings["uid"]),
            "--cap-drop",
            "ALL",
        ]
    return flags


def root_filesystem(settings, as_root):
    """``/usr`` and the exposed folders read-only, a fresh ``/proc`` and ``/dev``, capped tmpfs for /tmp and home."""
    args = system_folders()
    scratch = str(settings["scratch_mb"] * 2**20)
    args += [
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--perms",
        "1777",
        "--size",
        scratch,
        "--tmpfs",
        "/tmp",
    ]
    for folder in parent_folders([*settings["expose"], settings["ipc_dir"]]):
        # bwrap would copy the mode of /root (0700) and lock us out
        args += ["--perms", "0755", "--dir", folder]
    for path in settings["expose"]:
        args += ["--ro-bind", path, path]
    args += ["--bind", settings["ipc_dir"], settings["ipc_dir"]]
    args += ["--perms", "0777" if as_root else "0700", "--size", scratch, "--tmpfs", HOME]
    return args


def system_folders():
    """bubblewrap's arguments for ``/usr`` and the top folders beside it (``/bin``, ``/lib``...), read-only."""
    args = ["--ro-bind", "/usr", "/usr"]
    for top in ("bin", "sbin", "lib", "lib32", "lib64"):
        path = Path("/") / top
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    return args


def parent_folders(paths):
    """The folders above ``paths`` that bwrap must create (not ``/``, ``/tmp`` or what ``/usr`` brings), top first."""
    parents = {str(q) for p in paths for q in Path(p).parents}
    given = {"/", "/tmp", "/usr"}
    return sorted(
        (p for p in parents if p not in given and not p.startswith("/usr/")),
        key=lambda p: p.count("/"),
    )


def kernel_command(settings, as_root, program=None):
    """prlimit, then the staging step, then (as root) setpriv to the sandbox uid, then ipykernel (or ``program``)."""
    limits = [
        f"--as={settings['memory_bytes']}",
        f"--nproc={settings['max_processes']}",
        f"--fsize={settings['max_file_bytes']}",
        f"--cpu={settings['cpu_seconds']}",
        "--core=0",
        "--nofile=256",
    ]
    uid = str(settings["uid"])
    drop = (
        [
            "setpriv",
            f"--reuid={uid}",
            f"--regid={uid}",
            "--clear-groups",
            "--no-new-privs",
            "--bounding-set=-all",
            "--inh-caps=-all",
            "--",
        ]
        if as_root
        else []
    )
    kernel = program or [
        sys.executable,
        "-m",
        "ipykernel_launcher",
        "-f",
        f"{HOME}/.connection.json",
    ]
    stage = [sys.executable, "-c", STAGE, uid, HOME, SUBMITTED, CONNECTION, MPL_CACHE]
    return ["prlimit", *limits, "--", *stage, *drop, *kernel]


def kernel_environment(settings):
    """A clean environment: only what grading needs, and the home inside the sandbox."""
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(
        settings["env"],
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        HOME=HOME,
        MPLBACKEND="Agg",
        MPLCONFIGDIR=f"{HOME}/.mpl",
    )
    return env


if __name__ == "__main__":
    main(sys.argv[1:])
