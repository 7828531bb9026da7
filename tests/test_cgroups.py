"""The per-worker control group, on fake /sys/fs/cgroup trees: v2 delegated, v1, and neither.

The real group is tried on this machine by ``tests/test_sandbox.py``
(where the machine allows one).
"""

from pathlib import Path

from autograder import cgroups


def _tree(tmp_path, proc_lines, files):
    """A fake cgroup root and /proc/self/cgroup; ``files`` maps paths under the root to their text."""
    for name, text in files.items():
        (tmp_path / "cg" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "cg" / name).write_text(text)
    (tmp_path / "proc").write_text("\n".join(proc_lines) + "\n")
    return tmp_path / "cg", tmp_path / "proc"


def test_v2_with_delegated_controllers_gets_memory_swap_and_pids_caps(tmp_path):
    root, proc = _tree(
        tmp_path,
        ["0::/grader.service"],
        {"grader.service/cgroup.subtree_control": "cpu memory pids"},
    )
    folders = cgroups.create("w", 2**30, 64, root=root, proc_cgroup=proc)
    assert folders == [str(root / "grader.service" / "w")]
    assert not (Path(folders[0]) / "memory.max").exists(), (
        "limits are written only into files the kernel made"
    )


def test_v2_writes_the_limits_the_kernel_offers(tmp_path):
    root, proc = _tree(
        tmp_path,
        ["0::/g"],
        {
            "g/cgroup.subtree_control": "memory pids",
            "g/w/memory.max": "max",
            "g/w/memory.swap.max": "max",
            "g/w/pids.max": "max",
        },
    )
    cgroups.create("w", 2**30, 64, root=root, proc_cgroup=proc)
    assert [
        (root / "g" / "w" / f).read_text() for f in ("memory.max", "memory.swap.max", "pids.max")
    ] == [str(2**30), "0", "64"]


def test_v1_uses_the_memory_and_pids_hierarchies_below_the_graders_groups(tmp_path):
    root, proc = _tree(
        tmp_path,
        ["4:memory:/vm/a", "8:pids:/", "0::/"],
        {"memory/vm/a/w/memory.limit_in_bytes": "9223372036854771712", "pids/w/pids.max": "max"},
    )
    folders = cgroups.create("w", 2**30, 64, root=root, proc_cgroup=proc)
    assert folders == [str(root / "memory/vm/a/w"), str(root / "pids/w")]
    assert (root / "memory/vm/a/w/memory.limit_in_bytes").read_text() == str(2**30)
    assert (root / "pids/w/pids.max").read_text() == "64"


def test_no_delegation_means_no_group_and_per_process_limits_only(tmp_path):
    root, proc = _tree(tmp_path, ["0::/user.slice"], {"user.slice/cgroup.subtree_control": ""})
    assert cgroups.create("w", 2**30, 64, root=root, proc_cgroup=proc) is None


def test_joining_writes_the_pid_and_removing_leaves_nothing(tmp_path):
    group = tmp_path / "g"
    group.mkdir()
    cgroups.join([str(group)], pid=4242)
    assert (group / "cgroup.procs").read_text() == "4242"
    (group / "cgroup.procs").unlink()
    cgroups.remove([str(group)])
    assert not group.exists()
    cgroups.join(None)
    cgroups.remove(None)
