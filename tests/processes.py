"""What runs on this machine, for tests that check a grader leaves nothing behind, and the servers
tests start (a free port, a process that serves until stopped)."""

import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path


class ServerProcess:
    """A server ``name`` run by ``command`` in a process group of its own, its output in ``log``."""

    def __init__(self, name, command, cwd, env, log):
        self.name, self.log = name, Path(log)
        with open(self.log, "w") as out:
            self.proc = subprocess.Popen(
                command,
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_until_answers(self, url, timeout_s):
        """Poll ``url`` until the server answers; raise with the end of its log if it exits or times out."""
        deadline = time.monotonic() + timeout_s
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                with urllib.request.urlopen(url, timeout=5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{self.name} did not start:\n{self.log.read_text()[-3000:]}"
                    ) from None
                time.sleep(0.2)  # polling a process that is starting, not synchronising a browser

    def stop(self):
        """Terminate the server (it stops what it started); kill its process group after 30 s."""
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_mentioning(text):
    """Pids of processes whose command line mentions ``text`` (read from ``/proc``)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if text in cmdline.read_bytes().decode(errors="replace"):
                found.append(int(cmdline.parent.name))
        except OSError:
            continue
    return found
