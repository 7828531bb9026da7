"""The sandboxed kernel launcher: the ``argv`` of the ``backproplab-sandbox`` kernelspec.

``python -m autograder.sandbox_kernel SETTINGS CONNECTION_FILE`` runs as root
in the folder nbgrader executes the notebook in. It re-executes itself inside
new mount, network and PID namespaces (``--inside``), where it

1. copies the working folder (not the notebook) and the connection file to a
   fresh, size-limited tmpfs that becomes the kernel's home and cwd;
2. hides every folder in ``settings.hide`` (and ``/tmp``, ``/var/tmp``,
   ``/dev/shm``) under an empty tmpfs, then puts back the Python
   installation (``settings.expose``) and the IPC socket folder;
3. starts ``ipykernel`` under ``prlimit`` (memory, processes, file size, CPU
   time, no core files) as an unprivileged uid with no capabilities
   (``setpriv``) and a clean environment.

There is no network inside, not even loopback; the grader reaches the kernel
through ZeroMQ IPC sockets in ``settings.ipc_dir``.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

STAGE = Path("/mnt")
HOME = "/tmp/home"
PASSED_ENV = ("NBGRADER_EXECUTION", "NBGRADER_VALIDATING", "BACKPROPLAB_BACKEND", "LANG", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def main(argv):
    if argv[0] == "--inside":
        settings, connection_file, workdir = argv[1:4]
        inside(json.loads(Path(settings).read_text()), connection_file, workdir)
    settings, connection_file = argv
    outer = ["unshare", "--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
    os.execvp("unshare", [*outer, sys.executable, "-m", "autograder.sandbox_kernel", "--inside", settings, connection_file, os.getcwd()])


def run(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def inside(settings, connection_file, workdir):
    """Namespaces are ready and we are still root: build the sandbox, then exec the kernel."""
    run("mount", "--make-rprivate", "/")
    run("mount", "-t", "tmpfs", "-o", "size=1m,mode=700", "tmpfs", str(STAGE))
    stage_home(settings, connection_file, workdir)
    staged = stage_binds([*settings["expose"], settings["ipc_dir"]])
    for path in [*settings["hide"], "/tmp", "/var/tmp", "/dev/shm"]:
        if os.path.isdir(path):
            run("mount", "-t", "tmpfs", "-o", "size=1m,mode=755", "tmpfs", path)
    for source, target in [*staged, (STAGE / "home", HOME)]:
        os.makedirs(target, exist_ok=True)
        run("mount", "--move", str(source), target)
    run("umount", str(STAGE))
    exec_kernel(settings)


def stage_home(settings, connection_file, workdir):
    """A size-limited tmpfs with the working folder's files (no notebooks) and the connection file."""
    home = STAGE / "home"
    home.mkdir()
    run("mount", "-t", "tmpfs", "-o", f"size={settings['scratch_mb']}m,mode=700", "tmpfs", str(home))
    shutil.copytree(workdir, home, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.ipynb", ".ipynb_checkpoints"))
    shutil.copyfile(connection_file, home / ".connection.json")
    for path in [home, *home.rglob("*")]:
        os.chown(path, settings["uid"], settings["uid"], follow_symlinks=False)


def stage_binds(paths):
    """Bind each path under STAGE before it is hidden; return ``(staged, original)`` pairs."""
    pairs = []
    for index, path in enumerate(paths):
        staged = STAGE / f"bind{index}"
        staged.mkdir()
        run("mount", "--bind", path, str(staged))
        pairs.append((staged, path))
    return pairs


def exec_kernel(settings):
    """Replace this process by ipykernel: limited, unprivileged, clean environment."""
    limits = [
        f"--as={settings['memory_bytes']}", f"--nproc={settings['max_processes']}",
        f"--fsize={settings['max_file_bytes']}", f"--cpu={settings['cpu_seconds']}", "--core=0", "--nofile=256",
    ]
    drop = [f"--reuid={settings['uid']}", f"--regid={settings['uid']}", "--clear-groups", "--no-new-privs", "--bounding-set=-all", "--inh-caps=-all"]
    env = {k: os.environ[k] for k in PASSED_ENV if k in os.environ}
    env.update(settings["env"], PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", HOME=HOME, MPLBACKEND="Agg", MPLCONFIGDIR=f"{HOME}/.mpl")
    os.chdir(HOME)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the kernel's own banner; cell output travels over ZeroMQ
    kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", f"{HOME}/.connection.json"]
    os.execvpe("prlimit", ["prlimit", *limits, "--", "setpriv", *drop, "--", *kernel], env)


if __name__ == "__main__":
    main(sys.argv[1:])
