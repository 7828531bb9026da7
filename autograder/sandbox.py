"""The sandboxed kernel, grader side: can this machine sandbox, and the kernelspec.

Student notebooks run in a Jupyter kernel started by
:mod:`autograder.sandbox_kernel` instead of a plain ``ipykernel``: in
bubblewrap's allow-list root (only ``/usr``, this Python, the helper package
and ``data/``, read-only), in fresh user, mount, PID, network, IPC and UTS
namespaces, under resource limits (``prlimit``), as an unprivileged uid. It
works as root and, where the kernel allows unprivileged user namespaces (as
Debian and Ubuntu do), as any user. The kernel talks to the grader over
ZeroMQ IPC sockets in a folder both can reach, since it has no network at all.
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

from autograder import cgroups

KERNEL_NAME = "backproplab-sandbox"
# how many threads a sandboxed kernel's NumPy (BLAS) and PyTorch may use; default: sandbox_threads()
THREADS_ENV = "BACKPROPLAB_SANDBOX_THREADS"
# the first of the uids no account uses: each worker's limits and clean-up are its own
SANDBOX_UID = 64123


def uid_locks():
    """Where graders claim sandbox uids: one machine-wide folder for root's graders (whose uids are real),
    the user's own cache otherwise (rootless uids exist only inside each user namespace)."""
    if os.geteuid() == 0:
        return Path(tempfile.gettempdir()) / "backproplab-sandbox-uids"
    return (
        Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
        / "backproplab"
        / "sandbox-uids"
    )


@dataclass
class SandboxSettings:
    """What the launcher needs; written next to the kernelspec as JSON."""

    # the only folders (besides /usr) the kernel sees, read-only: Python, backproplab, data
    expose: list
    ipc_dir: str
    uid: int = SANDBOX_UID
    memory_bytes: int = 4 * 2**30
    max_processes: int = 128
    max_file_bytes: int = 64 * 2**20
    cpu_seconds: int = 300
    scratch_mb: int = 256
    env: dict = field(default_factory=dict)
    # the worker's control groups (autograder.cgroups), where the machine allows them
    cgroups: list = None
    # matplotlib's font list, made once per grading folder (font_cache); each kernel's home gets a copy
    mpl_cache: str = None


def unavailable_reason():
    """Why this machine cannot sandbox kernels, or ``None`` when it can."""
    if sys.platform != "linux":
        return "the sandbox needs Linux namespaces"
    if shutil.which("bwrap") is None:
        return "bubblewrap is not installed (apt-get install bubblewrap)"
    missing = [t for t in ("setpriv", "prlimit") if shutil.which(t) is None]
    if missing:
        return f"missing tools: {', '.join(missing)} (Debian package util-linux)"
    user = [] if os.geteuid() == 0 else ["--unshare-user"]
    probe = subprocess.run(
        [
            "bwrap",
            "--ro-bind",
            "/",
            "/",
            *user,
            "--unshare-pid",
            "--unshare-net",
            "--unshare-ipc",
            "--unshare-uts",
            "--proc",
            "/proc",
            "true",
        ],
        capture_output=True,
        text=True,
    )
    if probe.returncode != 0:
        hint = (
            ""
            if os.geteuid() == 0
            else " (unprivileged user namespaces are off here: grade as root, or ask for them)"
        )
        return (
            f"bubblewrap cannot create namespaces: {probe.stderr.strip() or probe.returncode}{hint}"
        )
    return None


def kernel_needs():
    """The real folders the kernel must see: this Python (venv and base install), the helper package and
    the data beside it (the registry and the shipped backbone weights), wherever the checkout is, /tmp included."""
    import backproplab
    from backproplab.datasets import REPO_DATA

    dirs = {
        Path(sys.prefix),
        Path(sys.base_prefix),
        Path(sys.executable).resolve().parent.parent,
        Path(backproplab.__file__).parent,
    }
    if REPO_DATA.is_dir():
        dirs.add(REPO_DATA)
    return sorted({str(d.resolve()) for d in dirs})


def font_cache(folder):
    """Make matplotlib's font list in ``folder`` unless it is there; return the folder, or None.

    Each kernel starts with an empty home, where matplotlib would scan the machine's fonts again
    (0.1-0.2 s a student); the launcher copies this list into the home instead. The grader makes
    it once per grading folder, never student code, and each kernel gets its own copy. Workers
    that start together each build into a folder of their own and rename it into place, so none
    reads a half-written list.
    """
    folder = Path(folder)
    if not any(folder.glob("fontlist-*.json")):
        folder.parent.mkdir(parents=True, exist_ok=True)
        building = Path(tempfile.mkdtemp(prefix=".fonts-", dir=folder.parent))
        building.chmod(0o755)  # the sandbox's user reads it
        subprocess.run(
            [sys.executable, "-c", "import matplotlib.font_manager"],
            env={**os.environ, "MPLCONFIGDIR": str(building)},
            capture_output=True,
            timeout=300,
        )
        try:
            building.rename(folder)  # fails when another worker's list got there first
        except OSError:
            shutil.rmtree(building, ignore_errors=True)
    return str(folder) if any(folder.glob("fontlist-*.json")) else None


