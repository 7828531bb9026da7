"""Real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1, for the tests that grade
through Dask (tests/test_dask_engine.py, and tests/test_adversarial.py's Dask pass).

Each process runs in a folder of its own, so nothing relies on a disk shared with the
coordinator.
"""

import os
import signal
import socket
import subprocess
import time
from contextlib import contextmanager

from autograder.dask_engine import scheduler_command, worker_command
from tests.processes import free_port


class Cluster:
    """A scheduler and workers, each a process group of its own in a folder of its own."""

    def __init__(self, root):
        self.root, self.procs = root, {}
        self.port = free_port()
        self.address = f"tcp://127.0.0.1:{self.port}"

    def start(self, name, command):
        """Start ``command`` in ``<root>/<name>/cwd``; return the Popen."""
        cwd = self.root / name / "cwd"
        cwd.mkdir(parents=True)
        log = open(self.root / name / "log.txt", "wb")
        self.procs[name] = subprocess.Popen(
            command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self.procs[name]

    def start_worker(self, name):
        local = self.root / name / "local"
        return self.start(name, worker_command(self.address, local_directory=local, name=name))

    def local_directory(self, name):
        return self.root / name / "local"

    def kill(self, name):
        proc = self.procs.pop(name)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()

    def stop(self):
        """SIGTERM to each nanny (its worker closes its sandboxes), then to the scheduler; SIGKILL
        what is left after 30 s."""
        workers = [n for n in self.procs if n != "scheduler"]
        for group in (workers, [n for n in self.procs if n == "scheduler"]):
            for name in group:
                self.procs[name].send_signal(signal.SIGTERM)
            for name in group:
                try:
                    self.procs[name].wait(timeout=30)
                except subprocess.TimeoutExpired:
                    pass
                self.kill(name)


@contextmanager
def running_cluster(root, workers=("a", "b")):
    """``(Cluster, distributed.Client)``: a scheduler and the named workers, one sandbox each,
    under ``root``; all stopped afterwards."""
    import distributed

    cluster = Cluster(root)
    try:
        cluster.start("scheduler", scheduler_command(port=cluster.port))
        deadline = time.monotonic() + 60
        while socket.socket().connect_ex(("127.0.0.1", cluster.port)) != 0:
            assert time.monotonic() < deadline, (root / "scheduler" / "log.txt").read_text()
            time.sleep(0.2)
        for name in workers:
            cluster.start_worker(name)
        with distributed.Client(cluster.address, timeout="60s") as client:
            client.wait_for_workers(len(workers), timeout=120)
            yield cluster, client
    finally:
        cluster.stop()
