"""`python3 dev.py run` watches every process it starts: one that dies is restarted, and a
signal to dev.py (a service manager's SIGTERM, a closed terminal's SIGHUP, Ctrl+C) stops
them all, the worker's pool and the sandbox's processes included."""

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.lab.conftest import wait_for
from tests.test_dev_run import _listening, dev

ROLES = {
    # The sandbox re-executes itself with a boot pipe: `python -c "...runpy..." ROOT --boot-fd 3 serve`.
    "sandbox service": lambda argv: "serve" in argv and any("sandbox" in arg for arg in argv),
    "worker": lambda argv: "celery" in argv and "worker" in argv,
    "scheduler": lambda argv: "celery" in argv and "beat" in argv,
    "web server": lambda argv: any("uvicorn" in arg for arg in argv),
}


def _children_of(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _tree(pid: int) -> list[int]:
    """Every living descendant of `pid` (zombies count as gone)."""
    tree, todo = [], [pid]
    while todo:
        for child in _children_of(todo.pop()):
            if _alive(child):
                tree.append(child)
            todo.append(child)
    return tree


def _tree_beyond(pid: int, count: int) -> list[int] | None:
    tree = _tree(pid)
    return tree if len(tree) > count else None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace").split("\0")
    except OSError:
        return []


def _role_pids(dev_pid: int) -> dict[str, int]:
    """The main process of each child of dev.py, by role."""
    roles = {}
    for pid in _children_of(dev_pid):
        if not _alive(pid):
            continue
        argv = _argv(pid)
        for role, matches in ROLES.items():
            if matches(argv):
                roles[role] = pid
    return roles


@pytest.fixture
def dev_run(tmp_path):
    from tests.lab.conftest import free_port

    port = free_port()
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "LAB_SANDBOX_SOCKET")
    }
    environment.update({"GRADLAB_VAR_DIR": str(tmp_path), "GRADLAB_PORT": str(port), "GRADLAB_WORKERS": "1"})
    log = (tmp_path / "dev.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "dev.py"), "run"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # the test's own group stays out of what dev.py is sent
    )
    try:
        wait_for(lambda: _listening(port) or process.poll() is not None, timeout_s=240, what="dev.py run to serve")
        assert process.poll() is None, (tmp_path / "dev.log").read_text()
        wait_for(lambda: len(_role_pids(process.pid)) == len(ROLES), timeout_s=60, what="all four processes")
        yield process, tmp_path / "dev.log"
    finally:
        everything = _tree(process.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # dev.py's own group, and whatever stayed in it
        for pid in everything:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=30)
        log.close()


@pytest.mark.slow
def test_it_restarts_any_of_its_processes_that_is_killed_and_says_so(dev_run):
    process, log = dev_run
    for role in ROLES:
        before = _role_pids(process.pid)
        group = [pid for pid in _tree(process.pid) if os.getpgid(pid) == before[role]]
        os.kill(before[role], signal.SIGKILL)

        restarted = wait_for(
            lambda role=role, old=before[role]: (pid := _role_pids(process.pid).get(role)) not in (None, old) and pid,
            timeout_s=30,
            what=f"the {role} to be restarted",
        )
        # What it left behind (a worker's pool process) is gone with it; the others kept running.
        assert not [pid for pid in group if _alive(pid) and pid != restarted]
        others = {name: pid for name, pid in _role_pids(process.pid).items() if name != role}
        assert others == {name: pid for name, pid in before.items() if name != role}
        assert f"the {role} ended (exit status -9); restarting it" in log.read_text()
    assert process.poll() is None


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_to_dev_run_stops_everything_it_started_within_seconds(dev_run, signum):
    process, log = dev_run
    # The four, and the worker's pool process (in the worker's group, not a child of dev.py).
    everything = wait_for(lambda: _tree_beyond(process.pid, len(ROLES)), timeout_s=30, what="the worker's pool")

    os.kill(process.pid, signum)

    wait_for(lambda: not [pid for pid in everything if _alive(pid)], timeout_s=10, what="every process to stop")
    assert process.wait(timeout=5) == (0 if signum == signal.SIGINT else 128 + signum)
    assert f"stopping ({signal.Signals(signum).name})" in log.read_text()


def test_a_crashing_child_waits_longer_each_time_and_one_that_keeps_crashing_stops_everything(tmp_path):
    clock = [0.0]

    def now() -> float:
        clock[0] += 1.0
        return clock[0]

    child = dev.Child("worker", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    child.start()

    assert dev.supervise([child], poll_s=0.01, now=now) == 1
    assert len(child.crashes) == dev.MAX_CRASHES
    assert [dev.restart_delay(n) for n in range(1, 6)] == [1, 2, 4, 8, 16]
