"""Grading throughput: stock nbgrader against our grader, on the same class, in one run.

Usage: ``python benchmarks/grading_throughput.py [--n 100] [--workers 1,2] [--dask 2]``
(run as root: our grader refuses to grade without its sandbox). A quick
check: ``python benchmarks/grading_throughput.py --n 8 --dask 2``.

The class: ``--n`` students (``s000``, ``s001``, ...) of chapter
``01_gradient_descent``, cycling through the demo's four answer sets
(perfect, partial, mistakes, untouched), each notebook made by editing the
released notebook as a student would. It is built once and graded by:

- stock nbgrader: ``release`` into a fresh workdir (which fills its gradebook,
  timed apart), the class copied to ``<workdir>/submitted``, then ONE timed
  loop of ``NbGraderAPI.autograde`` over every student in this process, in
  the plain ``python3`` kernel, without feedback. nbgrader has no parallel
  mode, so stock is measured serially only, whatever ``--workers`` says;
- our grader: ``grade_class(..., workers=w)`` for each ``w`` in ``--workers``,
  each in a fresh workdir. Its time includes the one-time setup (release,
  reference records, sandbox kernelspecs), the sandboxed kernel, the outside
  check of recorded values and the sanitized feedback HTML of every student.
  The setup and the grading phase are also timed apart, and each student's
  own time (``StudentResult.seconds``) is summarised;
- with ``--dask N``: our grader on a Dask cluster started for the run (a real
  ``dask scheduler`` and ``N`` ``dask worker`` processes on 127.0.0.1, one
  sandbox each, each in its own folder). Its setup is the cluster's start and
  the coordinator's release; its grading phase includes each worker's one-time
  preparation of the chapter. The scheduler's own overhead per task is
  measured apart, with empty tasks that need the same ``sandbox`` resource.

Writes ``benchmarks/results/grading_throughput.json`` and prints a table of
seconds, seconds per submission and the ratio ours / stock (serial stock).
The same run checks the grades: every perfect student gets full marks and
every untouched one zero, from both graders, and stock and ours are compared
student by student (informational: the outside check may be stricter). The
script exits with status 1 when a check fails.

Targets: the safety (sandbox, outside check, feedback) costs at most 30 %
over stock nbgrader (our grading phase with 1 worker / stock's loop <= 1.30),
and 100 submissions are graded in under 3 minutes on 2 cores (our total with
2 workers at ``--n 100``). Times are wall-clock and noisy on a busy machine:
the load average before and after is recorded with them.

Run it alone: other graders or test runs share the two CPUs and make every
time noisy (each grader claims its own sandbox uids, so they no longer kill
each other's kernels, but they still compete for the cores). The run samples
for such processes and reports them; ``--wait-quiet SECONDS`` waits for them
to finish before each grader starts.
"""

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

import autograder.grade as grade_module
from autograder.build import release
from autograder.course import nbgrader_config, notebook_stem, put_venv_on_path
from autograder.demo import sample_answers
from autograder.grade import grade_class
from autograder.submissions import fill, released_notebook, write_submission
from report import RESULTS as RESULTS_DIR

ASSIGNMENT = "01_gradient_descent"
RESULTS = RESULTS_DIR / "grading_throughput.json"
SAFETY_TARGET = 1.30  # ours (grading phase, 1 worker) / stock serial
THROUGHPUT_TARGET_S = 180.0  # 100 submissions, 2 workers, everything included


def build_class(folder, n, assignment=ASSIGNMENT):
    """Write ``n`` submissions to ``folder/<student>/<assignment>/``; return ``{student: kind}``.

    No two notebooks are byte for byte the same (each student's first answer cell ends with a
    comment of their own), as in a real class: the Dask engine computes identical submissions
    once (they share a task key), which would flatter it.
    """
    answer_sets = sample_answers(assignment)
    kinds = list(answer_sets)
    notebook = released_notebook(assignment)
    students = {}
    for i in range(n):
        student, kind = f"s{i:03d}", kinds[i % len(kinds)]
        submission = fill(notebook, answer_sets[kind])
        first = next(
            c
            for c in submission.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")
        )
        first.source += f"\n# {student}'s own comment\n"
        write_submission(submission, folder, student, assignment)
        students[student] = kind
    return students


