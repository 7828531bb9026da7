"""The sandboxed kernel, grader side: can this machine sandbox, and the kernelspec.

Student notebooks run in a Jupyter kernel started by
:mod:`autograder.sandbox_kernel` instead of a plain ``ipykernel``: as an
unprivileged user, in fresh mount, network and PID namespaces (``unshare``),
under resource limits (``prlimit``), with the course's private folders
hidden. The kernel talks to the grader over ZeroMQ IPC sockets in a folder
both can reach, since it has no network at all.
"""

import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from autograder.course import REPO

KERNEL_NAME = "backproplab-sandbox"
SANDBOX_UID = 64123  # the first of the uids no account uses: each worker's limits and clean-up are its own
UID_LOCKS = Path(tempfile.gettempdir()) / "backproplab-sandbox-uids"


@dataclass
class SandboxSettings:
    """What the launcher needs; written next to the kernelspec as JSON."""

    hide: list  # folders replaced by an empty tmpfs inside the sandbox
    expose: list  # folders inside hidden ones that the kernel still needs (Python, backproplab)
    ipc_dir: str
    uid: int = SANDBOX_UID
    memory_bytes: int = 4 * 2**30
    max_processes: int = 128
    max_file_bytes: int = 64 * 2**20
    cpu_seconds: int = 300
    scratch_mb: int = 256
    env: dict = field(default_factory=dict)


def unavailable_reason():
    """Why this machine cannot sandbox kernels, or ``None`` when it can."""
    if sys.platform != "linux":
        return "the sandbox needs Linux namespaces"
    if os.geteuid() != 0:
        return "the grader is not running as root (needed to drop to an unprivileged user)"
    missing = [t for t in ("unshare", "setpriv", "prlimit", "mount") if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (Debian package util-linux)"
    probe = subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"cannot create namespaces: {probe.stderr.strip() or probe.returncode}"
    return None


def kernel_needs():
    """The real folders the kernel must see: this Python (venv and base install), the helper package and
    the data beside it (the registry and the shipped backbone weights), wherever the checkout is, /tmp included."""
    import backproplab
    from backproplab.datasets import REPO_DATA

    dirs = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).resolve().parent.parent, Path(backproplab.__file__).parent}
    if REPO_DATA.is_dir():
        dirs.add(REPO_DATA)
    return sorted({str(d.resolve()) for d in dirs})


def default_hidden(workdir, extra=()):
    """Folders the student's code must not read: solutions, grader, gradebook, homes."""
    private = [REPO / name for name in ("solutions", "autograder", "tests", "benchmarks", ".git")]
    return [str(Path(p).resolve()) for p in [*private, workdir, *extra, "/root", "/home"] if Path(p).exists()]


def claim_uid():
    """A sandbox uid no other grading run on this machine holds: ``(uid, lock)``.

    The uid stays claimed while the returned lock file is open, so two graders
    running at once never kill or limit each other's kernels.
    """
    UID_LOCKS.mkdir(mode=0o700, exist_ok=True)
    for uid in range(SANDBOX_UID, SANDBOX_UID + 1000):
        lock = open(UID_LOCKS / str(uid), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, lock
        except BlockingIOError:
            lock.close()
    raise RuntimeError("all 1000 sandbox uids are in use: are that many graders running?")


def install_kernelspec(workdir, worker, uid, hidden_extra=()):
    """Write worker ``worker``'s sandbox kernelspec under ``<workdir>/jupyter``.

    Each worker has its own ``uid`` (see :func:`claim_uid`), so limits and
    clean-up never touch another worker's kernel, and its own IPC folder,
    owned by that uid. Returns ``{"kernel_name", "jupyter_path", "ipc_prefix",
    "uid"}`` for the job.
    """
    workdir = Path(workdir).resolve()
    ipc_dir = Path(tempfile.mkdtemp(prefix="bpl-ipc-"))
    os.chown(ipc_dir, uid, uid)
    settings = SandboxSettings(hide=default_hidden(workdir, hidden_extra), expose=kernel_needs(), ipc_dir=str(ipc_dir), uid=uid)
    kernel_name = f"{KERNEL_NAME}-{worker}"
    spec_dir = workdir / "jupyter" / "kernels" / kernel_name
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "settings.json").write_text(json.dumps(asdict(settings), indent=2))
    spec = {
        "argv": [sys.executable, "-m", "autograder.sandbox_kernel", str(spec_dir / "settings.json"), "{connection_file}"],
        "display_name": "Backprop Lab sandbox",
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=2))
    return {"kernel_name": kernel_name, "jupyter_path": str(workdir / "jupyter"), "ipc_prefix": str(ipc_dir / "kernel"), "uid": uid}


def kill_sandbox_processes(uid):
    """SIGKILL every process still running as the sandbox user (a fork bomb's leftovers)."""
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(line for line in status.read_text().splitlines() if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(uid_line.split()[1]) == uid:
            try:
                os.kill(int(status.parent.name), 9)
            except (ProcessLookupError, PermissionError):
                pass
