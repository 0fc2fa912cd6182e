"""What each layer the hardening issue added costs a run, against the floor of the same run.

    sudo .venv-sandbox/bin/python bench/sandbox_layers.py [--runs 200]

The floor is fork + exit + wait of a process that has imported torch (as the zygote has).
Each layer is then timed the way a run pays it: in a forked child (namespaces, the fresh
procfs, the seccomp filter with its prctl rules) or in the zygote (the run's cgroup, its
uid lock, the pipes). Printed as medians, each with its difference to the floor. Root only.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402, F401 - the floor is a process that has imported torch

from sandbox import isolation  # noqa: E402


def in_a_fork(layer: Callable[[], None] | None) -> float:
    """Seconds for fork, the layer in the child, exit and wait."""
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            if layer is not None:
                layer()
        except BaseException:  # noqa: BLE001 - the bench says the layer failed
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("a layer failed in the child: run this as root")
    return elapsed


def in_a_pid_namespace(layer: Callable[[], None]) -> float:
    """As in_a_fork, in a fresh PID namespace (as the run's child is): the procfs layer needs one."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        isolation.unshare(isolation.CLONE_NEWPID)
        elapsed = in_a_fork(layer)
        os.write(write_fd, repr(elapsed).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        return float(pipe.read())


def private_mounts() -> None:
    isolation.unshare(isolation.CLONE_NEWNS)
    isolation._check(isolation.libc.mount(b"none", b"/", None, isolation.MS_REC | isolation.MS_PRIVATE, None), "mount")


def private_mounts_and_fresh_proc() -> None:
    private_mounts()
    isolation.mount_fresh_proc()


def seccomp_with_prctl_rules() -> None:
    isolation.prctl(isolation.PR_SET_NO_NEW_PRIVS, 1)
    isolation.seccomp_apply()


def uid_lock(folder: str) -> float:
    started = time.perf_counter()
    fd = os.open(os.path.join(folder, "200001"), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.close(fd)
    return time.perf_counter() - started


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    runs = parser.parse_args().runs
    if os.geteuid() != 0:
        raise SystemExit("sandbox_layers: run it as root (the layers are root's)")

    def alone(flag: int) -> Callable[[], None]:
        return lambda: isolation.unshare(flag)

    # Interleaved, one sample of each per round, so the machine's load drifts over all alike.
    forked = {
        "floor": lambda: in_a_fork(None),
        "IPC namespace": lambda: in_a_fork(alone(isolation.CLONE_NEWIPC)),
        "UTS namespace + hostname": lambda: in_a_fork(
            lambda: (alone(isolation.CLONE_NEWUTS)(), isolation.set_hostname())
        ),
        "cgroup namespace": lambda: in_a_fork(alone(isolation.CLONE_NEWCGROUP)),
        "seccomp filter with its prctl rules": lambda: in_a_fork(seccomp_with_prctl_rules),
        "private mounts": lambda: in_a_pid_namespace(private_mounts),
        "private mounts + fresh procfs": lambda: in_a_pid_namespace(private_mounts_and_fresh_proc),
    }
    folder = tempfile.mkdtemp()
    samples: dict[str, list[float]] = {name: [] for name in forked}
    samples["uid lock"] = []
    for _ in range(runs):
        for name, measure in forked.items():
            samples[name].append(measure())
        samples["uid lock"].append(uid_lock(folder))
    medians = {name: median_ms(values) for name, values in samples.items()}
    floor = medians["floor"]
    costs = {
        "IPC namespace": medians["IPC namespace"] - floor,
        "UTS namespace + hostname": medians["UTS namespace + hostname"] - floor,
        "cgroup namespace": medians["cgroup namespace"] - floor,
        "fresh procfs (over private mounts)": medians["private mounts + fresh procfs"] - medians["private mounts"],
        "prctl rules (whole seccomp filter, which existed before)": medians["seccomp filter with its prctl rules"]
        - floor,
        "uid lock (open + flock + close)": medians["uid lock"],
    }
    print(f"floor: fork + exit + wait of a process that imported torch, median   {floor:7.3f} ms  ({runs} rounds)")
    for name, cost in costs.items():
        print(f"  {name:<58} {cost:+7.3f} ms")
    new = sum(cost for name, cost in costs.items() if not name.startswith("prctl"))
    print(f"  {'the new layers together (without the filter)':<58} {new:+7.3f} ms  ({new / floor:.2f} x the floor)")


if __name__ == "__main__":
    main()