def run_stock(class_folder, students, assignment=ASSIGNMENT):
    """Stock nbgrader, serial, in this process: timings and ``{student: scores}``."""
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI

    with tempfile.TemporaryDirectory(prefix="bpl-bench-stock-") as tmp:
        workdir = Path(tmp)
        start = time.monotonic()
        release([assignment], course_dir=workdir / "release", workdir=workdir)
        release_s = time.monotonic() - start
        shutil.copytree(class_folder, workdir / "submitted")
        per_student, failures = {}, []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.monotonic()
            api = NbGraderAPI(config=nbgrader_config(workdir, release_dir=workdir / "release"))
            for student in students:
                t0 = time.monotonic()
                result = api.autograde(assignment, student, force=True, create=True)
                per_student[student] = time.monotonic() - t0
                if not result["success"]:
                    failures.append(student)
            loop_s = time.monotonic() - start
        scores = {}
        with warnings.catch_warnings(), Gradebook(f"sqlite:///{workdir / 'gradebook.db'}") as gb:
            warnings.simplefilter("ignore")
            for student in students:
                if student in failures:
                    scores[student] = None
                    continue
                submission = gb.find_submission(assignment, student)
                notebook = gb.find_submission_notebook(
                    notebook_stem(assignment), assignment, student
                )
                code = [g for g in notebook.grades if g.cell_type == "code"]
                scores[student] = {
                    "code_score": sum(g.score for g in code),
                    "code_max": sum(g.max_score for g in code),
                    "total_score": submission.score,
                    "total_max": submission.max_score,
                    "needs_manual_grade": bool(submission.needs_manual_grade),
                }
    return {
        "mode": "serial (nbgrader has no parallel mode)",
        "release_s": release_s,
        "loop_s": loop_s,
        "per_student": per_student,
        "failures": failures,
        "scores": scores,
    }


def run_ours(class_folder, workers, assignment=ASSIGNMENT):
    """Our grader with ``workers`` workers: timings (total, setup, grading phase) and results."""
    phases = {}
    real_run_all = grade_module.run_all

    def timed_run_all(pool, tasks):  # the grading phase starts when run_all is called
        phases["grading_start"] = time.monotonic()
        try:
            return real_run_all(pool, tasks)
        finally:
            phases["grading_end"] = time.monotonic()

    grade_module.run_all = timed_run_all
    try:
        with tempfile.TemporaryDirectory(prefix="bpl-bench-ours-") as tmp:
            start = time.monotonic()
            results = grade_class(
                class_folder, assignment, workdir=Path(tmp) / "work", workers=workers
            )
            total_s = time.monotonic() - start
    finally:
        grade_module.run_all = real_run_all
    return {
        "workers": workers,
        "total_s": total_s,
        "setup_s": phases["grading_start"] - start,
        "grading_s": phases["grading_end"] - phases["grading_start"],
        "results": results,
    }


