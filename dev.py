#!/usr/bin/env python3
"""Gradlab's two commands: run the product, run the tests.

    python3 dev.py run     # install into .venv, migrate, load the course, start the server
    python3 dev.py run --debug   # the same with Django's DEBUG on (never on a network you share)
    python3 dev.py test    # install the test tools, lint, run the whole suite
    python3 dev.py setup   # only install everything for development into .venv

Runs on any Python 3.8+; it finds a Python 3.12+ for the virtual environment (Django 6
needs it) and re-runs itself inside that environment.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
MIN_PYTHON = (3, 12)
# The sandbox (and later the lab's workers) run PyTorch in a venv of their own: the CPU
# build of torch 2.13 is made for Python 3.11, which Django 6 no longer supports.
SANDBOX_VENV = ROOT / ".venv-sandbox"
SANDBOX_PYTHON = (3, 11)
REQUIREMENTS = {"run": "requirements/worker.txt", "test": "requirements/test.txt"}


def say(message: str) -> None:
    print(f"[gradlab] {message}", flush=True)


def python_version(executable: str) -> tuple[int, int] | None:
    try:
        out = subprocess.run(
            [executable, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    major, minor = out.stdout.split()
    return int(major), int(minor)


def find_python() -> str:
    """The newest Python 3.12+ on this machine: GRADLAB_PYTHON, then PATH, then pyenv."""
    candidates = [os.environ.get("GRADLAB_PYTHON", ""), sys.executable]
    candidates += [shutil.which(f"python3.{minor}") or "" for minor in range(20, 11, -1)]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.*/bin/python3")), reverse=True)
    found = []
    for candidate in filter(None, candidates):
        version = python_version(candidate)
        if version and version >= MIN_PYTHON:
            if candidate == os.environ.get("GRADLAB_PYTHON"):
                return candidate
            found.append((version, candidate))
    if not found:
        sys.exit("[gradlab] Gradlab needs Python 3.12 or newer (Django 6). Install one, or point GRADLAB_PYTHON at it.")
    return max(found)[1]


def find_sandbox_python() -> str:
    """Python 3.11 for torch's CPU build: GRADLAB_SANDBOX_PYTHON, then PATH, then pyenv."""
    version = ".".join(map(str, SANDBOX_PYTHON))
    wanted = f"python{version}"
    candidates = [os.environ.get("GRADLAB_SANDBOX_PYTHON", ""), shutil.which(wanted) or "", sys.executable]
    candidates += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}.*/bin/python3")))
    for candidate in filter(None, candidates):
        if python_version(candidate) == SANDBOX_PYTHON:
            return candidate
    say(f"no Python {version} found: the sandbox gets a newer one, and pip may download a large torch")
    return find_python()


def venv_python() -> Path:
    return VENV / "bin" / "python"


def ensure_sandbox_venv() -> Path:
    """Create .venv-sandbox with torch (requirements/sandbox.txt), once per change of that file."""
    python = SANDBOX_VENV / "bin" / "python"
    if not python.exists():
        interpreter = find_sandbox_python()
        say(f"creating .venv-sandbox with {interpreter}")
        subprocess.run([interpreter, "-m", "venv", str(SANDBOX_VENV)], check=True)
    requirements = ROOT / "requirements" / "sandbox.txt"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()
    stamp = SANDBOX_VENV / ".installed"
    if not (stamp.exists() and stamp.read_text() == digest):
        say("installing requirements/sandbox.txt (PyTorch) into .venv-sandbox")
        pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "-q", "-r", str(requirements)], check=True)
        stamp.write_text(digest)
    return python


def ensure_venv(kind: str) -> None:
    """Create .venv and install the requirements, skipping the install when unchanged."""
    if not venv_python().exists():
        interpreter = find_python()
        say(f"creating .venv with {interpreter}")
        subprocess.run([interpreter, "-m", "venv", str(VENV)], check=True)
    requirements = ROOT / REQUIREMENTS[kind]
    digest = hashlib.sha256()
    for path in sorted((ROOT / "requirements").glob("*.txt")):
        digest.update(path.read_bytes())
    stamp = VENV / f".installed-{kind}"
    if stamp.exists() and stamp.read_text() == digest.hexdigest():
        return
    say(f"installing {requirements.relative_to(ROOT)} into .venv")
    pip = [str(venv_python()), "-m", "pip", "--disable-pip-version-check"]
    subprocess.run([*pip, "install", "-q", "-r", str(requirements)], check=True)
    stamp.write_text(digest.hexdigest())


def manage(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(venv_python()), str(ROOT / "manage.py"), *args], check=True, env=env)


def wait_for_socket(path: Path, process: subprocess.Popen, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"[gradlab] the sandbox service did not start (exit status {process.poll()})")
        time.sleep(0.1)


LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"]


