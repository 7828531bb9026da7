"""Memory and process caps on a student's whole process tree, where the machine lets the grader set them.

``prlimit`` (in :mod:`autograder.sandbox_kernel`) caps each *process*; a
student could still start many processes that each stay under the cap. A
Linux control group caps them all together, kernel memory (tmpfs files and
their inodes) included. The grader makes one group per worker, below its own
group, and each sandboxed kernel joins it before bubblewrap starts:

- cgroup v2, where the grader's own group delegates the ``memory`` and
  ``pids`` controllers to its children (``cgroup.subtree_control``), as a
  systemd unit with ``Delegate=yes`` does: ``memory.max``, ``memory.swap.max``
  and ``pids.max``;
- cgroup v1, where the ``memory`` and ``pids`` hierarchies are writable (root
  on many virtual machines): ``memory.limit_in_bytes`` and ``pids.max``.

Elsewhere (typically a non-root user without delegation) :func:`create`
returns ``None`` and only the per-process limits hold; the README says so.
"""

import os
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


def own_groups(proc_cgroup="/proc/self/cgroup"):
    """``{controller: path}`` of this process's groups (``""`` names the v2 group), from /proc/self/cgroup."""
    groups = {}
    for line in Path(proc_cgroup).read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            groups[controller] = path
    return groups


def create(name, memory_bytes, max_processes, root=ROOT, proc_cgroup="/proc/self/cgroup"):
    """Make (or reuse) the group ``name`` capped at ``memory_bytes`` and ``max_processes``; its folders, or None.

    The folders are what :func:`join` and :func:`remove` take.
    """
    groups = own_groups(proc_cgroup)
    for attempt in (_create_v2, _create_v1):
        folders = attempt(Path(root), groups, name, memory_bytes, max_processes)
        if folders:
            return [str(f) for f in folders]
    return None


def _create_v2(root, groups, name, memory_bytes, max_processes):
    """cgroup v2: a child of the grader's group, when that group delegates memory and pids."""
    for base in (root, root / "unified"):
        parent = base / groups.get("", "/").lstrip("/")
        delegated = _read(parent / "cgroup.subtree_control").split()
        if {"memory", "pids"} <= set(delegated):
            return _write_limits(
                [parent / name],
                {"memory.max": memory_bytes, "memory.swap.max": 0, "pids.max": max_processes},
            )
    return None


def _create_v1(root, groups, name, memory_bytes, max_processes):
    """cgroup v1: a child in the memory and the pids hierarchies, each below the grader's own group."""
    if "memory" not in groups or "pids" not in groups:
        return None
    memory = root / "memory" / groups["memory"].lstrip("/") / name
    pids = root / "pids" / groups["pids"].lstrip("/") / name
    made = _write_limits([memory], {"memory.limit_in_bytes": memory_bytes})
    if made and _write_limits([pids], {"pids.max": max_processes}):
        return [memory, pids]
    if made:
        remove([str(memory)])
    return None


def _write_limits(folders, limits):
    """Create ``folders`` and write ``limits`` where each file exists; the folders, or None when not allowed."""
    try:
        for folder in folders:
            folder.mkdir(exist_ok=True)
            for file, value in limits.items():
                if (folder / file).exists():
                    (folder / file).write_text(str(value))
        return folders
    except OSError:
        return None


def join(folders, pid=None):
    """Move process ``pid`` (this one) into every group of ``folders``; its children follow."""
    for folder in folders or []:
        (Path(folder) / "cgroup.procs").write_text(str(pid or os.getpid()))


def remove(folders):
    """Delete the groups (they must hold no process any more); what cannot go stays, harmless."""
    for folder in folders or []:
        try:
            Path(folder).rmdir()
        except OSError:
            pass


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return ""