def run_dask(class_folder, workers, assignment=ASSIGNMENT):
    """Our grader on a fresh local Dask cluster of ``workers`` workers: the same timings as
    :func:`run_ours`, plus the scheduler's overhead per task."""
    import autograder.dask_engine as engine

    phases = {}
    real_grade_on_dask = engine.grade_on_dask

    def timed_grade_on_dask(*args, **kwargs):  # the grading phase starts when tasks are sent
        phases["grading_start"] = time.monotonic()
        try:
            return real_grade_on_dask(*args, **kwargs)
        finally:
            phases["grading_end"] = time.monotonic()

    engine.grade_on_dask = timed_grade_on_dask
    try:
        with tempfile.TemporaryDirectory(prefix="bpl-bench-dask-") as tmp:
            start = time.monotonic()
            with local_cluster(Path(tmp), workers) as address:
                results = grade_class(
                    class_folder, assignment, workdir=Path(tmp) / "work", scheduler=address
                )
                total_s = time.monotonic() - start
                overhead = scheduler_overhead(address)
    finally:
        engine.grade_on_dask = real_grade_on_dask
    return {
        "workers": workers,
        "engine": "dask",
        "total_s": total_s,
        "setup_s": phases["grading_start"] - start,
        "grading_s": phases["grading_end"] - phases["grading_start"],
        "scheduler_overhead_s_per_task": overhead,
        "results": results,
    }


