"""The whole hostile suite again, against the sandbox as its compose container runs it.

The service runs under tests/deploy/container.sh the way docker-compose.yml starts the
`sandbox` service: the image's user (uid 10002, no capabilities), no network, the
repository read-only, no-new-privileges, the compose file's seccomp profile (Docker's
default plus compose/sandbox/seccomp/additions.json, compiled with libseccomp),
Docker's masked and read-only /proc paths lifted as `systempaths=unconfined` lifts them,
and the container's cgroup (pids_limit, mem_limit) delegated to its user, as a host that
delegates a subtree does. The zygote then takes the container path: every run in a user
and PID namespace of its own, the other namespaces, tmpfs and procfs inside it.

Not emulated here: AppArmor (this machine has none; Docker's docker-default profile denies
mount, see sandbox/README.md), the container's own PID namespace, and the tmpfs on /tmp
(the work root stays on the host's disk so these tests can see that nothing is left in it;
tests/deploy runs the service on its tmpfs).
"""

import os
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from sandbox import client
from tests.sandbox.conftest import ROOT
from tests.sandbox.test_hostile import *  # noqa: F403 - the same cases, collected here against this service

pytestmark = [pytest.mark.slow]

IMAGE_USER = "10002:10001"  # the image: user sandbox, group gradlab
CONTAINER = ROOT / "tests" / "deploy" / "container.sh"
PROFILE = ROOT / "compose" / "sandbox" / "seccomp" / "profile.json"
CGROUP_V1 = Path("/sys/fs/cgroup")


def container_wrapper(cgroup: str, *extra: str) -> list[str]:
    return [
        "unshare",
        "--mount",
        "--net",
        "sh",
        str(CONTAINER),
        "--user",
        IMAGE_USER,
        "--no-new-privs",
        "--read-only",
        str(ROOT),
        "--seccomp",
        str(PROFILE),
        "--cgroup",
        cgroup,
        "--pids-limit",
        "256",
        "--memory",
        str(4 * 1024**3),
        *extra,
        "--",
    ]


def skip_unless_container_emulation() -> None:
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("the container emulation needs root, unshare and setpriv")
    if not (CGROUP_V1 / "memory" / "cgroup.procs").exists() or not (CGROUP_V1 / "pids" / "cgroup.procs").exists():
        pytest.skip("the container emulation delegates cgroup v1 memory and pids hierarchies")
    done = subprocess.run(
        ["python3", "-c", "import ctypes.util; print(ctypes.util.find_library('seccomp'))"],
        capture_output=True,
        text=True,
    )
    if done.stdout.strip() in ("", "None"):
        pytest.skip("libseccomp is needed to compile Docker's profile")


def remove_cgroup(name: str) -> None:
    for controller in ("memory", "pids"):
        folder = CGROUP_V1 / controller / name
        if folder.exists():
            for child in folder.iterdir():
                if child.is_dir():
                    child.rmdir()
            folder.rmdir()


@pytest.fixture(scope="module")
def sandbox_service(sandbox_python, open_folder):
    """The sandbox service as its compose container runs it (see the module's docstring)."""
    skip_unless_container_emulation()
    folder = open_folder / "container-service"
    folder.mkdir()
    folder.chmod(0o777)  # the image's user makes its socket and work root here
    cgroup = f"gradlab-test-container-{uuid.uuid4().hex[:8]}"
    work_root = folder / "work"
    service = client.SandboxService(
        python=sandbox_python,
        socket_path=folder / "sandbox.sock",
        env={"SANDBOX_WORK_ROOT": str(work_root), "SANDBOX_MAX_RUNS": "2"},
        wrapper=container_wrapper(cgroup, "--systempaths-unconfined", "--delegate"),
    )
    try:
        service.start()
        service.work_root = work_root
        service.container = True
        yield service
    finally:
        service.stop()
        remove_cgroup(cgroup)


def test_it_runs_every_run_in_a_user_namespace_of_its_own(run_in_sandbox, contained):
    """The container path really is taken: the run's uid map is its own, its capabilities none."""
    code = (
        "status = open('/proc/self/status').read()\n"
        "print(open('/proc/self/uid_map').read().split(), status.split('CapEff:')[1].split()[0])\n"
    )
    result, _ = run_in_sandbox(code=code, limits={"timeout_s": 5})
    assert result["log"] == "['10002', '10002', '1'] 0000000000000000\n", result
    contained()
