"""The grader on Dask distributed: real ``dask scheduler`` and ``dask worker`` processes on 127.0.0.1.

Each worker has its own local directory and working folder, so nothing relies
on a disk shared with the coordinator. A small class of chapter 01 graded
through them gets the very grades and flags of the local path; a worker
killed mid-batch loses no student and counts none twice.
"""

import csv
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import nbformat
import pytest

from autograder.course import REPO, notebook_stem
from autograder.dask_engine import scheduler_command, task_key, worker_command
from autograder.grade import grade_class
from autograder.mutants import mutants_for
from autograder.sandbox import unavailable_reason
from autograder.submissions import fill, released_notebook, solution_answers, write_submission
from tests.conftest import class_notebooks
from tests.dask_cluster import Cluster, running_cluster
from tests.processes import processes_mentioning

distributed = pytest.importorskip("distributed")

pytestmark = [
    pytest.mark.xdist_group("dask_engine"),
    pytest.mark.skipif(
        unavailable_reason() is not None, reason=f"no sandbox here: {unavailable_reason()}"
    ),
]
ASSIGNMENT = "01_gradient_descent"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """``(Cluster, Client)``: a scheduler and workers ``a`` and ``b``, one sandbox each."""
    with running_cluster(tmp_path_factory.mktemp("dask")) as running:
        yield running


PROBE = """import socket as _probe
try:
    _probe.create_connection(("127.0.0.1", {port}), timeout=5).close()
    print("PROBE: reached the scheduler")
except OSError as _error:
    print("PROBE: no connection:", type(_error).__name__)
"""


@pytest.fixture(scope="module")
def class_folder(cluster, tmp_path_factory):
    """Solution, untouched, a mutant, a byte-identical copy of the solution, no notebook, and a
    correct student whose first cell tries to connect to the scheduler."""
    folder = tmp_path_factory.mktemp("class") / "submissions"
    notebooks = class_notebooks(ASSIGNMENT)
    chosen = ["solution", "untouched", f"mutant-{mutants_for(ASSIGNMENT)[0].name}"]
    for student in chosen:
        write_submission(notebooks[student], folder, student, ASSIGNMENT)
    write_submission(notebooks["solution"], folder, "solution-copy", ASSIGNMENT)
    answers = solution_answers(ASSIGNMENT)
    probe = PROBE.format(port=cluster[0].port) + answers["ch01_forward"]
    prober = fill(released_notebook(ASSIGNMENT), {**answers, "ch01_forward": probe})
    write_submission(prober, folder, "prober", ASSIGNMENT)
    (folder / "no-notebook").mkdir()
    (folder / "no-notebook" / "notes.txt").write_text("forgot the notebook")
    return folder


@pytest.fixture(scope="module")
def local(class_folder, tmp_path_factory):
    """``(workdir, {student: summary})`` of the class graded by the local path."""
    workdir = tmp_path_factory.mktemp("local") / "work"
    results = grade_class(class_folder, ASSIGNMENT, workdir=workdir)
    return workdir, {r.student: _summary(r) for r in results}


def _summary(result):
    """What must agree between engines: status, points per cell, flags, reasons."""
    cells = {g: (c.score, c.max_score, c.reason) for g, c in result.cells.items()}
    return (
        str(result.status),
        result.auto_score,
        sorted(map(str, result.flags)),
        result.reason,
        cells,
    )


def _gradebook_scores(workdir):
    """``{student: {grade cell: score}}`` from a workdir's gradebook."""
    from nbgrader.api import Gradebook

    with warnings.catch_warnings(), Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
        warnings.simplefilter("ignore")
        return {
            sub.student.id: {
                g.name: g.score
                for g in gb.find_submission_notebook(
                    notebook_stem(ASSIGNMENT), ASSIGNMENT, sub.student.id
                ).grades
            }
            for sub in gb.find_assignment(ASSIGNMENT).submissions
        }