def lan_hosts(host: str) -> list[str]:
    """The names the site answers to when it listens on `host`: the loopback names, and on
    every interface (0.0.0.0, ::) this machine's name and its addresses, so that others on
    the local network can open it by either."""
    names = list(LOOPBACK_HOSTS)
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - recognising it, not binding
        import socket

        hostname = socket.gethostname()
        names += [hostname, f"{hostname}.local"]
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(hostname, None)}
        except OSError:
            addresses = set()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
                addresses.add(probe.getsockname()[0])
            except OSError:
                pass
        names += sorted(f"[{address}]" if ":" in address else address for address in addresses)
    elif host not in ("localhost", "127.0.0.1", "::1"):
        names.append(f"[{host}]" if ":" in host else host)
    return list(dict.fromkeys(names))


def serving_environment(args: list[str], host: str, environ: dict[str, str]) -> tuple[dict[str, str], list[str]]:
    """What `dev.py run` changes in the web server's environment, and the arguments left for
    uvicorn. DEBUG is off unless `--debug` asks for it (or DEBUG is set): its error pages
    print the settings, passwords in DATABASE_URL and REDIS_URL included."""
    debug = "--debug" in args
    changes = {"DEBUG": "true" if debug else environ.get("DEBUG", "false")}
    if "ALLOWED_HOSTS" not in environ:
        changes["ALLOWED_HOSTS"] = ",".join(lan_hosts(host))
    return changes, [arg for arg in args if arg != "--debug"]


def run(args: list[str]) -> int:
    """The whole product on one machine: the sandbox service, a Celery worker and the web server."""
    ensure_venv("run")
    sandbox_python = ensure_sandbox_venv()
    host = os.environ.get("GRADLAB_HOST", "127.0.0.1")
    port = os.environ.get("GRADLAB_PORT", "8000")
    serving, args = serving_environment(args, host, dict(os.environ))
    manage("compile_catalogs")
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    manage("load_content")
    manage("ensure_demo_accounts")
    var = Path(os.environ.get("GRADLAB_VAR_DIR", ROOT / "var"))
    socket_path = Path(os.environ.get("LAB_SANDBOX_SOCKET", var / "sandbox.sock"))
    # platform/ is the Django source root; the repository root holds the sandbox package.
    python_path = os.pathsep.join(filter(None, [str(ROOT / "platform"), str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, **serving, "LAB_SANDBOX_SOCKET": str(socket_path), "PYTHONPATH": python_path}
    # The sandbox may run as long as the lab allows a run (LAB_RUN_TIMEOUT_S, 120 s by default).
    environment.setdefault("SANDBOX_TIMEOUT_S", environment.get("LAB_RUN_TIMEOUT_S", "120"))
    socket_path.unlink(missing_ok=True)
    processes: list[subprocess.Popen] = []
    try:
        say("starting the sandbox service (PyTorch) and a lab worker")
        sandbox = subprocess.Popen(
            [str(sandbox_python), "-m", "sandbox", "serve", "--socket", str(socket_path)], cwd=ROOT, env=environment
        )
        processes.append(sandbox)
        wait_for_socket(socket_path, sandbox)
        worker = [str(venv_python()), "-m", "celery", "-A", "gradlab", "worker", "--beat", "--queues", "cpu,gpu"]
        worker += ["--concurrency", os.environ.get("GRADLAB_WORKERS", "2"), "--loglevel", "WARNING"]
        worker += ["--schedule", str(var / "celerybeat-schedule")]
        processes.append(subprocess.Popen(worker, cwd=ROOT, env=environment))
        mode = "with DEBUG on: for development only" if serving["DEBUG"] == "true" else "--debug for development"
        say(f"Gradlab is running at http://{host}:{port}/  ({mode}; Ctrl+C stops it)")
        web = [str(venv_python()), "-m", "uvicorn", "gradlab.asgi:application", "--app-dir", str(ROOT / "platform")]
        web += ["--host", host, "--port", port, "--no-access-log", *args]
        processes.append(subprocess.Popen(web, cwd=ROOT, env=environment))
        while all(process.poll() is None for process in processes):
            time.sleep(0.5)
        stopped = next(process for process in processes if process.poll() is not None)
        say(f"stopping: {' '.join(map(str, stopped.args[1:4]))} ended (exit status {stopped.returncode})")
        return stopped.returncode or 1
    except KeyboardInterrupt:
        return 0
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.terminate()
        for process in processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test(args: list[str]) -> int:
    ensure_venv("test")
    ensure_sandbox_venv()
    bin_dir = VENV / "bin"
    for lint in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        say("lint: " + " ".join(lint))
        if subprocess.run([str(bin_dir / lint[0]), *lint[1:]], cwd=ROOT).returncode:
            return 1
    manage("compile_catalogs")
    say("pytest " + " ".join(args))
    return subprocess.run([str(venv_python()), "-m", "pytest", *args], cwd=ROOT).returncode


def setup(args: list[str]) -> int:
    ensure_venv("test")
    ensure_sandbox_venv()
    manage("compile_catalogs")
    say("ready: .venv has everything to develop and test (activate it with: source .venv/bin/activate)")
    return 0


def main() -> int:
    commands = {"run": run, "test": test, "setup": setup}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        print(__doc__)
        return 2
    try:
        return commands[sys.argv[1]](sys.argv[2:])
    except subprocess.CalledProcessError as error:
        say(f"stopped: {' '.join(map(str, error.cmd[1:]))} failed (exit status {error.returncode})")
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
