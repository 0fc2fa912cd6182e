"""The layers that confine a run's child process, applied in the child before learner code.

Linux only (x86_64 for the seccomp filter). Each layer is a small function over a raw
system call; `confine` applies them in the one order that works: namespaces and mounts
while still root, Landlock rule paths opened before the uid drop, then no-new-privileges,
Landlock, seccomp. A layer the machine cannot give (no root, an old kernel) is skipped and
named in the returned list of what was applied, so `python -m sandbox check` can say so.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import math
import os
import platform
import resource
import signal
import struct
import sys
from dataclasses import dataclass, field

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.sethostname.argtypes = [ctypes.c_char_p, ctypes.c_size_t]

# --- constants from the kernel's uapi headers (x86_64)
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38
PR_SET_CHILD_SUBREAPER = 36
CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
# CLONE_NEWTIME shares its bit with clone()'s exit signal, so only unshare takes it (denied).
NAMESPACE_FLAGS = (
    CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
)
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18

SYS_X86_64 = {"unshare": 272, "seccomp": 317, "landlock_create_ruleset": 444, "landlock_add_rule": 445}
SYS_X86_64 |= {"landlock_restrict_self": 446, "capset": 126}

UNPRIVILEGED_UID_BASE = 200_000


class IsolationError(RuntimeError):
    """A layer that should apply failed: the child must not go on to run learner code."""


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, f"{what}: {os.strerror(code)}")
    return result


def syscall(name: str, *args: object) -> int:
    # Variadic: every integer goes as a full-width long, buffers as pointers.
    converted = [ctypes.c_long(arg) if isinstance(arg, int) else arg for arg in args]
    return _check(libc.syscall(ctypes.c_long(SYS_X86_64[name]), *converted), name)


def prctl(option: int, value: int) -> None:
    _check(libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def is_x86_64() -> bool:
    return sys.platform == "linux" and platform.machine() == "x86_64"


# ---------------------------------------------------------------- seccomp

AUDIT_ARCH_X86_64 = 0xC000003E
AUDIT_ARCH_I386 = 0x40000003
X32_SYSCALL_BIT = 0x40000000
SECCOMP_SET_MODE_FILTER = 1
SECCOMP_FILTER_FLAG_TSYNC = 1
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06

# The calls a run never needs and an attacker wants, by name, with their numbers in the
# 64-bit table and in the 32-bit (i386) table that `int 0x80` reaches on the same kernel.
DENIED_SYSCALLS: dict[str, tuple[int | None, int | None]] = {
    # networking (i386 multiplexes it through socketcall)
    "socket": (41, 359),
    "socketpair": (53, 360),
    "socketcall": (None, 102),
    # running other programs
    "execve": (59, 11),
    "execveat": (322, 358),
    # reading or steering other processes
    "ptrace": (101, 26),
    "process_vm_readv": (310, 347),
    "process_vm_writev": (311, 348),
    "process_madvise": (440, 440),
    "pidfd_getfd": (438, 438),
    "kcmp": (312, 349),
    # leaving the process group the supervisor kills
    "setsid": (112, 66),
    "setpgid": (109, 57),
    # io_uring bypasses the other rules
    "io_uring_setup": (425, 425),
    "io_uring_enter": (426, 426),
    "io_uring_register": (427, 427),
    # namespaces and mounts
    "unshare": (272, 310),
    "setns": (308, 346),
    "mount": (165, 21),
    "umount": (None, 22),
    "umount2": (166, 52),
    "pivot_root": (155, 217),
    "chroot": (161, 61),
    "open_tree": (428, 428),
    "move_mount": (429, 429),
    "fsopen": (430, 430),
    "fsconfig": (431, 431),
    "fsmount": (432, 432),
    "fspick": (433, 433),
    "mount_setattr": (442, 442),
    "open_by_handle_at": (304, 342),
    "name_to_handle_at": (303, 341),
    # the kernel's own surfaces
    "bpf": (321, 357),
    "perf_event_open": (298, 336),
    "keyctl": (250, 288),
    "add_key": (248, 286),
    "request_key": (249, 287),
    "userfaultfd": (323, 374),
    "init_module": (175, 128),
    "finit_module": (313, 350),
    "delete_module": (176, 129),
    "kexec_load": (246, 283),
    "kexec_file_load": (320, None),
    "fanotify_init": (300, 338),
    "personality": (135, 136),
    "reboot": (169, 88),
    "swapon": (167, 87),
    "swapoff": (168, 115),
    "acct": (163, 51),
    "syslog": (103, 103),
    "iopl": (172, 110),
    "ioperm": (173, 101),
    "vm86": (None, 166),
    "vm86old": (None, 113),
}
# clone is allowed for threads and plain forks; with any namespace flag it is denied.
CLONE = (56, 120)
# prctl is allowed but for the options that would loosen the run's confinement: a parent-death
# signal of its own choosing (or none), dumpable again (its /proc files readable, ptrace by
# its uid), a subreaper of its own, another process as its tracer, its memory map's
# environment and arguments, securebits, and speculation mitigations switched off.
PRCTL = (157, 172)
DENIED_PRCTL_OPTIONS = {
    "PR_SET_PDEATHSIG": 1,
    "PR_SET_DUMPABLE": 4,
    "PR_SET_SECUREBITS": 28,
    "PR_SET_MM": 35,
    "PR_SET_CHILD_SUBREAPER": 36,
    "PR_SET_SPECULATION_CTRL": 53,
    "PR_SET_PTRACER": 0x59616D61,
}
# clone3 passes its flags in memory the filter cannot read: ENOSYS makes libc use clone.
CLONE3 = (435, 435)


@dataclass
class _Program:
    """A tiny BPF assembler: instructions with symbolic jump targets, resolved at the end."""

    code: list[tuple[int, object, object, int]] = field(default_factory=list)
    labels: dict[str, int] = field(default_factory=dict)

    def add(self, op: int, k: int, jt: object = 0, jf: object = 0) -> None:
        self.code.append((op, jt, jf, k))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> bytes:
        out = b""
        for index, (op, jt, jf, k) in enumerate(self.code):
            offsets = []
            for target in (jt, jf):
                offset = self.labels[target] - index - 1 if isinstance(target, str) else target
                if not 0 <= offset <= 255:
                    raise IsolationError("seccomp program: jump out of range")
                offsets.append(offset)
            out += struct.pack("=HBBI", op, offsets[0], offsets[1], k & 0xFFFFFFFF)
        return out


def _table_section(program: _Program, prefix: str, table: int) -> None:
    program.label(prefix)
    program.add(LD_W_ABS, 0)  # seccomp_data.nr
    if table == 0:
        program.add(JGE_K, X32_SYSCALL_BIT, "deny", 0)  # the x32 ABI: nothing here uses it
    for numbers in DENIED_SYSCALLS.values():
        if numbers[table] is not None:
            program.add(JEQ_K, numbers[table], "deny", 0)
    program.add(JEQ_K, CLONE3[table], "enosys", 0)
    program.add(JEQ_K, CLONE[table], f"{prefix}_clone", 0)
    program.add(JEQ_K, PRCTL[table], f"{prefix}_prctl", 0)
    program.add(RET_K, RET_ALLOW)
    program.label(f"{prefix}_clone")
    program.add(LD_W_ABS, 16)  # low half of args[0]: the clone flags on both tables
    program.add(JSET_K, NAMESPACE_FLAGS, "deny", 0)
    program.add(RET_K, RET_ALLOW)
    program.label(f"{prefix}_prctl")
    program.add(LD_W_ABS, 16)  # low half of args[0]: the option (an int)
    for option in DENIED_PRCTL_OPTIONS.values():
        program.add(JEQ_K, option, "deny", 0)
    program.add(RET_K, RET_ALLOW)


@functools.cache  # the same for every run: assembled once, in the zygote
def seccomp_program() -> bytes:
    program = _Program()
    program.add(LD_W_ABS, 4)  # seccomp_data.arch
    program.add(JEQ_K, AUDIT_ARCH_X86_64, "x86_64", 0)
    program.add(JEQ_K, AUDIT_ARCH_I386, "i386", 0)
    program.add(RET_K, RET_KILL_PROCESS)
    _table_section(program, "x86_64", 0)
    _table_section(program, "i386", 1)
    program.label("deny")
    program.add(RET_K, RET_ERRNO | errno.EPERM)
    program.label("enosys")
    program.add(RET_K, RET_ERRNO | errno.ENOSYS)
    return program.assemble()


def seccomp_apply(filters: bytes | None = None) -> None:
    """Install a filter (the run's own by default) on every thread of this process."""
    filters = filters or seccomp_program()
    buffer = ctypes.create_string_buffer(filters)
    fprog = struct.pack("=HxxxxxxQ", len(filters) // 8, ctypes.addressof(buffer))
    fprog_buffer = ctypes.create_string_buffer(fprog)
    syscall("seccomp", SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_TSYNC, fprog_buffer)


# ---------------------------------------------------------------- Landlock

LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1, 2, 4, 8
LL_ALL_V1 = (1 << 13) - 1
LL_REFER, LL_TRUNCATE, LL_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
LL_NET_BIND_TCP, LL_NET_CONNECT_TCP = 1, 2
LL_SCOPE_ABSTRACT_UNIX_SOCKET, LL_SCOPE_SIGNAL = 1, 2
LL_FILE_RIGHTS = LL_EXECUTE | LL_WRITE_FILE | LL_READ_FILE | LL_TRUNCATE | LL_IOCTL_DEV
LL_READ = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1


def landlock_abi() -> int:
    if not is_x86_64():
        return 0
    try:
        return syscall("landlock_create_ruleset", None, 0, LANDLOCK_CREATE_RULESET_VERSION)
    except OSError:
        return 0


def _fs_rights(abi: int) -> int:
    rights = LL_ALL_V1
    if abi >= 2:
        rights |= LL_REFER
    if abi >= 3:
        rights |= LL_TRUNCATE
    if abi >= 5:
        rights |= LL_IOCTL_DEV
    return rights


@dataclass
class LandlockRules:
    """A ruleset built while still privileged (the paths are opened then), applied later."""

    ruleset_fd: int
    abi: int


def landlock_prepare(*, read: list[str], write: list[str], devices: list[str]) -> LandlockRules | None:
    abi = landlock_abi()
    if abi < 1:
        return None
    handled = _fs_rights(abi)
    attr = struct.pack("=QQQ", handled, LL_NET_BIND_TCP | LL_NET_CONNECT_TCP if abi >= 4 else 0, 0)
    if abi >= 6:
        attr = attr[:16] + struct.pack("=Q", LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    attr_buffer = ctypes.create_string_buffer(attr[:size])
    ruleset_fd = syscall("landlock_create_ruleset", attr_buffer, size, 0)
    grants = [(path, LL_READ) for path in read]
    grants += [(path, handled) for path in write]
    grants += [(path, LL_READ_FILE | LL_WRITE_FILE | (LL_IOCTL_DEV if abi >= 5 else 0)) for path in devices]
    for path, rights in grants:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            if not os.path.isdir(path):
                rights &= LL_FILE_RIGHTS
            rule = ctypes.create_string_buffer(struct.pack("=Qi", rights & handled, fd))
            syscall("landlock_add_rule", ruleset_fd, LANDLOCK_RULE_PATH_BENEATH, rule, 0)
        finally:
            os.close(fd)
    return LandlockRules(ruleset_fd=ruleset_fd, abi=abi)


def landlock_apply(rules: LandlockRules) -> None:
    syscall("landlock_restrict_self", rules.ruleset_fd, 0)
    os.close(rules.ruleset_fd)


# ---------------------------------------------------------------- the rest


@dataclass(frozen=True)
class Limits:
    """What one run may use. Settings, from SANDBOX_* variables or the caller."""

    timeout_s: float = 30.0
    cpu_s: float = 32.0  # CPU time of any one process; above the wall-clock limit, so threads are what it stops
    memory_bytes: int = 2 * 1024**3
    processes: int = 64
    output_bytes: int = 1024**2
    file_bytes: int = 64 * 1024**2
    work_inodes: int = 4096
    open_files: int = 256


def rlimits_apply(limits: Limits, *, cpu_run: bool, group_counts_processes: bool = False) -> None:
    # The soft limit sends SIGXCPU, which the init of a PID namespace never gets; the hard
    # one, a second later, SIGKILL. The supervisor tells a CPU kill by the CPU time used.
    cpu_seconds = max(1, math.ceil(limits.cpu_s) - 1)
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    if cpu_run:
        # CUDA maps far more address space than it uses; GPU runs rely on the other limits.
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits.open_files, limits.open_files))
    # Where the run's cgroup caps its processes (and says so when the cap is hit), this is a
    # second line well above it; where there is none, this is the cap (counted per uid).
    processes = limits.processes * 2 if group_counts_processes else limits.processes
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_MEMLOCK, (0, 0))
    resource.setrlimit(resource.RLIMIT_MSGQUEUE, (0, 0))