def _listening(port):
    """The local addresses (hex, as in /proc/net/tcp*) of sockets listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                found.append(local.rsplit(":", 1)[0])
    return found


def test_the_cluster_listens_on_127_0_0_1_only_by_default(cluster):
    """Dask runs pickled code: the scheduler and the workers bind the loopback address unless told."""
    cluster, client = cluster
    assert _listening(cluster.port) == ["0100007F"]  # 127.0.0.1, and no IPv6 or wildcard socket
    workers = client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    for address in workers:
        assert _listening(int(address.rsplit(":", 1)[1])) == ["0100007F"]


def test_dask_gives_the_grades_of_the_local_path(cluster, class_folder, local, tmp_path):
    """Same scores, flags and reasons; the sandbox cannot reach the scheduler; the coordinator
    alone writes; a rerun grades nothing again."""
    cluster, client = cluster
    local_workdir, expected = local
    workdir = tmp_path / "work"
    results = grade_class(class_folder, ASSIGNMENT, workdir=workdir, scheduler=client)
    assert {r.student: _summary(r) for r in results} == expected
    assert expected["solution"][1] == 28 and expected["untouched"][1] == 0
    assert expected["no-notebook"][0] == "not graded"
    assert _gradebook_scores(workdir) == _gradebook_scores(local_workdir)
    graded = sorted(s for s, summary in expected.items() if summary[0] == "graded")
    stem = notebook_stem(ASSIGNMENT)
    for student in graded:
        assert (workdir / "feedback" / student / ASSIGNMENT / f"{stem}.html").is_file()
        assert (workdir / "autograded" / student / ASSIGNMENT / f"{stem}.ipynb").is_file()
    stored = sorted(p.stem for p in (local_workdir / "results").glob("*.json"))
    assert sorted(p.stem for p in (workdir / "results").glob("*.json")) == stored
    assert expected["prober"][1] == 28, "a probe that must not change the grade"
    probed = nbformat.read(workdir / "autograded" / "prober" / ASSIGNMENT / f"{stem}.ipynb", 4)
    printed = [o.get("text", "") for c in probed.cells for o in c.get("outputs", [])]
    (probe,) = [t for t in printed if "PROBE" in t]  # the sandbox's 127.0.0.1 is its own
    assert probe.startswith("PROBE: no connection"), probe
    assert not (workdir / "jupyter").exists(), "the coordinator made a sandbox"
    # each worker prepared the chapter in its own local directory, and kept no student there
    stations = {
        n: list(cluster.local_directory(n).glob(f"**/backproplab/{ASSIGNMENT}-*")) for n in "ab"
    }
    assert all(list(s.glob("reference/*.json")) for found in stations.values() for s in found)
    assert sum(map(len, stations.values())) >= 1
    for station in (s for found in stations.values() for s in found):
        kinds = ("submitted", "autograded", "feedback", "incoming", "results")
        assert [p.name for kind in kinds for p in (station / kind).glob("sub-*")] == []
    rows = list(csv.DictReader(open(workdir / "grades.csv")))
    assert sorted(r["student"] for r in rows) == sorted(expected)
    stamps = {p: p.stat().st_mtime_ns for p in (workdir / "results").glob("*.json")}
    again = grade_class(class_folder, ASSIGNMENT, workdir=workdir, scheduler=cluster.address)
    assert {r.student: _summary(r) for r in again} == expected
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps, "a finished student was regraded"


def test_same_submission_same_key_other_grader_other_key():
    """Keys name the chapter, the submission and the grader: a rerun or a copy reuses the task."""
    from autograder.messages import Job

    job = Job(ASSIGNMENT, "w", 30, False, [], grading_digest="g1")
    key = task_key(job, "abc:g1", 300)
    assert key == task_key(job, "abc:g1", 300) and ASSIGNMENT in key
    assert key != task_key(job, "abd:g1", 300)
    assert key != task_key(Job(ASSIGNMENT, "w", 30, False, [], grading_digest="g2"), "abc:g2", 300)
    assert key != task_key(job, "abc:g1", 60)


def test_a_worker_with_another_grader_refuses_and_plain_tcp_afar_is_warned(tmp_path, capsys):
    """A worker whose grading digest differs from the coordinator's refuses before preparing
    anything; reaching a scheduler on another machine without TLS prints a warning."""
    from autograder.dask_engine import ClusterCannotGrade, prepare_station, warn_if_exposed
    from autograder.messages import Job

    job = Job(ASSIGNMENT, "w", 30, False, [], grading_digest="0" * 64)
    with pytest.raises(ClusterCannotGrade, match="differs from the coordinator"):
        prepare_station(job, tmp_path)
    assert list(tmp_path.iterdir()) == []
    warn_if_exposed("tcp://127.0.0.1:8786", None)
    warn_if_exposed("tls://10.0.0.5:8786", None)
    assert capsys.readouterr().err == ""
    warn_if_exposed("tcp://10.0.0.5:8786", None)
    assert "without TLS" in capsys.readouterr().err


def test_a_worker_killed_mid_batch_loses_nothing_and_counts_nothing_twice(
    cluster, class_folder, local, tmp_path
):
    """SIGKILL a worker while it grades: its student goes to another worker; one row and one
    submission per student, with the local path's points; none of its sandboxes survives."""
    cluster, client = cluster
    _, expected = local
    cluster.start_worker("c")
    client.wait_for_workers(3, timeout=120)
    (c_address,) = [a for a, w in client.scheduler_info()["workers"].items() if w["name"] == "c"]
    workdir = tmp_path / "work"
    command = [sys.executable, "-m", "autograder", "grade", str(class_folder), "--chapter"]
    command += [ASSIGNMENT, "--workdir", str(workdir), "--scheduler", cluster.address]
    run = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not client.processing(workers=[c_address]).get(c_address):
        assert run.poll() is None and time.monotonic() < deadline, "worker c never got a student"
        time.sleep(0.1)
    lost = client.processing(workers=[c_address])[c_address]
    time.sleep(1.0)  # c is now preparing the chapter or grading in its sandbox
    cluster.kill("c")
    out, err = run.communicate(timeout=240)
    assert run.returncode == 0, err.decode()[-2000:]
    assert lost and not any(name in err.decode() for name in ("Traceback", "KilledWorker"))
    rows = list(csv.DictReader(open(workdir / "grades.csv")))
    assert sorted(r["student"] for r in rows) == sorted(expected), "a student lost or counted twice"
    for r in rows:
        assert float(r["auto_score"]) == expected[r["student"]][1]
        assert r["status"] == expected[r["student"]][0]
    graded = sorted(s for s, summary in expected.items() if summary[0] == "graded")
    assert sorted(_gradebook_scores(workdir)) == graded
    deadline = time.monotonic() + 15
    while processes_mentioning(str(cluster.local_directory("c"))):
        assert time.monotonic() < deadline, "a sandbox of the killed worker survives"
        time.sleep(0.2)


@pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl to make test certificates")
def test_tls_cluster_refuses_clients_without_its_certificates(tmp_path):
    """Scheduler and worker started with TLS files: a client with them runs a sandbox task;
    plain TCP and a certificate the cluster's CA did not sign are refused."""
    from autograder.dask_engine import security_for

    tls = _certificates(tmp_path / "certs")
    cluster = Cluster(tmp_path / "cluster")
    address = f"tls://127.0.0.1:{cluster.port}"
    try:
        cluster.start("scheduler", scheduler_command(port=cluster.port, **tls))
        local = cluster.local_directory("w")
        cluster.start("w", worker_command(address, local_directory=local, **tls))
        with distributed.Client(address, security=security_for(**tls), timeout="60s") as client:
            client.wait_for_workers(1, timeout=120)
            assert client.submit(sum, [40, 2], resources={"sandbox": 1}).result() == 42
        with pytest.raises((OSError, TimeoutError)):  # plain TCP
            distributed.Client(f"tcp://127.0.0.1:{cluster.port}", timeout="5s")
        stranger = _certificates(tmp_path / "stranger")  # a certificate of another CA
        security = security_for(tls["tls_ca_file"], stranger["tls_cert"], stranger["tls_key"])
        with pytest.raises((OSError, TimeoutError)):
            distributed.Client(address, security=security, timeout="5s")
    finally:
        cluster.stop()


def _certificates(folder):
    """A throwaway CA and a certificate it signs for 127.0.0.1: ``{tls_ca_file, tls_cert, tls_key}``."""
    folder.mkdir()

    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    new_key = ["-newkey", "rsa:2048", "-nodes"]
    openssl("req", "-x509", *new_key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=backproplab test CA")  # fmt: skip
    openssl("req", *new_key, "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1")
    (folder / "san.txt").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile", "san.txt")  # fmt: skip
    return {
        "tls_ca_file": str(folder / "ca.pem"),
        "tls_cert": str(folder / "node.pem"),
        "tls_key": str(folder / "node.key"),
    }
