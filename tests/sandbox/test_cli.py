"""`python -m sandbox`: the command-line contract of the design."""

import pytest

from tests.sandbox.conftest import ROOT, STANDARD, write_json

pytestmark = pytest.mark.slow


def results(lines):
    return [line for line in lines if line["type"] == "result"]


def test_it_runs_several_specs_in_turn_and_prints_json_lines(sandbox_cli, tmp_path):
    first = write_json(tmp_path / "first.json", {**STANDARD, "train": {"steps": 5}})
    second = write_json(tmp_path / "second.json", {"model": {"arch": "lstm"}, "train": {"steps": 3}})
    status, lines, _ = sandbox_cli("run", first, second)
    assert status == 0
    assert [result["status"] for result in results(lines)] == ["ok", "ok"]
    assert lines[0]["type"] == "progress"
    assert lines[-1]["layers"] == ["layer1", "output"]


def test_it_exits_non_zero_when_a_run_is_not_ok_and_names_the_file_and_line(sandbox_cli, tmp_path):
    good = write_json(tmp_path / "good.json", {"train": {"steps": 2}})
    broken = tmp_path / "broken.json"
    broken.write_text('{\n  "model": {"depth": 3,}\n}\n')
    status, lines, _ = sandbox_cli("run", good, broken, tmp_path / "missing.json")
    assert status == 1
    found = results(lines)
    assert [result["status"] for result in found] == ["ok", "invalid", "invalid"]
    assert found[1]["error"].startswith(f"{broken}:2: not valid JSON")
    assert found[2]["error"] == f"{tmp_path / 'missing.json'}: cannot read it (No such file or directory)"


def test_it_runs_learner_code_with_an_optional_spec(sandbox_cli, tmp_path):
    spec = write_json(tmp_path / "spec.json", {"train": {"steps": 4}})
    status, lines, _ = sandbox_cli("run", "--code", ROOT / "sandbox" / "templates" / "mlp.py", spec)
    assert status == 0
    (result,) = results(lines)
    assert result["steps"] == [0, 1, 2, 3]


def test_it_reports_a_syntax_error_in_learner_code_with_its_line(sandbox_cli, tmp_path):
    code = tmp_path / "mine.py"
    code.write_text("x = (\n")
    status, lines, _ = sandbox_cli("run", "--code", code)
    assert status == 1
    (result,) = results(lines)
    assert result["status"] == "invalid"
    assert result["line"] == 1


def test_it_drops_the_callers_environment_before_anything_runs(sandbox_cli, tmp_path):
    code = tmp_path / "env.py"
    code.write_text("import os\nprint(sorted(os.environ))\nprint(open('/proc/self/environ', 'rb').read())\n")
    _, lines, _ = sandbox_cli("run", "--code", code, env={"DATABASE_URL": "postgres://secret@db/prod"})
    (result,) = results(lines)
    assert "['HOME', 'LANG', 'TMPDIR']" in result["log"]
    assert "secret" not in result["log"]


def test_it_applies_limits_from_the_environment(sandbox_cli, tmp_path):
    code = tmp_path / "spin.py"
    code.write_text("while True:\n    pass\n")
    _, lines, _ = sandbox_cli("run", "--code", code, env={"SANDBOX_TIMEOUT_S": "2"})
    (result,) = results(lines)
    assert result["status"] == "timeout"
    assert result["error"] == "the run took longer than 2 s"


