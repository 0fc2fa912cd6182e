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


def test_serve_names_the_layers_it_cannot_give_at_start(sandbox_python, open_folder):
    """As an ordinary user (uid 10002, as tests/deploy runs the container) the start message says what is missing."""
    import os
    import shutil
    import subprocess

    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        pytest.skip("becoming an ordinary user needs root, unshare and setpriv")
    script = ROOT / "tests" / "deploy" / "container.sh"
    work = open_folder / "ordinary-user"
    work.mkdir(mode=0o777)
    work.chmod(0o777)
    command = [sandbox_python, "-m", "sandbox", "serve", "--socket", str(work / "s.sock")]
    process = subprocess.Popen(
        ["unshare", "--mount", "sh", str(script), "--user", "10002:10002", "--", *command],
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "SANDBOX_WORK_ROOT": str(work / "work")},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "serving on" in line:
                break
    finally:
        process.terminate()
        process.wait(timeout=10)
    text = "".join(lines)
    assert "layer missing here: namespaces, tmpfs and a uid per run: the kernel refused" in text, text
    assert "layer missing here: control groups: not root" in text, text
