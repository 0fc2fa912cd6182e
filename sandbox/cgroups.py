"""A control group per run: one memory cap and one process cap for all of the run's processes.

Resource limits count per process (address space) or per user (processes); a run that
forks could multiply them. A cgroup counts the run as a whole. Created under the
supervisor's own cgroup (v1: the memory and pids hierarchies; v2: the unified one),
when the machine lets us; otherwise the run goes on with the per-process limits alone
and `python -m sandbox check` says so.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")


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


@dataclass
class RunGroup:
    """The cgroup directories of one run (one per v1 hierarchy, or one in v2)."""

    folders: list[Path] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.folders)

    def add(self, pid: int) -> None:
        for folder in self.folders:
            (folder / "cgroup.procs").write_text(str(pid))

    def oom_kills(self) -> int:
        """How many of the run's processes the kernel killed for going over the memory cap."""
        kills = 0
        for folder in self.folders:
            for name in ("memory.oom_control", "memory.events"):
                with contextlib.suppress(OSError, ValueError):
                    for line in (folder / name).read_text().splitlines():
                        key, _, value = line.partition(" ")
                        if key == "oom_kill":
                            kills += int(value)
        return kills

    def remove(self) -> None:
        """Remove the run's groups once its processes are gone (they are, or are dying)."""
        for folder in self.folders:
            for _ in range(50):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.01)  # the kernel is still reaping the last process


def _make(folder: Path, settings: dict[str, str]) -> bool:
    try:
        folder.mkdir()
    except OSError:
        return False
    try:
        for name, value in settings.items():
            target = folder / name
            if target.exists():
                target.write_text(value)
        return True
    except OSError:
        with contextlib.suppress(OSError):
            folder.rmdir()
        return False


def run_group(*, name: str, memory_bytes: int, processes: int) -> RunGroup:
    """Make the cgroup(s) for one run, capped; an empty RunGroup where that is not possible."""
    group = RunGroup()
    if os.geteuid() != 0:
        return group
    own = _own_paths()
    memory_v1, pids_v1 = ROOT / "memory", ROOT / "pids"
    if memory_v1.is_dir() and "memory" in own:
        folder = memory_v1 / own["memory"].lstrip("/") / name
        # memsw (memory plus swap) exists only with swap accounting; set after the plain limit.
        limits = {"memory.limit_in_bytes": str(memory_bytes), "memory.memsw.limit_in_bytes": str(memory_bytes)}
        if _make(folder, limits):
            group.folders.append(folder)
        if pids_v1.is_dir() and "pids" in own:
            folder = pids_v1 / own["pids"].lstrip("/") / name
            if _make(folder, {"pids.max": str(processes)}):
                group.folders.append(folder)
    elif (ROOT / "cgroup.controllers").is_file() and "" in own:
        folder = ROOT / own[""].lstrip("/") / name
        if _make(folder, {"memory.max": str(memory_bytes), "memory.swap.max": "0", "pids.max": str(processes)}):
            if (folder / "memory.max").exists():
                group.folders.append(folder)
            else:  # the memory controller is not delegated here: this group would cap nothing
                with contextlib.suppress(OSError):
                    folder.rmdir()
    return group