def unshare(flags: int) -> None:
    syscall("unshare", flags)


RUN_HOSTNAME = b"gradlab-run"


def mount_fresh_proc() -> None:
    """A procfs of the run's own PID namespace over /proc: only the run's processes in it."""
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    _check(libc.mount(b"proc", b"/proc", b"proc", flags, None), "mount proc")


def set_hostname() -> None:
    _check(libc.sethostname(RUN_HOSTNAME, len(RUN_HOSTNAME)), "sethostname")


def _read_setting(path: str) -> str | None:
    try:
        with open(path) as file:
            return file.read().strip()
    except OSError:
        return None


def user_namespace_obstacle() -> str:
    """Why an ordinary user gets no user namespace here, naming the host setting to change."""
    for path, blocking, remedy in (
        ("/proc/sys/kernel/unprivileged_userns_clone", "0", "sysctl kernel.unprivileged_userns_clone=1"),
        ("/proc/sys/user/max_user_namespaces", "0", "sysctl user.max_user_namespaces=15000"),
        (
            "/proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "1",
            "sysctl kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor profile for the sandbox",
        ),
    ):
        if _read_setting(path) == blocking:
            return f"{path.removeprefix('/proc/sys/').replace('/', '.')} is {blocking} ({remedy}, or run it as root)"
    label = apparmor_label()
    if label and not label.startswith("unconfined"):
        return (
            f"the AppArmor profile {label!r} may deny it (Docker's docker-default denies mount:"
            " security_opt apparmor=unconfined for the sandbox service, or a profile of your own that allows it)"
        )
    if seccomp_mode() == 2:
        return (
            "a seccomp filter on the service refuses unshare (in Docker: security_opt"
            " seccomp=compose/sandbox/seccomp/profile.json, Docker's default profile plus what user namespaces need)"
        )
    return "the kernel refused an unprivileged user namespace (a seccomp profile or a container may deny it)"


