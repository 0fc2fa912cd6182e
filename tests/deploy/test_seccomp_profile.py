"""The sandbox's seccomp profile: Docker's default, vendored as it is, plus our small additions.

compose/sandbox/seccomp/profile.json (what the compose file points at) must be exactly
docker-default.json with additions.json's rules appended, so a review of the additions is a
review of everything that differs from Docker's default. The profile is compiled here as
Docker compiles it (tests/deploy/docker_seccomp.py, libseccomp), and applied to a process.
"""

import ctypes.util
import json
import os
import subprocess
import sys

import pytest

from tests.deploy import docker_seccomp
from tests.deploy.docker import ROOT, project

FOLDER = ROOT / "compose" / "sandbox" / "seccomp"
DEFAULT = json.loads((FOLDER / "docker-default.json").read_text())
ADDITIONS = json.loads((FOLDER / "additions.json").read_text())
PROFILE = json.loads((FOLDER / "profile.json").read_text())


def test_the_profile_is_dockers_default_plus_our_additions_and_nothing_else():
    assert {key: value for key, value in PROFILE.items() if key != "syscalls"} == {
        key: value for key, value in DEFAULT.items() if key != "syscalls"
    }
    assert PROFILE["syscalls"] == DEFAULT["syscalls"] + ADDITIONS["syscalls"]
    done = subprocess.run([sys.executable, str(FOLDER / "merge.py"), "--check"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_vendored_default_is_named_with_its_version_commit_and_licence():
    notes = (FOLDER / "VENDORED.md").read_text()
    assert "moby/profiles" in notes and "v0.2.3" in notes
    assert "b985e2313a8676e18072b442911fc8f64f17d440" in notes
    assert "Apache License" in (FOLDER / "LICENSE.docker-default").read_text()
    assert DEFAULT["defaultAction"] == "SCMP_ACT_ERRNO" and len(DEFAULT["syscalls"]) > 20


def test_the_additions_are_only_what_user_namespaces_need_each_with_its_reason():
    names = sorted(name for rule in ADDITIONS["syscalls"] for name in rule["names"])
    assert names == ["mount", "sethostname", "unshare"]
    assert all(rule["action"] == "SCMP_ACT_ALLOW" and rule["comment"] for rule in ADDITIONS["syscalls"])
    # Docker's default allows each of them only with CAP_SYS_ADMIN, which the sandbox has not.
    for name in names:
        rules = [rule for rule in DEFAULT["syscalls"] if name in rule["names"] and rule["action"] == "SCMP_ACT_ALLOW"]
        assert rules and all(not docker_seccomp.applies(rule, arch="amd64") for rule in rules), name


@pytest.mark.parametrize("service", ["sandbox", "sandbox-gpu"])
def test_the_compose_file_gives_the_sandboxes_that_profile(service):
    definition = project({"POSTGRES_PASSWORD": "-", "REDIS_PASSWORD": "-"})["services"][service]
    assert "seccomp=./compose/sandbox/seccomp/profile.json" in definition["security_opt"]
    assert "systempaths=unconfined" in definition["security_opt"]  # sandbox/README.md: the fresh procfs


def test_moby_rules_are_read_for_a_container_without_capabilities():
    assert docker_seccomp.applies({"names": ["x"]}, arch="amd64")
    assert not docker_seccomp.applies({"includes": {"caps": ["CAP_SYS_ADMIN"]}}, arch="amd64")
    assert docker_seccomp.applies({"excludes": {"caps": ["CAP_SYS_ADMIN"]}}, arch="amd64")
    assert not docker_seccomp.applies({"includes": {"arches": ["s390x"]}}, arch="amd64")
    assert not docker_seccomp.applies({"excludes": {"arches": ["amd64"]}}, arch="amd64")
    assert docker_seccomp.applies({"includes": {"minKernel": "4.8"}}, arch="amd64")


UNSHARE_PROBE = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    result = libc.unshare(0x10000000)  # CLONE_NEWUSER
    os._exit(0 if result == 0 else ctypes.get_errno())
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


@pytest.mark.parametrize(("profile", "errno"), [("docker-default.json", 1), ("profile.json", 0)])
def test_the_compiled_profile_refuses_or_allows_a_user_namespace(profile, errno):
    """Compiled with libseccomp and applied: Docker's default says EPERM to unshare, ours allows it."""
    if not ctypes.util.find_library("seccomp") or os.uname().machine != "x86_64":
        pytest.skip("needs libseccomp on x86_64")
    program = docker_seccomp.compile_profile(json.loads((FOLDER / profile).read_text()))
    assert program and len(program) % 8 == 0
    done = subprocess.run(
        [sys.executable, docker_seccomp.__file__, str(FOLDER / profile), sys.executable, "-c", UNSHARE_PROBE],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(errno)
