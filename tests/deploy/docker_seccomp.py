"""Docker's default seccomp profile, the part a container without CAP_SYS_ADMIN meets:
no new namespaces (unshare, setns, clone with a CLONE_NEW* flag) and no mounts, each
refused with EPERM. Applies that filter to itself, then runs the command:

    python docker_seccomp.py COMMAND...

Used by container.sh after its own mounts, so a service runs here as its container
would, and the sandbox takes the path it takes inside Docker (its namespaces skipped).
"""

import errno
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository: the sandbox package
from sandbox import isolation as iso

DENIED = ("unshare", "setns", "mount", "umount2", "pivot_root", "open_tree", "move_mount", "fsopen", "fsmount")


def program() -> bytes:
    code = iso._Program()
    code.add(iso.LD_W_ABS, 4)  # seccomp_data.arch: the 64-bit table only, as Docker's x86_64 profile
    code.add(iso.JEQ_K, iso.AUDIT_ARCH_X86_64, 0, "allow")
    code.add(iso.LD_W_ABS, 0)  # seccomp_data.nr
    for name in DENIED:
        code.add(iso.JEQ_K, iso.DENIED_SYSCALLS[name][0], "deny", 0)
    code.add(iso.JEQ_K, iso.CLONE3[0], "enosys", 0)  # Docker answers clone3 with ENOSYS too
    code.add(iso.JEQ_K, iso.CLONE[0], 0, "allow")
    code.add(iso.LD_W_ABS, 16)  # clone's flags
    code.add(iso.JSET_K, iso.NAMESPACE_FLAGS, "deny", "allow")
    code.label("allow")
    code.add(iso.RET_K, iso.RET_ALLOW)
    code.label("deny")
    code.add(iso.RET_K, iso.RET_ERRNO | errno.EPERM)
    code.label("enosys")
    code.add(iso.RET_K, iso.RET_ERRNO | errno.ENOSYS)
    return code.assemble()


def main() -> None:
    if iso.is_x86_64():
        iso.seccomp_apply(program())
    os.execvp(sys.argv[1], sys.argv[1:])  # noqa: S606 - the command as given, as Docker runs it


if __name__ == "__main__":
    main()
