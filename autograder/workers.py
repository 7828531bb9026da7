"""Worker processes that grade students, each job under an outer time limit.

A :class:`Worker` is a long-lived ``python -m autograder.grade_one`` process
(so imports and nbgrader's start-up are paid once). The parent hands it a
job file and waits for the job's result file; a worker that overruns is
killed with its whole process group and everything its sandbox uid still
runs, and a fresh one takes its place.
"""

import ctypes
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from autograder import cgroups
from autograder.sandbox import claim_uid, install_kernelspec, kill_sandbox_processes


class Worker:
    """One grading process; ``settings`` (kernel name, uid...) go into each of its jobs."""

    def __init__(self, settings, uid_lock=None):
        self.settings = settings
        self.uid_lock = uid_lock
        self.proc = None

    @classmethod
    def sandboxed(cls, workdir, index, workers=1):
        """A worker whose kernels run in the sandbox under a uid claimed for it alone; ``workers``
        of them grade at once."""
        uid, lock = claim_uid()
        kill_sandbox_processes(uid)  # left by a grader that was killed: nobody else holds the uid
        return cls(install_kernelspec(workdir, index, uid, sandboxes=workers), lock)

    def run(self, job_file, result_file, timeout):
        """Grade one job; return ``None`` when its result file appeared, else the failure."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "autograder.grade_one"],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
                preexec_fn=_die_with_parent,
            )
        self.proc.stdin.write(f"{job_file}\n")
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        while not Path(result_file).exists():
            if self.proc.poll() is not None:
                self.stop()
                return "crash"
            if time.monotonic() > deadline:
                self.stop()
                return "timeout"
            time.sleep(0.05)
        self.tidy()
        return None

    def tidy(self):
        """Between students: kill what the sandbox uid still runs and empty the IPC folder (no file crosses over)."""
        if self.settings.get("uid") is not None:
            # leftovers must not count against the next student
            kill_sandbox_processes(self.settings["uid"])
        if self.settings.get("ipc_prefix"):
            for entry in Path(self.settings["ipc_prefix"]).parent.iterdir():
                shutil.rmtree(entry) if entry.is_dir() and not entry.is_symlink() else entry.unlink(
                    missing_ok=True
                )

    def stop(self):
        """Kill the worker, its process group, and whatever its sandbox uid still runs."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None
        if self.settings.get("uid") is not None:
            kill_sandbox_processes(self.settings["uid"])

    def close(self):
        """Stop the worker, remove its IPC folder and give its sandbox uid back."""
        self.stop()
        if self.settings.get("ipc_prefix"):
            shutil.rmtree(Path(self.settings["ipc_prefix"]).parent, ignore_errors=True)
        cgroups.remove(self.settings.get("cgroups"))
        if self.uid_lock is not None:
            self.uid_lock.close()
            self.uid_lock = None


def _die_with_parent():
    """In the child: get SIGKILL when the grader dies, so a killed run leaves no worker."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


PR_SET_PDEATHSIG = 1


def run_all(workers, tasks):
    """Run ``task(worker)`` for every task, each worker taking the next one; keep order."""
    results = [None] * len(tasks)
    queue = list(enumerate(tasks))
    lock = threading.Lock()

    def drain(worker):
        while True:
            with lock:
                if not queue:
                    return
                index, task = queue.pop(0)
            results[index] = task(worker)

    threads = [threading.Thread(target=drain, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for w in workers:
        w.close()
    return results
