"""Command line for instructors: ``python -m autograder COMMAND``.

Commands:
  build     regenerate course/ from solutions/
  bundle    regenerate course/ and zip the student bundle (--through NN: chapter NN's release)
  grade     grade a folder or zip of submissions for one chapter
  demo      build a sample class for chapter 01 and grade it
  scheduler start a Dask scheduler for grade --scheduler (127.0.0.1 unless told)
  worker    start a Dask worker that grades in the sandbox
  export    write a chapter's grades for Canvas, Moodle or as plain CSV
"""

import argparse
import sys

from autograder.course import DEFAULT_WORKDIR, assignments


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="regenerate course/ from solutions/")
    build.add_argument("chapters", nargs="*", help="e.g. 01_gradient_descent (default: all)")
    bundle = sub.add_parser("bundle", help="regenerate course/ and write the student zip")
    bundle.add_argument(
        "--through",
        metavar="NN",
        help="the release for chapter NN: its notebooks up to NN, earlier chapters' answers only",
    )
    bundle.add_argument(
        "--output", help="default dist/backproplab-student.zip (-NN.zip with --through)"
    )
    grade = sub.add_parser("grade", help="grade a folder or zip of submissions")
    grade.add_argument("submissions", help="a folder with one folder per student, or a zip of it")
    grade.add_argument("--chapter", required=True, choices=assignments())
    grade.add_argument("--workdir", default=str(DEFAULT_WORKDIR))
    grade.add_argument("--timeout", type=int, default=30, help="seconds allowed per cell")
    grade.add_argument(
        "--student-timeout", type=int, default=300, help="seconds allowed per student"
    )
    grade.add_argument("--workers", type=int, default=1, help="students graded at once (default 1)")
    grade.add_argument(
        "--unsafe",
        action="store_true",
        help="grade without the sandbox (only where it is unavailable)",
    )
    grade.add_argument(
        "--scheduler",
        help="grade on this Dask scheduler (tcp://HOST:8786 or tls://...) instead of local workers",
    )
    grade.add_argument(
        "--db-url",
        help="the gradebook's database, shared with other graders (postgresql://USER:PASSWORD@"
        "HOST/DB); default $BACKPROPLAB_DB_URL, else WORKDIR/gradebook.db",
    )
    for cmd in (grade, *_cluster_parsers(sub)):
        _tls_arguments(cmd)
    demo = sub.add_parser("demo", help="grade a sample class of chapter 01")
    demo.add_argument("--workdir", default=str(DEFAULT_WORKDIR))
    _export_parser(sub)
    args = parser.parse_args(argv)
    return COMMANDS[args.command](args)


def _build(args):
    from autograder.build import release

    unknown = sorted(set(args.chapters) - set(assignments()))
    if unknown:
        print(
            f"no chapter {', '.join(unknown)}: choose from {', '.join(assignments())}",
            file=sys.stderr,
        )
        return 2
    for path in release(args.chapters or None):
        print(f"released {path}")
    return 0


def _bundle(args):
    from autograder.bundle import chapter, write_bundle

    output = args.output or "dist/backproplab-student.zip"
    if args.through:
        try:
            through = chapter(args.through)
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 2
        output = args.output or f"dist/backproplab-student-{through[:2]}.zip"
    print(f"wrote {write_bundle(output, through=args.through)}")
    return 0


def _cluster_parsers(sub):
    """``scheduler`` and ``worker``: a Dask cluster for ``grade --scheduler`` (127.0.0.1 unless told)."""
    scheduler = sub.add_parser("scheduler", help="start a Dask scheduler for grading")
    scheduler.add_argument("--host", default="127.0.0.1", help="address to listen on")
    scheduler.add_argument("--port", type=int, default=8786)
    worker = sub.add_parser("worker", help="start a Dask worker that grades (needs the sandbox)")
    worker.add_argument("address", help="the scheduler, e.g. tcp://127.0.0.1:8786")
    worker.add_argument("--host", default="127.0.0.1", help="address to listen on")
    worker.add_argument("--sandboxes", type=int, default=1, help="students graded at once")
    worker.add_argument("--local-directory", help="the worker's own scratch folder")
    return scheduler, worker


def _tls_arguments(parser):
    parser.add_argument("--tls-ca-file", help="CA certificate (PEM) for TLS to the scheduler")
    parser.add_argument("--tls-cert", help="this side's certificate (PEM)")
    parser.add_argument("--tls-key", help="this side's private key (PEM)")


def _tls(args):
    return {"tls_ca_file": args.tls_ca_file, "tls_cert": args.tls_cert, "tls_key": args.tls_key}


def _scheduler(args):
    import os

    from autograder.dask_engine import scheduler_command

    command = scheduler_command(args.host, args.port, **_tls(args))
    os.execv(command[0], command)


def _worker(args):
    import os

    from autograder.dask_engine import worker_command

    command = worker_command(
        args.address, args.host, args.sandboxes, args.local_directory, **_tls(args)
    )
    os.execv(command[0], command)


def _grade(args):
    from autograder.grade import format_table, grade_class

    security = None
    if args.scheduler:
        from autograder.dask_engine import security_for

        security = security_for(**_tls(args))
    results = grade_class(
        args.submissions,
        args.chapter,
        workdir=args.workdir,
        timeout=args.timeout,
        unsafe=args.unsafe,
        student_timeout=args.student_timeout,
        workers=args.workers,
        scheduler=args.scheduler,
        security=security,
        db_url=args.db_url,
    )
    print(format_table(results))
    print(f"\ngrades.csv and feedback are in {args.workdir}")
    return 0


def _export_parser(sub):
    export = sub.add_parser("export", help="write a chapter's grades for an LMS")
    export.add_argument("--chapter", required=True, choices=assignments())
    export.add_argument("--format", choices=("csv", "moodle", "canvas"), default="csv")
    export.add_argument("--output", required=True, help="the CSV file to write")
    export.add_argument("--canvas", help="the gradebook CSV exported from Canvas (--format canvas)")
    export.add_argument(
        "--column",
        help="the grade column (Canvas: its header or the start of it; default: chapter)",
    )
    export.add_argument("--workdir", default=str(DEFAULT_WORKDIR), help="where gradebook.db is")
    export.add_argument(
        "--db-url", help="the gradebook's database (default $BACKPROPLAB_DB_URL, else --workdir's)"
    )


def _export(args):
    from autograder.export import export, read_grades

    try:
        grades = read_grades(args.chapter, workdir=args.workdir, db_url=args.db_url)
        report = export(
            grades, args.format, args.output, args.column or args.chapter, canvas_csv=args.canvas
        )
    except (ValueError, OSError) as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"wrote {args.output}: {len(grades)} students of the gradebook")
    for line in report.lines():
        print(line)
    return 0


def _demo(args):
    from autograder.demo import run_demo

    run_demo(workdir=args.workdir)
    return 0


COMMANDS = {
    "export": _export,
    "build": _build,
    "bundle": _bundle,
    "grade": _grade,
    "demo": _demo,
    "scheduler": _scheduler,
    "worker": _worker,
}

if __name__ == "__main__":
    sys.exit(main())