def seccomp_mode() -> int:
    """This process's seccomp mode (0 none, 2 a filter), from /proc/self/status."""
    for line in (_read_setting("/proc/self/status") or "").splitlines():
        if line.startswith("Seccomp:"):
            return int(line.split()[1])
    return 0


def apparmor_label() -> str | None:
    """The AppArmor profile confining this process ("docker-default (enforce)"), or None without AppArmor."""
    for path in ("/proc/self/attr/apparmor/current", "/proc/self/attr/current"):
        label = _read_setting(path)
        if label:
            return label.rstrip("\x00")
    return None


def mount_private_tmpfs(path: str, *, limits: Limits, uid: int, gid: int | None = None) -> None:
    """A fresh tmpfs, capped in bytes and files, on the run's working directory.

    It lives in the child's own mount namespace: it disappears with the run, whatever the
    learner left in it.
    """
    _check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    gid = uid if gid is None else gid
    options = f"size={limits.file_bytes},nr_inodes={limits.work_inodes},mode=0700,uid={uid},gid={gid}"
    _check(
        libc.mount(b"tmpfs", path.encode(), b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, options.encode()),
        "mount tmpfs",
    )


def enter_user_namespace() -> None:
    """Make a user namespace and a PID namespace for the run (the container path).

    Called in the run's supervisor, before it forks the child: the child becomes init of
    the new PID namespace, which the new user namespace owns, so the child may make the
    run's other namespaces, mount its tmpfs and a fresh procfs. An unprivileged zygote may
    map only its own uid and gid (no CAP_SETUID outside): the run keeps the service's kernel
    uid, and what keeps runs apart is the namespace (ptrace, /proc/<pid>/mem and process
    counts are per user namespace) and the PID namespace (no other process can be named).
    """
    uid, gid = os.geteuid(), os.getegid()
    unshare(CLONE_NEWUSER | CLONE_NEWPID)
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as file:
            file.write(text)


PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522


def drop_capabilities() -> None:
    """Give up every capability the run's user namespace granted: bounding, ambient, then the sets."""
    last = int(_read_setting("/proc/sys/kernel/cap_last_cap") or "40")
    for capability in range(last + 1):
        _check(libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(capability), 0, 0, 0), "drop a bounding capability")
    _check(libc.prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0), "clear ambient capabilities")
    header = ctypes.create_string_buffer(struct.pack("=Ii", _LINUX_CAPABILITY_VERSION_3, 0))
    data = ctypes.create_string_buffer(bytes(24))  # effective, permitted, inheritable: empty (two words)
    syscall("capset", header, data)


def drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def close_descriptors(keep: int) -> None:
    """Close every inherited descriptor above `keep` (0..keep stay: stdio and the event pipe)."""
    os.closerange(keep + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


PROC_SELF_READABLE = (
    "status",
    "stat",
    "statm",
    "maps",
    "smaps_rollup",
    "limits",
    "fd",
    "net",
    "cgroup",
    "oom_score_adj",
    "uid_map",
)


def readable_paths() -> list[str]:
    """What a run may read: the interpreter and its libraries, system libraries, CPU facts."""
    # The sandbox package itself, not the project around it: settings and .env stay out of reach.
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.abspath(__file__))}
    paths |= {os.path.dirname(os.path.realpath(sys.executable))}
    paths |= {"/usr/lib", "/usr/lib64", "/lib", "/lib64", "/usr/share/zoneinfo", "/etc/ld.so.cache"}
    paths |= {"/etc/localtime"}
    # Of its own /proc entry only what a program asks about itself: not mountinfo (the
    # host's mount points), environ, cmdline or the task folders that repeat them.
    paths |= {f"/proc/self/{name}" for name in PROC_SELF_READABLE}
    paths |= {"/proc/cpuinfo", "/proc/meminfo", "/sys/devices/system/cpu", "/dev/urandom"}
    return sorted(paths)