def sandbox_threads(sandboxes=1):
    """Threads for each of ``sandboxes`` kernels running at once: ``$BACKPROPLAB_SANDBOX_THREADS``,
    else this process's CPUs shared among them (at least one). More threads than CPUs slow
    everybody down: BLAS and OpenMP threads wait for each other by spinning."""
    given = os.environ.get(THREADS_ENV)
    if given is None:
        return max(1, len(os.sched_getaffinity(0)) // max(1, sandboxes))
    if not given.isdigit() or int(given) < 1:
        raise ValueError(
            f"{THREADS_ENV} must be a whole number of threads, at least 1, not {given!r}"
        )
    return int(given)


def thread_limits(threads):
    """The environment that caps OpenBLAS, OpenMP (PyTorch) and MKL at ``threads`` threads."""
    return {
        name: str(threads)
        for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }


def claim_uid():
    """A sandbox uid no other grading run on this machine holds: ``(uid, lock)``.

    The uid stays claimed while the returned lock file is open, so two graders
    running at once never kill or limit each other's kernels.
    """
    locks = uid_locks()
    locks.mkdir(mode=0o700, parents=True, exist_ok=True)
    for uid in range(SANDBOX_UID, SANDBOX_UID + 1000):
        lock = open(locks / str(uid), "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return uid, lock
        except BlockingIOError:
            lock.close()
    raise RuntimeError("all 1000 sandbox uids are in use: are that many graders running?")


def install_kernelspec(workdir, worker, uid, sandboxes=1):
    """Write worker ``worker``'s sandbox kernelspec under ``<workdir>/jupyter``; ``sandboxes``
    workers grade at once on this machine and share its CPUs (:func:`sandbox_threads`).

    Each worker has its own ``uid`` (see :func:`claim_uid`), so limits and
    clean-up never touch another worker's kernel, its own IPC folder, owned by
    that uid, and, where the machine allows, its own control group capping
    the memory and processes of the whole sandbox. Returns ``{"kernel_name",
    "jupyter_path", "ipc_prefix", "uid", "cgroups"}`` for the job.
    """
    workdir = Path(workdir).resolve()
    ipc_dir = Path(tempfile.mkdtemp(prefix="bpl-ipc-"))
    if os.geteuid() == 0:
        os.chown(ipc_dir, uid, uid)
    settings = SandboxSettings(
        expose=kernel_needs(),
        ipc_dir=str(ipc_dir),
        uid=uid,
        env=thread_limits(sandbox_threads(sandboxes)),
    )
    settings.cgroups = cgroups.create(
        f"backproplab-{uid}", settings.memory_bytes, settings.max_processes
    )
    kernel_name = f"{KERNEL_NAME}-{worker}"
    spec_dir = workdir / "jupyter" / "kernels" / kernel_name
    spec_dir.mkdir(parents=True, exist_ok=True)
    settings.mpl_cache = font_cache(workdir / "jupyter" / "matplotlib")
    (spec_dir / "settings.json").write_text(json.dumps(asdict(settings), indent=2))
    spec = {
        "argv": [
            sys.executable,
            "-m",
            "autograder.sandbox_kernel",
            str(spec_dir / "settings.json"),
            "{connection_file}",
        ],
        "display_name": "Backprop Lab sandbox",
        "language": "python",
        "interrupt_mode": "message",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=2))
    return {
        "kernel_name": kernel_name,
        "jupyter_path": str(workdir / "jupyter"),
        "ipc_prefix": str(ipc_dir / "kernel"),
        "uid": uid,
        "cgroups": settings.cgroups,
    }


def kill_sandbox_processes(uid):
    """SIGKILL every process still running as the sandbox user (a fork bomb's leftovers).

    Only root's sandboxes run under this uid on the machine; without root, the
    kernel's PID namespace ends with the kernel and takes its processes along.
    """
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            uid_line = next(
                line for line in status.read_text().splitlines() if line.startswith("Uid:")
            )
        except (OSError, StopIteration):
            continue
        if int(uid_line.split()[1]) == uid:
            try:
                os.kill(int(status.parent.name), 9)
            except (ProcessLookupError, PermissionError):
                pass
