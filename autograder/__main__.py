"""Command line for instructors: ``python -m autograder COMMAND``.

Commands:
  build     regenerate course/ from solutions/
  bundle    regenerate course/ and zip the student bundle
  grade     grade a folder or zip of submissions for one chapter
  demo      build a sample class for chapter 01 and grade it
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
    bundle.add_argument("--output", default="dist/backproplab-student.zip")
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
    demo = sub.add_parser("demo", help="grade a sample class of chapter 01")
    demo.add_argument("--workdir", default=str(DEFAULT_WORKDIR))
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
    from autograder.bundle import write_bundle

    print(f"wrote {write_bundle(args.output)}")
    return 0


def _grade(args):
    from autograder.grade import format_table, grade_class

    results = grade_class(
        args.submissions,
        args.chapter,
        workdir=args.workdir,
        timeout=args.timeout,
        unsafe=args.unsafe,
        student_timeout=args.student_timeout,
        workers=args.workers,
    )
    print(format_table(results))
    print(f"\ngrades.csv and feedback are in {args.workdir}")
    return 0


def _demo(args):
    from autograder.demo import run_demo

    run_demo(workdir=args.workdir)
    return 0


COMMANDS = {"build": _build, "bundle": _bundle, "grade": _grade, "demo": _demo}

if __name__ == "__main__":
    sys.exit(main())