@dataclass
class Confinement:
    """What `confine` applied, in order; the supervisor and `check` report it."""

    applied: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _run_namespaces(report: Confinement, *, work_dir: str, limits: Limits, uid: int, strict: bool) -> None:
    """The run's network, mount, IPC, UTS and cgroup namespaces, its hostname, tmpfs and procfs.

    As root (strict) any failure fails the run. In a user namespace of its own (the
    container path) a mount the container's settings forbid (masked /proc paths, an
    AppArmor profile) is skipped and named: `serve` refuses to start without it unless the
    operator asked for reduced isolation.
    """
    try:
        # The run was moved into its control group before it started, so the new cgroup
        # namespace shows that group as the root: no host cgroup path is visible.
        unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP)
        report.applied += ["network namespace", "IPC namespace", "UTS namespace", "cgroup namespace"]
        set_hostname()
    except OSError as error:
        raise IsolationError(f"namespaces: {error}") from None
    try:
        # Root's run gets a group of its uid; a user namespace's, the service's own group (the only one mapped).
        mount_private_tmpfs(work_dir, limits=limits, uid=uid, gid=None if strict else os.getegid())
        report.applied.append("private tmpfs")
    except OSError as error:
        if strict:
            raise IsolationError(f"namespaces: {error}") from None
        report.skipped.append(f"private tmpfs: {error}")
        return
    try:
        mount_fresh_proc()
        report.applied.append("fresh procfs")
    except OSError as error:
        if strict:
            raise IsolationError(f"namespaces: {error}") from None
        report.skipped.append(f"fresh procfs: {error}")


