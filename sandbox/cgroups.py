"""A control group per run: one memory cap and one process cap for all of the run's processes.

Resource limits count per process (address space) or per user (processes); a run that
forks could multiply them. A cgroup counts the run as a whole, and lets the zygote kill
every process of the run at once, whatever the run did to its own signals. Groups are
made by the zygote under its own cgroup (v1: the memory and pids hierarchies; v2: the
unified one), one name per run that is never used twice. Where the machine gives cgroups,
a run starts only inside its group with its caps in place: a group that cannot be made
fails the run, and says why. An unprivileged zygote (in a container) uses its own cgroup
where the host delegated it, writable by its uid. Where it gives none (nothing delegated),
`availability` says so, the sandbox prints it at start and `python -m sandbox check`
lists the layer as missing.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PREFIX = "gradlab-run-"
_sequence = itertools.count(1)


class CgroupError(RuntimeError):
    """The run's group could not be made with its caps: the run must not start."""


def _own_paths() -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    paths = {}
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return paths
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            paths[controller] = path
    return paths


def _parents() -> list[tuple[Path, dict[str, str]]] | None:
    """Where this process's run groups go, with the caps each takes; None where nothing is possible."""
    own = _own_paths()
    memory_v1, pids_v1 = ROOT / "memory", ROOT / "pids"
    if memory_v1.is_dir() and "memory" in own and pids_v1.is_dir() and "pids" in own:
        return [
            (memory_v1 / own["memory"].lstrip("/"), {"memory": "v1"}),
            (pids_v1 / own["pids"].lstrip("/"), {"pids": "v1"}),
        ]
    if (ROOT / "cgroup.controllers").is_file() and "" in own:
        parent = ROOT / own[""].lstrip("/")
        try:
            delegated = (parent / "cgroup.subtree_control").read_text().split()
        except OSError:
            return None
        if {"memory", "pids"} <= set(delegated):
            return [(parent, {"memory": "v2", "pids": "v2"})]
    return None


def _usable_parents() -> tuple[list[tuple[Path, dict[str, str]]] | None, str]:
    """The parents run groups go under, or None with the reason there are none here.

    Root uses its own cgroup. An unprivileged zygote (the container path) uses it only where
    the host delegated it a writable subtree: its own cgroup's folders writable by it.
    """
    parents = _parents()
    root = os.geteuid() == 0
    if parents is None:
        why = (
            "no memory and pids controllers delegated to the sandbox's cgroup "
            f"(cgroup v1 memory+pids hierarchies, or v2 cgroup.subtree_control with memory pids, under {ROOT})"
        )
        return None, why if root else f"{why}: {DELEGATION_REMEDY}"
    for parent, _ in parents:
        if not os.access(parent, os.W_OK):
            if root:
                return None, f"{parent} is not writable"
            return None, f"{parent} is not writable by the service's uid {os.geteuid()}: {DELEGATION_REMEDY}"
    return parents, "memory and process caps per run"


# What an operator does where the container's cgroup is not the sandbox's to divide.
DELEGATION_REMEDY = (
    "Docker mounts /sys/fs/cgroup read-only and delegates no subtree to an unprivileged service, so under"
    " Docker set SANDBOX_ISOLATION=reduced (runs then share the container's memory and pids limits); elsewhere"
    " give the service a cgroup of its own, writable by its uid, with memory and pids enabled"
)


def availability() -> tuple[bool, str]:
    """Whether runs get a control group here, and if not, why (for the start message and check)."""
    parents, why = _usable_parents()
    return parents is not None, why


def shared_pids_max() -> int | None:
    """The lowest pids.max over this process's cgroup and its parents (the container's), None for no cap."""
    own = _own_paths()
    if "pids" in own and (ROOT / "pids").is_dir():
        folder = ROOT / "pids" / own["pids"].lstrip("/")
        top = ROOT / "pids"
    elif "" in own:
        folder = ROOT / own[""].lstrip("/")
        top = ROOT
    else:
        return None
    lowest = None
    while True:
        with contextlib.suppress(OSError, ValueError):
            value = (folder / "pids.max").read_text().strip()
            if value != "max":
                lowest = int(value) if lowest is None else min(lowest, int(value))
        if folder == top or top not in folder.parents:
            return lowest
        folder = folder.parent


