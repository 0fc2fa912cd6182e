"""Fixtures for the sandbox: its interpreter, a running service, and ways to run things.

The sandbox runs under its own Python with torch (.venv-sandbox, made by dev.py); these
tests drive it from the outside, as a worker would: the command line, or the service
over its Unix socket through `sandbox.client`.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from sandbox import client

ROOT = Path(__file__).resolve().parents[2]
STANDARD = {"model": {"depth": 20, "width": 64, "activation": "sigmoid"}, "train": {"steps": 50}}


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
