"""A run's control group: made with its caps under a name never used before, or not at all.

Once, a leftover `gradlab-run-<pid>` made the next run with that pid start with no memory or
process cap, silently. These tests make real groups on this machine (as root) and one in a
folder that is not a cgroup at all, where the caps cannot be set.
"""

import os
import signal
import subprocess
import time

import pytest

from sandbox import cgroups

needs_cgroups = pytest.mark.skipif(not cgroups.availability()[0], reason="this machine gives no cgroups")


@needs_cgroups
def test_each_run_gets_a_group_of_its_own_with_its_caps():
    first = cgroups.run_group(memory_bytes=512 * 1024**2, processes=17)
    second = cgroups.run_group(memory_bytes=512 * 1024**2, processes=17)
    try:
        assert first.name != second.name
        caps = {}
        for folder in first.folders:
            for name in ("memory.limit_in_bytes", "memory.max", "pids.max"):
                if (folder / name).exists():
                    caps[name] = (folder / name).read_text().strip()
        assert caps.get("pids.max") == "17"
        assert str(512 * 1024**2) in (caps.get("memory.limit_in_bytes"), caps.get("memory.max"))
    finally:
        assert first.remove() == [] and second.remove() == []


def test_a_group_that_cannot_get_its_caps_fails_the_run_and_leaves_nothing(tmp_path, monkeypatch):
    """A folder where the memory cap cannot be set: no group, a reason, nothing left behind."""
    monkeypatch.setattr(cgroups, "_parents", lambda: [(tmp_path, {"memory": "v1"})])
    monkeypatch.setattr(cgroups.os, "geteuid", lambda: 0)
    with pytest.raises(cgroups.CgroupError, match=r"no memory\.limit_in_bytes"):
        cgroups.run_group(memory_bytes=1024**3, processes=64)
    assert list(tmp_path.iterdir()) == []


@needs_cgroups
def test_a_group_that_cannot_be_removed_yet_is_reported_and_removed_on_retry():
    group = cgroups.run_group(memory_bytes=256 * 1024**2, processes=8)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        group.add(sleeper.pid)
        problems = group.remove()
        assert problems and "Device or resource busy" in problems[0]
        assert group.pids() == {sleeper.pid}
        group.kill()
        sleeper.wait(timeout=5)
        deadline = time.monotonic() + 5
        while (problems := group.remove()) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert problems == []
        assert not any(folder.exists() for folder in group.folders)
    finally:
        if sleeper.poll() is None:
            os.kill(sleeper.pid, signal.SIGKILL)


@needs_cgroups
def test_the_groups_of_a_zygote_that_is_gone_are_removed_at_start():
    group = cgroups.run_group(memory_bytes=256 * 1024**2, processes=8)
    stale = [folder.with_name(f"{cgroups.PREFIX}999999999-1-abcd") for folder in group.folders]
    group.remove()
    for folder in stale:
        folder.mkdir()
    assert cgroups.remove_stale() == []
    assert not any(folder.exists() for folder in stale)
