"""Fixtures for the sandbox: its interpreter, a running service, and ways to run things.

The sandbox runs under its own Python with torch (.venv-sandbox, made by dev.py); these
tests drive it from the outside, as a worker would: the command line, or the service
over its Unix socket through `sandbox.client`.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from sandbox import client
from tests.conftest import skip_unless_available

ROOT = Path(__file__).resolve().parents[2]
STANDARD = {"model": {"depth": 20, "width": 64, "activation": "sigmoid"}, "train": {"steps": 50}}


@pytest.fixture(scope="session")
def sandbox_python() -> str:
    python = os.environ.get("SANDBOX_PYTHON") or str(ROOT / ".venv-sandbox" / "bin" / "python")
    if not Path(python).exists():
        skip_unless_available(f"the sandbox's Python with torch ({python}); `python3 dev.py setup` makes it")
    if sys.platform != "linux":
        skip_unless_available("the sandbox needs Linux")
    return python


@pytest.fixture(scope="session")
def open_folder():
    """A folder whose parents a run's unprivileged uid may enter (pytest's own are closed)."""
    folder = Path(tempfile.mkdtemp(prefix="gradlab-sandbox-tests-"))
    folder.chmod(0o711)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def sandbox_service(sandbox_python, open_folder):
    """One zygote service for the whole session, as a worker would talk to it."""
    folder = open_folder / "service"
    folder.mkdir()
    work_root = folder / "work"
    service = client.SandboxService(
        python=sandbox_python,
        socket_path=folder / "sandbox.sock",
        env={"SANDBOX_WORK_ROOT": str(work_root), "SANDBOX_MAX_RUNS": "2"},
    )
    service.start()
    service.work_root = work_root
    yield service
    service.stop()


@pytest.fixture
def run_in_sandbox(sandbox_service):
    """Run a spec or learner code on the session's service; returns (result, progress events)."""

    def run(*, spec=None, code=None, limits=None, should_cancel=None, timeout_s=30.0):
        events = []
        result = client.run(
            sandbox_service.socket_path,
            spec=spec,
            code=code,
            limits=limits,
            on_event=events.append,
            should_cancel=should_cancel,
            timeout_s=timeout_s,
        )
        return result, events

    return run


@pytest.fixture
def sandbox_cli(sandbox_python, open_folder):
    """Run `python -m sandbox ARGS` from the project root; returns (exit status, its JSON lines, stdout)."""

    def cli(*args, env=None, timeout=120):
        environment = {"PATH": os.environ["PATH"], "SANDBOX_WORK_ROOT": str(open_folder / "cli-work"), **(env or {})}
        done = subprocess.run(
            [sandbox_python, "-m", "sandbox", *map(str, args)],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        return done.returncode, lines, done.stdout

    return cli


def write_json(path: Path, value) -> Path:
    path.write_text(json.dumps(value))
    return path