class local_cluster:
    """A ``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1 under ``root``;
    gives the scheduler's address and stops them all afterwards."""

    def __init__(self, root, workers):
        import socket

        from autograder.dask_engine import scheduler_command, worker_command

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.address = f"tcp://127.0.0.1:{port}"
        self.commands = [scheduler_command(port=port)] + [
            worker_command(self.address, local_directory=root / f"w{i}", name=f"w{i}")
            for i in range(workers)
        ]
        self.root, self.workers, self.procs = root, workers, []

    def __enter__(self):
        import subprocess

        from distributed import Client

        for i, command in enumerate(self.commands):
            (self.root / f"cwd{i}").mkdir()
            self.procs.append(
                subprocess.Popen(
                    command,
                    cwd=self.root / f"cwd{i}",
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
            if i == 0:
                time.sleep(2)  # the scheduler listens before the workers look for it
        with Client(self.address, timeout="60s") as client:
            client.wait_for_workers(self.workers, timeout=120)
        return self.address

    def __exit__(self, *exc):
        import signal

        for proc in reversed(self.procs):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except ProcessLookupError:
                pass
            except Exception:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _no_op(i):
    return i


def scheduler_overhead(address, tasks=200):
    """Seconds per empty task needing one ``sandbox``: what the scheduler adds to each student."""
    from distributed import Client, wait

    with Client(address, timeout="60s") as client:
        start = time.monotonic()
        futures = [
            client.submit(_no_op, i, resources={"sandbox": 1}, pure=False) for i in range(tasks)
        ]
        wait(futures)
        return round((time.monotonic() - start) / tasks, 5)


def estimate_50000(run, n=50_000, workers=100):
    """On paper, from a Dask run: ``n`` students on ``workers`` one-sandbox workers take each
    student's mean time ``n / workers`` times over, plus the scheduler's overhead for every task
    (it schedules them one by one), plus the per-worker setup seen here once. ``None`` locally."""
    if run.get("engine") != "dask":
        return None
    mean = statistics.mean(r.seconds for r in run["results"])
    setup = run["grading_s"] - mean * len(run["results"]) / run["workers"]
    return round(mean * n / workers + run["scheduler_overhead_s_per_task"] * n + max(setup, 0), 1)


def label(run):
    """``ours/2w`` for the local pool, ``dask/2w`` on the Dask cluster."""
    return f"{run.get('engine', 'ours')}/{run['workers']}w"


def summary(seconds):
    """Mean, median, min and max of a list of per-student seconds."""
    return {
        "mean": round(statistics.mean(seconds), 3),
        "median": round(statistics.median(seconds), 3),
        "min": round(min(seconds), 3),
        "max": round(max(seconds), 3),
    }


def check_grades(students, stock, ours_runs):
    """Perfect students get full marks and untouched ones zero, from both graders."""
    problems, disagreements = [], []
    for student, kind in students.items():
        s = stock["scores"][student]
        if s is None:
            problems.append(f"stock: {student} ({kind}) was not graded")
        elif kind == "perfect" and not (s["code_score"] == s["code_max"] > 0):
            problems.append(f"stock: {student} (perfect) got {s['code_score']} / {s['code_max']}")
        elif kind == "untouched" and s["code_score"] != 0:
            problems.append(f"stock: {student} (untouched) got {s['code_score']}")
        for run in ours_runs:
            r = next(r for r in run["results"] if r.student == student)
            tag = label(run)
            if r.status != "graded":
                problems.append(
                    f"{tag}: {student} ({kind}) {r.status}: {r.reason.splitlines()[0][:90] if r.reason else ''}"
                )
            elif kind == "perfect" and not (r.auto_score == r.auto_max > 0):
                problems.append(f"{tag}: {student} (perfect) got {r.auto_score} / {r.auto_max}")
            elif kind == "untouched" and r.auto_score != 0:
                problems.append(f"{tag}: {student} (untouched) got {r.auto_score}")
            if kind in ("perfect", "untouched") and r.flags:
                problems.append(f"{tag}: {student} ({kind}) flagged {r.flags}")
            if s is not None and (r.auto_score, r.auto_max) != (s["code_score"], s["code_max"]):
                disagreements.append(
                    f"{tag}: {student} ({kind}) ours {r.auto_score:g}/{r.auto_max:g}, stock {s['code_score']:g}/{s['code_max']:g}"
                )
    return problems, disagreements


def by_kind(students, stock, ours_runs):
    """Scores of one student of each kind, as each grader gave them."""
    rows = {}
    for kind in dict.fromkeys(students.values()):
        student = next(s for s, k in students.items() if k == kind)
        s = stock["scores"][student]
        row = {
            "student": student,
            "stock": s
            and {k: s[k] for k in ("code_score", "code_max", "total_score", "total_max")},
        }
        for run in ours_runs:
            r = next(r for r in run["results"] if r.student == student)
            row[label(run).replace("/", "_")] = {
                "auto_score": r.auto_score,
                "auto_max": r.auto_max,
                "status": r.status,
                "flags": r.flags,
            }
        rows[kind] = row
    return rows


class OtherGraderWatch:
    """Samples /proc, while a grader is timed, for grader workers this process did not start.

    A second grader on the machine (a test run, say) competes for the two
    cores, so the times mean little. The samples say whether that happened.
    """

    def __init__(self, every=2.0):
        self.every, self.samples, self.seen, self.examples = every, 0, 0, set()
        self.counting = False  # only while a grader is being timed
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        while not self._stop.is_set():
            if not self.counting:
                self._stop.wait(0.2)
                continue
            others = foreign_graders()
            self.samples += 1
            self.seen += bool(others)
            self.examples.update(others)
            self._stop.wait(self.every)

    def report(self):
        return {
            "samples": self.samples,
            "samples_with_other_graders": self.seen,
            "other_processes": sorted(self.examples),
        }


def foreign_graders():
    """Kinds of process (grader worker, pytest) competing for the cores, not started by us."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            ppid = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        if int(proc.name) == os.getpid() or ppid == os.getpid():
            continue
        if "autograder.grade_one" in cmdline:
            found.append("autograder.grade_one worker")
        elif "-m pytest" in cmdline or Path(cmdline.split(" ", 1)[0]).name in ("pytest", "py.test"):
            found.append("pytest")
    return found


def wait_quiet(limit, quiet_for=20.0):
    """Wait (up to ``limit`` s) until no other grader or test run was seen for ``quiet_for`` s; return the wait."""
    if limit <= 0:
        return 0.0
    start = quiet_since = time.monotonic()
    while time.monotonic() - start < limit:
        now = time.monotonic()
        if foreign_graders():
            quiet_since = now
        elif now - quiet_since >= quiet_for:
            break
        time.sleep(2)
    return time.monotonic() - start


def machine_info():
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    from nbgrader import __version__ as nbgrader_version

    return {
        "cpus": cpus,
        "cpus_usable": usable,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "system": platform.system(),
        "nbgrader": nbgrader_version,
    }


def table(n, stock, ours_runs):
    """The printed table: one line for stock, one per worker count of ours."""
    stock_s = stock["loop_s"]
    lines = [
        f"{'grader':<26} {'seconds':>8} {'s/subm.':>8} {'ours/stock':>10}   notes",
        f"{'stock nbgrader (serial)':<26} {stock_s:8.1f} {stock_s / n:8.2f} {'1.00':>10}   "
        f"autograde loop only; release took {stock['release_s']:.1f} s more",
    ]
    for run in ours_runs:
        w, who = run["workers"], "dask" if run.get("engine") == "dask" else "ours"
        lines.append(
            f"{f'{who}, {w} worker(s), total':<26} {run['total_s']:8.1f} {run['total_s'] / n:8.2f} "
            f"{run['total_s'] / stock_s:10.2f}   incl. setup {run['setup_s']:.1f} s"
        )
        lines.append(
            f"{f'{who}, {w} worker(s), grading':<26} {run['grading_s']:8.1f} {run['grading_s'] / n:8.2f} "
            f"{run['grading_s'] / stock_s:10.2f}   excl. setup; per student "
            f"{statistics.mean(r.seconds for r in run['results']):.2f} s mean latency"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100, help="number of submissions (default 100)")
    parser.add_argument(
        "--workers",
        default="1,2",
        help="worker counts of our grader, comma-separated (default 1,2)",
    )
    parser.add_argument(
        "--dask",
        type=int,
        default=0,
        metavar="N",
        help="also grade on a local Dask cluster of N workers (default: not)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each grader, wait up to this long for other graders and test runs to finish",
    )
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    put_venv_on_path()

    load_before = os.getloadavg()
    started = time.monotonic()
    if foreign_graders():
        print(
            "WARNING: another grader or test run is active on this machine; the times will be noisy.",
            file=sys.stderr,
            flush=True,
        )
    with OtherGraderWatch() as watch, tempfile.TemporaryDirectory(prefix="bpl-bench-class-") as tmp:
        class_folder = Path(tmp) / "class"
        students = build_class(class_folder, args.n)
        print(
            f"Class of {args.n} submissions of {ASSIGNMENT} built; grading with stock nbgrader (serial) ...",
            flush=True,
        )
        waited = wait_quiet(args.wait_quiet)
        watch.counting = True
        stock = run_stock(class_folder, students)
        watch.counting = False
        print(f"  stock: {stock['loop_s']:.1f} s", flush=True)
        ours_runs = []
        for w in workers:
            print(f"Grading with ours, {w} worker(s) ...", flush=True)
            waited += wait_quiet(args.wait_quiet)
            watch.counting = True
            ours_runs.append(run_ours(class_folder, w))
            watch.counting = False
            print(f"  ours/{w}w: {ours_runs[-1]['total_s']:.1f} s", flush=True)
        if args.dask:
            print(f"Grading with ours on Dask, {args.dask} worker(s) ...", flush=True)
            waited += wait_quiet(args.wait_quiet)
            watch.counting = True
            ours_runs.append(run_dask(class_folder, args.dask))
            watch.counting = False
            print(f"  dask/{args.dask}w: {ours_runs[-1]['total_s']:.1f} s", flush=True)
    load_after = os.getloadavg()

    problems, disagreements = check_grades(students, stock, ours_runs)
    stock_s = stock["loop_s"]
    local = [r for r in ours_runs if r.get("engine") != "dask"]
    one = next((r for r in local if r["workers"] == 1), None)
    two = next((r for r in local if r["workers"] == 2), None)
    targets = {
        "safety_overhead": {
            "target": f"ours grading phase, 1 worker / stock loop <= {SAFETY_TARGET}",
            "ratio": round(one["grading_s"] / stock_s, 3) if one else None,
            "ratio_total_incl_setup": round(one["total_s"] / stock_s, 3) if one else None,
            "met": (one["grading_s"] / stock_s <= SAFETY_TARGET) if one else None,
        },
        "throughput_100_on_2_cores": {
            "target": f"100 submissions, ours with 2 workers, total < {THROUGHPUT_TARGET_S:.0f} s",
            "seconds": round(two["total_s"], 1) if two else None,
            "met": (two["total_s"] < THROUGHPUT_TARGET_S) if two and args.n == 100 else None,
            "note": None if args.n == 100 else "only judged at --n 100",
        },
    }
    report = {
        "assignment": ASSIGNMENT,
        "n": args.n,
        "class": {
            kind: sum(1 for k in students.values() if k == kind)
            for kind in dict.fromkeys(students.values())
        },
        "machine": machine_info(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "benchmark_wall_s": round(time.monotonic() - started, 1),
        "other_graders_during_run": {**watch.report(), "waited_for_quiet_s": round(waited, 1)},
        "stock": {
            "mode": stock["mode"],
            "feedback": False,
            "kernel": "python3 (plain)",
            "seconds": round(stock_s, 2),
            "seconds_per_submission": round(stock_s / args.n, 3),
            "release_s": round(stock["release_s"], 2),
            "per_student_s": summary(list(stock["per_student"].values())),
            "failures": stock["failures"],
        },
        "ours": [
            {
                "workers": run["workers"],
                "engine": run.get("engine", "local"),
                "scheduler_overhead_s_per_task": run.get("scheduler_overhead_s_per_task"),
                "submissions_per_second_per_core": round(
                    args.n / run["total_s"] / os.cpu_count(), 4
                ),
                "estimate_50000_on_100_workers_s": estimate_50000(run),
                "feedback": True,
                "kernel": "sandboxed",
                "seconds": round(run["total_s"], 2),
                "seconds_per_submission": round(run["total_s"] / args.n, 3),
                "ratio_to_stock": round(run["total_s"] / stock_s, 3),
                "setup_s": round(run["setup_s"], 2),
                "grading_s": round(run["grading_s"], 2),
                "grading_s_per_submission": round(run["grading_s"] / args.n, 3),
                "grading_ratio_to_stock": round(run["grading_s"] / stock_s, 3),
                "per_student_s": summary([r.seconds for r in run["results"]]),
                "not_graded": [r.student for r in run["results"] if r.status != "graded"],
                "flagged": {r.student: r.flags for r in run["results"] if r.flags},
            }
            for run in ours_runs
        ],
        "targets": targets,
        "scores_by_kind": by_kind(students, stock, ours_runs),
        "checks": {
            "passed": not problems,
            "problems": problems,
            "stock_vs_ours_disagreements": len(disagreements),
            "disagreement_examples": disagreements[:10],
        },
    }
    RESULTS.parent.mkdir(exist_ok=True)
    partial = RESULTS.with_suffix(".tmp")
    partial.write_text(json.dumps(report, indent=2) + "\n")
    os.replace(partial, RESULTS)

    print()
    print(
        f"{args.n} submissions of {ASSIGNMENT}, {report['machine']['cpus']} CPUs, Python {report['machine']['python']}, "
        f"load {load_before[0]:.1f} -> {load_after[0]:.1f}"
    )
    print(table(args.n, stock, ours_runs))
    for name, t in targets.items():
        verdict = {True: "met", False: "NOT met", None: "n/a"}[t["met"]]
        print(f"target {name}: {verdict} ({t['target']})")
    if watch.seen:
        print(
            f"WARNING: other graders/test runs were active in {watch.seen} of {watch.samples} samples; "
            "crashed students and times are not trustworthy."
        )
    print(
        f"checks: {'passed' if not problems else 'FAILED'}; stock vs ours disagree on {len(disagreements)} student(s)"
    )
    for line in problems[:20]:
        print(f"  {line}")
    print(
        f"Wrote {RESULTS.relative_to(Path.cwd()) if RESULTS.is_relative_to(Path.cwd()) else RESULTS.name}"
    )
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
