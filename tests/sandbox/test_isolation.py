"""The seccomp filter and the settings, checked without running anything."""

import struct

import pytest

from sandbox import isolation
from sandbox.isolation import DENIED_SYSCALLS, Limits
from sandbox.settings import SettingsError, limits_for_request, limits_from_env


def instructions(program: bytes) -> list[tuple[int, int, int, int]]:
    return [struct.unpack("=HBBI", program[i : i + 8]) for i in range(0, len(program), 8)]


def test_the_filter_checks_the_architecture_first_and_kills_unknown_ones():
    code = instructions(isolation.seccomp_program())
    assert code[0] == (isolation.LD_W_ABS, 0, 0, 4)
    assert code[1][3] == isolation.AUDIT_ARCH_X86_64
    assert code[2][3] == isolation.AUDIT_ARCH_I386
    assert code[3] == (isolation.RET_K, 0, 0, isolation.RET_KILL_PROCESS)


@pytest.mark.parametrize("name", ["socket", "execve", "ptrace", "process_vm_readv", "io_uring_setup", "bpf", "keyctl"])
def test_the_filter_denies_each_call_in_both_tables(name):
    compared = [k for op, _, _, k in instructions(isolation.seccomp_program()) if op == isolation.JEQ_K]
    sixty_four, thirty_two = DENIED_SYSCALLS[name]
    assert sixty_four in compared
    assert thirty_two in compared


def test_every_jump_lands_inside_the_program():
    code = instructions(isolation.seccomp_program())
    for index, (op, jt, jf, _) in enumerate(code):
        if op in (isolation.JEQ_K, isolation.JGE_K, isolation.JSET_K):
            assert index + 1 + max(jt, jf) < len(code)
    assert code[-2] == (isolation.RET_K, 0, 0, isolation.RET_ERRNO | 1)


def test_a_request_may_lower_limits_but_never_raise_them():
    configured = Limits(timeout_s=30, memory_bytes=2 * 1024**3)
    lowered = limits_for_request(configured, {"timeout_s": 3, "memory_bytes": 8 * 1024**3})
    assert lowered.timeout_s == 3
    assert lowered.memory_bytes == 2 * 1024**3


@pytest.mark.parametrize(
    ("asked", "message"),
    [({"wall": 3}, "limits.wall: unknown limit"), ({"timeout_s": -1}, "limits.timeout_s: must be a positive number")],
)
def test_a_bad_limit_in_a_request_is_named(asked, message):
    with pytest.raises(SettingsError, match=message):
        limits_for_request(Limits(), asked)


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("SANDBOX_TIMEOUT_S", "12")
    monkeypatch.setenv("SANDBOX_MEMORY_MB", "512")
    limits = limits_from_env()
    assert limits.timeout_s == 12
    assert limits.memory_bytes == 512 * 1024**2
    monkeypatch.setenv("SANDBOX_PROCESSES", "lots")
    with pytest.raises(SettingsError, match="SANDBOX_PROCESSES: must be a number"):
        limits_from_env()