@dataclass
class RunGroup:
    """The cgroup directories of one run (one per v1 hierarchy, or one in v2)."""

    folders: list[Path] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.folders)

    @property
    def name(self) -> str:
        return self.folders[0].name if self.folders else ""

    def add(self, pid: int) -> None:
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        found: set[int] = set()
        for folder in self.folders:
            with contextlib.suppress(FileNotFoundError):
                found |= {int(pid) for pid in (folder / "cgroup.procs").read_text().split()}
        return found

    def empty(self) -> bool:
        return not self.pids()

    def _counter(self, file: str, key: str) -> int:
        total = 0
        for folder in self.folders:
            with contextlib.suppress(OSError, ValueError):
                for line in (folder / file).read_text().splitlines():
                    name, _, value = line.partition(" ")
                    if name == key:
                        total += int(value)
        return total

    def oom_kills(self) -> int:
        """How many of the run's processes the kernel killed for going over the memory cap."""
        return self._counter("memory.oom_control", "oom_kill") + self._counter("memory.events", "oom_kill")

    def hit_process_cap(self) -> bool:
        """Whether the run tried to start more processes or threads than its cap allows."""
        return self._counter("pids.events", "max") > 0

    def kill(self) -> None:
        """SIGKILL every process of the run: cgroup.kill where the kernel has it, else one by one."""
        for folder in self.folders:
            kill_file = folder / "cgroup.kill"
            if kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
        for _ in range(100):  # v1: a forking run may add a process between read and kill
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def remove(self) -> list[str]:
        """Remove the run's groups; returns what could not be removed yet (and why), to retry."""
        problems = []
        remaining = []
        for folder in self.folders:
            try:
                folder.rmdir()
            except FileNotFoundError:
                pass
            except OSError as error:  # the kernel is still reaping the last process
                problems.append(f"{folder}: {error.strerror}")
                remaining.append(folder)
        self.folders = remaining
        return problems


def run_group(*, memory_bytes: int, processes: int) -> RunGroup:
    """Make the group(s) for one run with their caps, under a name no run had before.

    An empty RunGroup where the machine gives no cgroups (`availability`); CgroupError
    where it does and this group could not be made in full.
    """
    parents = _parents() if os.geteuid() == 0 else _usable_parents()[0]
    group = RunGroup()
    if parents is None:
        return group
    name = f"{PREFIX}{os.getpid()}-{next(_sequence)}-{os.urandom(4).hex()}"
    values = {
        "memory.limit_in_bytes": str(memory_bytes),
        # memsw (memory plus swap) exists only with swap accounting; set after the plain limit.
        "memory.memsw.limit_in_bytes": str(memory_bytes),
        "memory.max": str(memory_bytes),
        "memory.swap.max": "0",
        "pids.max": str(processes),
    }
    required = {"v1": {"memory": "memory.limit_in_bytes", "pids": "pids.max"}, "v2": {"memory": "memory.max"}}
    try:
        for parent, controllers in parents:
            folder = parent / name
            folder.mkdir()  # never exist_ok: a leftover of that name would hand over its settings
            group.folders.append(folder)
            for controller, version in controllers.items():
                must = required[version].get(controller) or "pids.max"
                if not (folder / must).exists():
                    raise CgroupError(f"{folder}: no {must} (the {controller} controller is not enabled)")
            for file, value in values.items():
                target = folder / file
                if target.exists():
                    try:
                        target.write_text(value)
                    except OSError:
                        if file not in ("memory.memsw.limit_in_bytes", "memory.swap.max"):
                            raise
    except (OSError, CgroupError) as error:
        group.remove()
        raise CgroupError(f"cannot make the run's control group: {error}") from None
    return group


def remove_stale() -> list[str]:
    """Remove the groups of zygotes that are gone (killed before they cleaned up); returns problems."""
    problems = []
    for parent, _ in (_parents() if os.geteuid() == 0 else _usable_parents()[0]) or []:
        for folder in parent.glob(f"{PREFIX}*"):
            owner = folder.name.removeprefix(PREFIX).split("-", 1)[0]
            if owner.isdigit() and not Path(f"/proc/{owner}").exists():
                stale = RunGroup([folder])
                stale.kill()
                problems += stale.remove()
    return problems
