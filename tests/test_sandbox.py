"""The grading sandbox itself: probes run in the very sandbox a student's kernel gets, as root or not.

Each probe is a small Python program started by ``bwrap_argv`` in place of
ipykernel; it reports on stderr (the sandbox sends stdout to /dev/null, as it
does for the kernel). The adversarial corpus (tests/test_adversarial.py)
attacks the same sandbox through the whole grader.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from autograder import cgroups, seccomp
from autograder.sandbox import claim_uid, install_kernelspec, thread_limits, unavailable_reason
from autograder.sandbox_kernel import bwrap_argv, kernel_environment
from autograder.workers import Worker

pytestmark = pytest.mark.skipif(
    unavailable_reason() is not None, reason=f"no sandbox here: {unavailable_reason()}"
)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """``run(code) -> CompletedProcess``: run Python ``code`` in a fresh sandbox of one worker."""
    root = tmp_path_factory.mktemp("sandbox")
    uid, lock = claim_uid()
    spec = install_kernelspec(root / "work", 0, uid)
    settings = json.loads(
        (root / "work" / "jupyter" / "kernels" / spec["kernel_name"] / "settings.json").read_text()
    )
    submitted = root / "submitted"
    submitted.mkdir()
    (submitted / "answer.ipynb").write_text("{}")
    (submitted / "notes.txt").write_text("the student's own file")
    connection = root / "connection.json"
    connection.write_text("{}")

    def run(code, timeout=60, groups=None):
        """``groups``: control groups to start in (as the launcher joins the worker's), else the worker's own."""
        program = [sys.executable, "-c", textwrap.dedent(code)]
        fd = seccomp.filter_fd()
        argv = bwrap_argv(settings, str(connection), str(submitted), os.geteuid() == 0, program, fd)
        try:
            return subprocess.run(
                argv,
                env=kernel_environment(settings),
                capture_output=True,
                text=True,
                timeout=timeout,
                preexec_fn=lambda: cgroups.join(groups or settings.get("cgroups")),
                pass_fds=[fd],
            )
        finally:
            os.close(fd)

    run.settings = settings
    yield run
    Worker(spec, lock).close()  # its IPC folder, control groups and uid go, as after a grading run


@pytest.fixture
def small_group():
    """A control group of 600 MiB and 40 tasks, or a skip where this machine delegates none to this user."""
    folders = cgroups.create(f"backproplab-probe-{os.getpid()}", 600 * 2**20, 40)
    if folders is None:
        pytest.skip(
            "no control group can be made here: only the per-process limits hold (as the README says)"
        )
    yield folders
    cgroups.remove(folders)


def reported(result):
    """What a probe printed (to stderr), as JSON; fails with its traceback when it crashed."""
    assert result.returncode == 0, result.stderr
    return json.loads(result.stderr.strip().splitlines()[-1])


def test_the_root_holds_only_the_allow_list(sandbox):
    """Nothing of the machine but /usr, the Python, the helper package and data/: every folder on the way to
    them holds only the next step (no /etc, /sys, /home of others, repository secrets)."""
    exposed = [*sandbox.settings["expose"], sandbox.settings["ipc_dir"]]
    ancestors = sorted(
        {str(a) for p in exposed for a in Path(p).parents if not str(a).startswith("/usr")}
    )
    seen = reported(
        sandbox(
            """
        import json, os, sys
        print(json.dumps({a: sorted(os.listdir(a)) for a in %r}), file=sys.stderr)
    """
            % ancestors
        )
    )
    system = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "proc", "dev", "tmp"}
    for folder, names in seen.items():
        allowed = {
            Path(p).relative_to(folder).parts[0]
            for p in exposed
            if Path(p).is_relative_to(folder) and p != folder
        }
        if folder == "/":
            allowed |= system
        if folder == "/tmp":
            allowed |= {"home", ".submitted", ".connection.json", ".matplotlib"}
        assert set(names) <= allowed, f"{folder} shows {sorted(set(names) - allowed)}"
    assert not {"etc", "sys", "run", "var"} & set(seen["/"])


def test_home_holds_the_working_files_but_no_notebook(sandbox):
    """The kernel starts in its home with the student's other files, never a notebook (the grader holds that)."""
    seen = reported(
        sandbox("""
        import json, os, sys
        print(json.dumps({"cwd": os.getcwd(), "files": sorted(os.listdir("."))}), file=sys.stderr)
    """)
    )
    assert seen["cwd"] == "/tmp/home"
    assert "notes.txt" in seen["files"] and "answer.ipynb" not in seen["files"]


def test_matplotlib_finds_the_workers_font_list_and_scans_no_fonts(sandbox):
    """The home holds a copy of the font list the grader made once for the worker, so importing
    matplotlib in the kernel reads it instead of scanning the machine's fonts again."""
    assert sandbox.settings["mpl_cache"], "the worker made no font list"
    result = sandbox("""
        import json, logging, os, sys
        folder = os.environ["MPLCONFIGDIR"]
        before = sorted(os.listdir(folder))
        logging.basicConfig(level=logging.INFO)  # matplotlib says "generated new fontManager"
        import matplotlib.font_manager
        print(json.dumps({"before": before, "folder": folder}), file=sys.stderr)
    """)
    seen = reported(result)
    assert seen["folder"].startswith("/tmp/home/")
    assert [f for f in seen["before"] if f.startswith("fontlist-")], seen["before"]
    assert "generated new fontManager" not in result.stderr


PROBE_THREADS = """
import json, sys
from threadpoolctl import threadpool_info
import numpy
print(json.dumps(sorted({p["num_threads"] for p in threadpool_info()})), file=sys.stderr)
"""


def test_the_kernel_uses_the_threads_the_grader_gives_it(sandbox):
    """NumPy's BLAS in the kernel runs one thread when the settings say one, and every CPU when
    they set no limit, so sandboxes graded at once need not crowd the CPUs."""
    given = sandbox.settings["env"]
    try:
        sandbox.settings["env"] = thread_limits(1)
        one = reported(sandbox(PROBE_THREADS))
        sandbox.settings["env"] = {}
        unlimited = reported(sandbox(PROBE_THREADS))
    finally:
        sandbox.settings["env"] = given
    assert one == [1]
    assert unlimited == [len(os.sched_getaffinity(0))]


def test_everything_outside_home_and_tmp_is_read_only(sandbox):
    """Writing into the Python install, the helper package or /usr fails."""
    import backproplab

    targets = [sys.prefix, os.path.dirname(backproplab.__file__), "/usr/lib"]
    seen = reported(
        sandbox(
            """
        import json, sys
        failed = []
        for folder in %r:
            try:
                open(folder + "/planted.py", "w").write("x = 1")
            except OSError as exc:
                failed.append(exc.errno)
        print(json.dumps(failed), file=sys.stderr)
    """
            % targets
        )
    )
    assert len(seen) == len(targets)


def test_no_capabilities_and_its_own_pid_ipc_and_uts_namespaces(sandbox):
    """No capability; only its own processes in /proc; another hostname; no shared SysV memory."""
    seen = reported(
        sandbox("""
        import json, os, socket, subprocess, sys
        caps = [l.split()[1] for l in open("/proc/self/status") if l.startswith("CapEff")][0]
        pids = [p for p in os.listdir("/proc") if p.isdigit()]
        shm = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
        print(json.dumps({"caps": caps, "pids": len(pids), "host": socket.gethostname(),
                          "shm": [l for l in shm.splitlines() if l[:2] == "0x"]}), file=sys.stderr)
    """)
    )
    assert int(seen["caps"], 16) == 0
    assert seen["pids"] <= 5 and seen["host"] == "sandbox" and seen["shm"] == []


def test_shared_memory_never_reaches_the_next_student(sandbox):
    """A SysV segment made by one student is gone for the next one, and never appears on the machine."""
    made = sandbox("""
        import subprocess, sys
        print(subprocess.run(["ipcmk", "-M", "65536"], capture_output=True, text=True).stdout, file=sys.stderr)
    """)
    assert "Shared memory id" in made.stderr, made.stderr
    seen = reported(
        sandbox("""
        import json, subprocess, sys
        out = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
        print(json.dumps([l for l in out.splitlines() if l[:2] == "0x"]), file=sys.stderr)
    """)
    )
    assert seen == []
    host = subprocess.run(["ipcs", "-m"], capture_output=True, text=True).stdout
    assert made.stderr.split()[-1] not in host.split()


def test_no_network_not_even_the_machines_loopback(sandbox):
    """A server on the machine's 127.0.0.1 is out of reach."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        seen = reported(
            sandbox(
                """
            import json, socket, sys
            try:
                socket.create_connection(("127.0.0.1", %d), timeout=2)
                result = "connected"
            except OSError as exc:
                result = type(exc).__name__
            print(json.dumps(result), file=sys.stderr)
        """
                % port
            )
        )
    assert seen != "connected"


def test_the_home_is_capped(sandbox):
    """Filling the home stops at the sandbox's scratch size, not at the machine's disk."""
    seen = reported(
        sandbox("""
        import json, sys
        written = 0
        try:
            for i in range(100):
                with open(f"/tmp/home/fill{i}", "wb") as f:
                    for _ in range(60):
                        f.write(b"x" * 2**20)
                        written += 2**20
        except OSError as exc:
            pass
        print(json.dumps(written), file=sys.stderr)
    """)
    )
    assert seen <= sandbox.settings["scratch_mb"] * 2**20


def test_processes_left_behind_die_with_the_kernel(sandbox):
    """A daemon that outlives the kernel's main process is killed when the sandbox ends."""
    beacon = os.path.join(sandbox.settings["ipc_dir"], "beacon")
    result = sandbox(
        """
        import os, time
        if os.fork() == 0:
            os.setsid()
            while True:
                with open(%r, "a") as f:
                    f.write(".")
                time.sleep(0.05)
        time.sleep(0.3)
    """
        % beacon
    )
    assert result.returncode == 0, result.stderr
    time.sleep(0.5)
    size = os.path.getsize(beacon)
    time.sleep(0.5)
    assert size > 0 and os.path.getsize(beacon) == size, (
        "the daemon kept writing after its sandbox ended"
    )


def test_memory_is_capped_for_the_whole_sandbox_not_per_process(sandbox, small_group):
    """Four processes of 300 MB each, every one under the per-process cap, cannot all live in a 600 MiB group."""
    seen = reported(
        sandbox(
            """
        import json, os, sys, time
        children = []
        for _ in range(4):
            pid = os.fork()
            if pid == 0:
                block = b"x" * (300 * 2**20)
                time.sleep(3)
                os._exit(0)
            children.append(pid)
        killed = sum(os.WEXITSTATUS(s) != 0 or os.WIFSIGNALED(s) for _, s in (os.waitpid(p, 0) for p in children))
        print(json.dumps(killed), file=sys.stderr)
    """,
            groups=small_group,
        )
    )
    assert seen >= 1, "all four 300 MB processes lived: the memory cap is per process only"


def test_processes_are_capped_for_the_whole_sandbox(sandbox, small_group):
    """Forking stops at the group's 40 tasks, far below the per-uid process limit."""
    seen = reported(
        sandbox(
            """
        import json, os, sys, time
        started = 0
        try:
            for _ in range(100):
                if os.fork() == 0:
                    time.sleep(5)
                    os._exit(0)
                started += 1
        except OSError:
            pass
        print(json.dumps(started), file=sys.stderr)
        sys.stderr.flush()
        os._exit(0)
    """,
            groups=small_group,
        )
    )
    assert seen < 40


KEYCTL = """
        import ctypes, json, sys
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        def call(*args):
            result = libc.syscall(*args)
            return result if result >= 0 else -ctypes.get_errno()
"""  # indented as the probes' own code, which follows it


def test_no_key_crosses_students_through_the_kernels_keyrings(sandbox):
    """A key added to the user or session keyring by one student is refused, and the next finds nothing."""
    added = reported(
        sandbox(
            KEYCTL
            + """
        found = [call(248, b"user", b"bpl-probe", b"secret", 6, ctypes.c_long(ring)) for ring in (-4, -3, -5)]
        print(json.dumps(found), file=sys.stderr)
    """
        )
    )
    assert all(code < 0 for code in added), f"add_key succeeded: {added}"
    searched = reported(
        sandbox(
            KEYCTL
            + """
        print(json.dumps([call(250, 10, ctypes.c_long(ring), b"user", b"bpl-probe", 0) for ring in (-4, -3, -5)]),
              file=sys.stderr)
    """
        )
    )
    assert all(code < 0 for code in searched), f"a keyring answered: {searched}"
