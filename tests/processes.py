"""What runs on this machine, for tests that check a grader leaves nothing behind."""

from pathlib import Path


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
