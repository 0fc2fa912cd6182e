"""A Docker seccomp profile (JSON), compiled as Docker compiles it, applied, then a command:

    python docker_seccomp.py PROFILE.json COMMAND...

The profile goes through libseccomp (libseccomp.so.2, through ctypes), as runc hands it to
libseccomp for Docker: the architecture map (x86_64 with its x86 and x32 tables), each
rule's names, action and argument comparisons, and its `includes`/`excludes` read for a
container without capabilities (`cap_drop: [ALL]`) on this machine's architecture and
kernel. Used by container.sh after its own mounts, so a service runs here under the very
profile its container gets (compose/sandbox/seccomp/profile.json).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

ACTIONS = {
    "SCMP_ACT_KILL": 0x00000000,
    "SCMP_ACT_KILL_THREAD": 0x00000000,
    "SCMP_ACT_KILL_PROCESS": 0x80000000,
    "SCMP_ACT_TRAP": 0x00030000,
    "SCMP_ACT_LOG": 0x7FFC0000,
    "SCMP_ACT_ALLOW": 0x7FFF0000,
}
ERRNO, TRACE = 0x00050000, 0x7FF00000
COMPARE = {
    "SCMP_CMP_NE": 1,
    "SCMP_CMP_LT": 2,
    "SCMP_CMP_LE": 3,
    "SCMP_CMP_EQ": 4,
    "SCMP_CMP_GE": 5,
    "SCMP_CMP_GT": 6,
    "SCMP_CMP_MASKED_EQ": 7,
}
ARCHES = {"SCMP_ARCH_X86_64": 0xC000003E, "SCMP_ARCH_X86": 0x40000003, "SCMP_ARCH_X32": 0x4000003E}
NATIVE = {"x86_64": ("SCMP_ARCH_X86_64", "amd64")}  # the machine, as the profile's archMap and Go name it
SCMP_FLTATR_CTL_NNP = 3
NR_SCMP_ERROR = -1


class ArgumentComparison(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


class ProfileError(ValueError):
    pass


def _library():
    library = ctypes.CDLL(ctypes.util.find_library("seccomp") or "libseccomp.so.2", use_errno=True)
    library.seccomp_init.restype = ctypes.c_void_p
    library.seccomp_init.argtypes = [ctypes.c_uint32]
    library.seccomp_release.argtypes = [ctypes.c_void_p]
    library.seccomp_arch_add.argtypes = [ctypes.c_void_p, ctypes.c_uint32]
    library.seccomp_attr_set.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32]
    library.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    library.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.c_int,
        ctypes.c_uint,
        ctypes.POINTER(ArgumentComparison),
    ]
    library.seccomp_load.argtypes = [ctypes.c_void_p]
    library.seccomp_export_bpf.argtypes = [ctypes.c_void_p, ctypes.c_int]
    return library


def _action(name: str, errno_ret: int | None, default_errno: int) -> int:
    if name == "SCMP_ACT_ERRNO":
        return ERRNO | ((default_errno if errno_ret is None else errno_ret) & 0xFFFF)
    if name == "SCMP_ACT_TRACE":
        return TRACE | ((default_errno if errno_ret is None else errno_ret) & 0xFFFF)
    if name not in ACTIONS:
        raise ProfileError(f"unknown action {name!r}")
    return ACTIONS[name]


def _kernel_at_least(version: str) -> bool:
    running = [int(part) for part in platform.release().split("-")[0].split(".")[:2]]
    return running >= [int(part) for part in version.split(".")[:2]]


def applies(rule: dict, *, arch: str, capabilities: frozenset[str] = frozenset()) -> bool:
    """Whether a rule of the profile is in the filter of a container with these capabilities (moby's rules)."""
    includes, excludes = rule.get("includes") or {}, rule.get("excludes") or {}
    if includes.get("arches") and arch not in includes["arches"]:
        return False
    if includes.get("caps") and not set(includes["caps"]) <= capabilities:
        return False
    if includes.get("minKernel") and not _kernel_at_least(includes["minKernel"]):
        return False
    if excludes.get("arches") and arch in excludes["arches"]:
        return False
    return not (excludes.get("caps") and set(excludes["caps"]) & capabilities)


def build(profile: dict, library=None):
    """A libseccomp filter context for the profile; the caller loads or exports it, then releases it."""
    library = library or _library()
    machine = platform.machine()
    if machine not in NATIVE:
        raise ProfileError(f"this emulation knows x86_64 only (the machine is {machine})")
    arch_name, go_arch = NATIVE[machine]
    default_errno = profile.get("defaultErrnoRet", 1)
    default = _action(profile["defaultAction"], profile.get("defaultErrnoRet"), 1)
    context = library.seccomp_init(default)
    if not context:
        raise ProfileError("seccomp_init failed")
    try:
        for entry in profile.get("archMap", []):
            if entry["architecture"] == arch_name:
                for sub in entry.get("subArchitectures", []):
                    code = library.seccomp_arch_add(context, ARCHES[sub])
                    if code not in (0, -17):  # -EEXIST: already there
                        raise ProfileError(f"seccomp_arch_add({sub}): {os.strerror(-code)}")
        library.seccomp_attr_set(context, SCMP_FLTATR_CTL_NNP, 0)  # no-new-privileges is the caller's own setting
        for rule in profile["syscalls"]:
            if not applies(rule, arch=go_arch):
                continue
            action = _action(rule["action"], rule.get("errnoRet"), default_errno)
            if action == default:
                continue  # libseccomp refuses a rule that does what the default does (runc skips it too)
            arguments = rule.get("args") or []
            comparisons = (ArgumentComparison * max(len(arguments), 1))()
            for index, argument in enumerate(arguments):
                comparisons[index] = ArgumentComparison(
                    argument["index"], COMPARE[argument["op"]], argument["value"], argument.get("valueTwo", 0)
                )
            for name in rule["names"]:
                number = library.seccomp_syscall_resolve_name(name.encode())
                if number == NR_SCMP_ERROR:
                    continue  # a call this libseccomp does not know: Docker skips it too
                code = library.seccomp_rule_add_array(context, action, number, len(arguments), comparisons)
                if code < 0:
                    raise ProfileError(f"rule for {name}: {os.strerror(-code)}")
    except BaseException:
        library.seccomp_release(context)
        raise
    return context


def compile_profile(profile: dict) -> bytes:
    """The profile as the BPF program the kernel gets (struct sock_filter entries)."""
    library = _library()
    context = build(profile, library)
    try:
        with tempfile.TemporaryFile() as out:
            code = library.seccomp_export_bpf(context, out.fileno())
            if code < 0:
                raise ProfileError(f"seccomp_export_bpf: {os.strerror(-code)}")
            out.seek(0)
            return out.read()
    finally:
        library.seccomp_release(context)


def apply(profile: dict) -> None:
    library = _library()
    context = build(profile, library)
    try:
        code = library.seccomp_load(context)
        if code < 0:
            raise ProfileError(f"seccomp_load: {os.strerror(-code)}")
    finally:
        library.seccomp_release(context)


def main() -> None:
    path, command = sys.argv[1], sys.argv[2:]
    apply(json.loads(Path(path).read_text()))
    os.execvp(command[0], command)  # noqa: S606 - the command as given, as Docker runs it


if __name__ == "__main__":
    main()