def confine(
    *,
    work_dir: str,
    limits: Limits,
    uid: int,
    cuda: bool,
    setup_cuda,
    group_counts_processes: bool = False,
    user_namespace: bool = False,
) -> Confinement:
    """Apply every layer to the calling process (the run's child). Raises IsolationError.

    `user_namespace`: the supervisor made the run a user and PID namespace of its own
    (`enter_user_namespace`, the unprivileged container path): the child then builds the
    same namespaces and mounts as root does, and gives up the namespace's capabilities
    where root gives up its uid.
    """
    report = Confinement()
    root = os.geteuid() == 0
    os.umask(0o077)
    os.environ.clear()
    os.environ.update({"HOME": work_dir, "TMPDIR": work_dir, "LANG": "C.UTF-8"})
    report.applied += ["session", "empty environment", "umask 077"]
    # The first the kernel kills when memory runs out, before the zygote: where no cgroup of
    # its own caps the run (a container's, shared with the service), that keeps the service up.
    with open("/proc/self/oom_score_adj", "w") as adjust:
        adjust.write("1000")
    report.applied.append("first to go on out-of-memory")
    if root:
        _run_namespaces(report, work_dir=work_dir, limits=limits, uid=uid, strict=True)
    elif user_namespace:
        report.applied += ["user namespace", "PID namespace"]
        _run_namespaces(report, work_dir=work_dir, limits=limits, uid=uid, strict=False)
    else:
        try:
            unshare(CLONE_NEWUSER | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
            set_hostname()  # its user namespace owns the new UTS namespace
            report.applied += ["network namespace", "IPC namespace", "UTS namespace"]
            user_namespace = True  # its capabilities there go below, as on the container path
        except OSError:
            report.skipped.append(f"network, IPC and UTS namespaces: {user_namespace_obstacle()}")
    os.chdir(work_dir)
    if cuda:
        setup_cuda()  # after fork, before the filters: CUDA opens devices and maps memory
    rules = None
    if is_x86_64():
        devices = ["/dev/null"] + (
            [f"/dev/{name}" for name in os.listdir("/dev") if name.startswith("nvidia")] if cuda else []
        )
        read = readable_paths() + (["/proc/driver", "/sys"] if cuda else [])
        rules = landlock_prepare(read=read, write=[work_dir], devices=devices)
    if root:
        drop_privileges(uid)
        report.applied.append(f"uid {uid}")
    elif user_namespace:
        drop_capabilities()
        report.applied.append("no capabilities")
    rlimits_apply(limits, cpu_run=not cuda, group_counts_processes=group_counts_processes)
    report.applied.append("resource limits")
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    report.applied.append("no-new-privileges")
    if rules is not None:
        landlock_apply(rules)
        report.applied.append(f"landlock (ABI {rules.abi})")
    else:
        report.skipped.append("landlock (not available)")
    if is_x86_64():
        seccomp_apply()
        report.applied.append("seccomp")
    else:
        report.skipped.append("seccomp (x86_64 only)")
    return report
