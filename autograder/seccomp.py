"""A seccomp filter that shuts the sandbox out of the kernel's keyrings.

Linux keyrings are not fully namespaced: as root, every student of a worker
runs as the same uid, whose user keyring outlives the sandbox, and each
sandbox inherits the grader's session keyring. A key one student adds could
be read by the next. Docker's default profile denies these calls for the same
reason; so does this filter (``EPERM`` for ``add_key``, ``request_key`` and
``keyctl``), which bubblewrap installs with ``--seccomp FD``. Calls from
another instruction set than the machine's (32-bit compat, x32) are denied
outright, so the numbers below cannot be dodged.

The filter is classic BPF over ``struct seccomp_data``
(``nr`` at offset 0, ``arch`` at offset 4), see ``seccomp(2)``.
"""

import errno
import os
import platform
import struct

# (AUDIT_ARCH_*, the keyring system calls' numbers) per machine
KEYRING_CALLS = {
    "x86_64": (0xC000003E, (248, 249, 250)),
    "aarch64": (0xC00000B7, (217, 218, 219)),
}
X32_BIT = 0x40000000

LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06
ALLOW, DENY = 0x7FFF0000, 0x00050000 | errno.EPERM  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM


def keyring_filter(machine=None):
    """The BPF program (bytes) for ``machine`` (this one's by default), or None where it is not known."""
    machine = machine or platform.machine()
    if machine not in KEYRING_CALLS:
        return None
    arch, calls = KEYRING_CALLS[machine]
    program = [(LD_W_ABS, 0, 0, 4), (JEQ_K, 1, 0, arch), (RET_K, 0, 0, DENY), (LD_W_ABS, 0, 0, 0)]
    if machine == "x86_64":
        program.append((JGE_K, len(calls) + 1, 0, X32_BIT))  # x32 calls jump to DENY
    for index, number in enumerate(calls):
        program.append((JEQ_K, len(calls) - index, 0, number))  # to DENY, past the rest and ALLOW
    program += [(RET_K, 0, 0, ALLOW), (RET_K, 0, 0, DENY)]
    return b"".join(struct.pack("HBBI", *instruction) for instruction in program)


def filter_fd():
    """An inheritable file descriptor holding :func:`keyring_filter`, for ``bwrap --seccomp FD``; None if unknown."""
    program = keyring_filter()
    if program is None:
        return None
    fd = os.memfd_create("backproplab-seccomp", 0)
    os.write(fd, program)
    os.lseek(fd, 0, os.SEEK_SET)
    os.set_inheritable(fd, True)
    return fd