def test_check_lists_every_layer_a_run_gets_as_root_and_none_missing(sandbox_python, open_folder):
    import json
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("the full set of layers needs root")
    done = subprocess.run(
        [sandbox_python, "-m", "sandbox", "check"],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "SANDBOX_WORK_ROOT": str(open_folder / "check-work")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    child = report["child"]
    assert (child["pid"], child["procfs_self"], child["hostname"], child["cgroups"]) == (1, "1", "gradlab-run", ["/"])
    assert child["uid"] >= 200_000
    assert report["missing"] == []


SECCOMP = "--seccomp", str(ROOT / "compose" / "sandbox" / "seccomp" / "profile.json")
FULL = "SANDBOX_ISOLATION=full"
REDUCED = "SANDBOX_ISOLATION=reduced"
CGROUP_REMEDY = "under Docker set SANDBOX_ISOLATION=reduced"


def serve_in_a_container(sandbox_python, folder, options, environment):
    """`serve` as the image's user under tests/deploy/container.sh; (exit status or None while serving, stderr)."""
    import contextlib
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("becoming the image's user needs root, unshare and setpriv")
    folder.mkdir(mode=0o777)
    folder.chmod(0o777)
    cgroup = f"gradlab-test-serve-{folder.name}"
    if "--pids-limit" in options:
        options = [*options, "--cgroup", cgroup]
    command = [sandbox_python, "-m", "sandbox", "serve", "--socket", str(folder / "s.sock")]
    process = subprocess.Popen(
        [
            *("unshare", "--mount", "--net", "sh", str(ROOT / "tests" / "deploy" / "container.sh")),
            *("--user", "10002:10001", "--no-new-privs", *options, "--", "env", *environment, *command),
        ],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "SANDBOX_WORK_ROOT": str(folder / "work")},
        stderr=subprocess.PIPE,
        text=True,
    )
    lines, pong = [], None
    try:
        for line in process.stderr:
            lines.append(line)
            if "serving on" in line:
                from sandbox import client

                pong = client.ping(folder / "s.sock", timeout_s=10)
                break
    finally:
        process.terminate()
        status = process.wait(timeout=20)
        for controller in ("memory", "pids"):
            with contextlib.suppress(FileNotFoundError):
                os.rmdir(f"/sys/fs/cgroup/{controller}/{cgroup}")
    return (None if pong is not None else status), "".join(lines), pong


@pytest.mark.parametrize(
    ("name", "options", "environment", "refusal"),
    [
        (
            "dockers-default-profile",
            [],
            [FULL],
            "PID namespace is missing (a seccomp filter on the service refuses unshare (in Docker: security_opt"
            " seccomp=compose/sandbox/seccomp/profile.json",
        ),
        (
            "masked-proc",
            [*SECCOMP],
            [FULL],
            "fresh procfs is missing (the kernel refuses a fresh procfs in a user namespace while /proc has masked"
            " or read-only paths (Docker masks some: security_opt systempaths=unconfined lifts it",
        ),
        (
            "no-delegated-cgroup",
            [*SECCOMP, "--systempaths-unconfined"],
            [FULL],
            "control group (memory and process caps for the whole run) is missing (/sys/fs/cgroup/memory/",
        ),
        (
            "pids-max-too-small",
            [*SECCOMP, "--systempaths-unconfined", "--pids-limit", "100"],
            [REDUCED],
            "SANDBOX_MAX_RUNS × SANDBOX_PROCESSES + 16 = 2 × 64 + 16 = 144 exceeds the container's pids.max (100)",
        ),
        ("bad-setting", [*SECCOMP], ["SANDBOX_ISOLATION=some"], "SANDBOX_ISOLATION: must be full or reduced"),
    ],
)
def test_serve_refuses_to_start_without_a_layer_and_names_the_setting(
    sandbox_python, open_folder, name, options, environment, refusal
):
    """In a container (the image's user, Docker's settings emulated) a missing layer stops the start."""
    status, text, _ = serve_in_a_container(
        sandbox_python, open_folder / f"refuse-{name}", options, ["SANDBOX_MAX_RUNS=2", *environment]
    )
    assert status == 2, text
    assert refusal in text, text
    if name == "no-delegated-cgroup":
        assert CGROUP_REMEDY in text and "or set SANDBOX_ISOLATION=reduced" in text, text


def test_serve_starts_with_reduced_isolation_when_told_and_says_what_is_missing(sandbox_python, open_folder):
    status, text, pong = serve_in_a_container(
        sandbox_python,
        open_folder / "reduced",
        [*SECCOMP, "--systempaths-unconfined"],
        ["SANDBOX_MAX_RUNS=2", REDUCED],
    )
    assert status is None, text
    assert "sandbox: reduced isolation (SANDBOX_ISOLATION=reduced)" in text, text
    assert [item["layer"] for item in pong["missing"]] == ["control group (memory and process caps for the whole run)"]
    assert pong["isolation"] == "reduced"
