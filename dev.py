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

import contextlib
import glob
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
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


def wait_for_socket(path: Path, child: Child, timeout_s: float = 120.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if child.process is None or child.process.poll() is not None or time.monotonic() > deadline:
            status = child.process.poll() if child.process else None
            raise SystemExit(f"[gradlab] the sandbox service did not start (exit status {status})")
        time.sleep(0.1)


class Stop(Exception):
    """A signal asked dev.py to stop: SIGTERM (a service manager), SIGHUP (a closed terminal), SIGINT."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _raise_stop(signum, frame) -> None:
    raise Stop(signum)


def stop_on_signals() -> None:
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _raise_stop)


class Child:
    """One process of the product, started in a session of its own: its whole tree (a worker's
    pool, the sandbox's runs) is one process group that can be stopped at once."""

    def __init__(self, name: str, command: list[str], env: dict[str, str]):
        self.name = name
        self.command = command
        self.env = env
        self.process: subprocess.Popen | None = None
        self.crashes: list[float] = []

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, start_new_session=True)

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):  # the group is gone already
            os.killpg(self.process.pid, signum)


# A child that crashes this often within CRASH_WINDOW_S is not restarted again: everything stops.
MAX_CRASHES = 5
CRASH_WINDOW_S = 60.0
STOP_GRACE_S = 5.0


def restart_delay(crashes: int) -> float:
    """1 s after a first crash, doubling up to 16 s: a child that cannot start does not spin."""
    return float(min(16, 2 ** max(0, crashes - 1)))


def stop_all(children: list[Child], grace_s: float = STOP_GRACE_S) -> None:
    """SIGTERM to every group, the rest of each group SIGKILLed once its main process ended
    or the grace period is over: no pool process or run outlives dev.py."""
    for child in reversed(children):
        if child.process is not None and child.process.poll() is None:
            child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"the {child.name} did not stop within {grace_s:g} s: killing it")
        child.signal_group(signal.SIGKILL)
        child.process.wait()


def supervise(children: list[Child], *, poll_s: float = 0.2, now: Callable[[], float] = time.monotonic) -> int:
    """Watch every child; restart one that ended (with a backoff, saying so), or stop them all
    when one keeps crashing. Returns dev.py's exit status; a Stop from a signal propagates."""
    waiting: dict[str, float] = {}
    while True:
        for child in children:
            if child.name in waiting:
                if now() >= waiting[child.name]:
                    del waiting[child.name]
                    say(f"restarting the {child.name}")
                    child.start()
                continue
            status = child.process.poll() if child.process is not None else None
            if status is None:
                continue
            child.signal_group(signal.SIGKILL)  # what is left of its tree (a pool, runs) goes with it
            child.crashes = [at for at in child.crashes if at > now() - CRASH_WINDOW_S] + [now()]
            if len(child.crashes) >= MAX_CRASHES:
                say(
                    f"stopping everything: the {child.name} ended {len(child.crashes)} times "
                    f"within {CRASH_WINDOW_S:g} s (last exit status {status})"
                )
                return 1
            delay = restart_delay(len(child.crashes))
            say(f"the {child.name} ended (exit status {status}); restarting it in {delay:g} s")
            waiting[child.name] = now() + delay
        time.sleep(poll_s)


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
    """The whole product on one machine: the sandbox service, a Celery worker, its beat and the
    web server, each watched: one that ends is restarted; a signal stops them all."""
    stop_on_signals()
    ensure_venv("run")
    sandbox_python = ensure_sandbox_venv()
    host = os.environ.get("GRADLAB_HOST", "127.0.0.1")
    port = os.environ.get("GRADLAB_PORT", "8000")
    serving, args = serving_environment(args, host, dict(os.environ))
    manage("compile_catalogs")
    manage("migrate", "--no-input", "-v", "0")
    manage("collectstatic", "--no-input", "-v", "0")
    manage("load_content", "--new-only")  # never overwrites: the database holds a course once imported
    manage("ensure_demo_accounts")
    var = Path(os.environ.get("GRADLAB_VAR_DIR", ROOT / "var"))
    socket_path = Path(os.environ.get("LAB_SANDBOX_SOCKET", var / "sandbox.sock"))
    # platform/ is the Django source root; the repository root holds the sandbox package.
    python_path = os.pathsep.join(filter(None, [str(ROOT / "platform"), str(ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, **serving, "LAB_SANDBOX_SOCKET": str(socket_path), "PYTHONPATH": python_path}
    # The sandbox may run as long as the lab allows a run (LAB_RUN_TIMEOUT_S, 120 s by default).
    environment.setdefault("SANDBOX_TIMEOUT_S", environment.get("LAB_RUN_TIMEOUT_S", "120"))
    if os.geteuid() != 0 and "SANDBOX_ISOLATION" not in environment:
        # An ordinary user on a laptop cannot give each run a uid and control group of its own;
        # the sandbox refuses to start without them unless told so, here explicitly.
        say("not root: the sandbox runs with reduced isolation (SANDBOX_ISOLATION=reduced; as root it gets all layers)")
        environment["SANDBOX_ISOLATION"] = "reduced"
    socket_path.unlink(missing_ok=True)
    sandbox = Child(
        "sandbox service", [str(sandbox_python), "-m", "sandbox", "serve", "--socket", str(socket_path)], environment
    )
    celery = [str(venv_python()), "-m", "celery", "-A", "gradlab"]
    worker = Child("worker", [*celery, "worker", "--queues", "cpu,gpu", "--loglevel", "WARNING"], environment)
    worker.command += ["--concurrency", os.environ.get("GRADLAB_WORKERS", "2")]
    # The beat (the reaper's clock) is a process of its own, as in Compose, with the
    # scheduler that keeps its schedule in memory: no schedule file that can be locked or
    # corrupted, and a restart only starts the 15-second intervals again.
    beat = [*celery, "beat", "--scheduler", "celery.beat:Scheduler", "--loglevel", "WARNING"]
    beat = Child("scheduler", beat, environment)
    web = [str(venv_python()), "-m", "uvicorn", "gradlab.asgi:application", "--app-dir", str(ROOT / "platform")]
    web = Child("web server", [*web, "--host", host, "--port", port, "--no-access-log", *args], environment)
    children = [sandbox, worker, beat, web]
    try:
        say("starting the sandbox service (PyTorch), a lab worker and its scheduler")
        sandbox.start()
        wait_for_socket(socket_path, sandbox)
        for child in (worker, beat, web):
            child.start()
        mode = "with DEBUG on: for development only" if serving["DEBUG"] == "true" else "--debug for development"
        say(f"Gradlab is running at http://{host}:{port}/  ({mode}; Ctrl+C stops it)")
        return supervise(children)
    except Stop as stop:
        say(f"stopping ({signal.Signals(stop.signum).name})")
        return 0 if stop.signum == signal.SIGINT else 128 + stop.signum
    finally:
        # Signals wait until everything is stopped: a second Ctrl+C must not leave a child behind.
        for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
            signal.signal(signum, signal.SIG_IGN)
        stop_all(children)


def test(args: list[str]) -> int:
    ensure_venv("test")
    ensure_sandbox_venv()
    bin_dir = VENV / "bin"
    # lint-imports checks the layers (pyproject.toml [tool.importlinter]); it imports nothing,
    # but finds the packages on the path: platform/ (the apps) and the root (sandbox).
    python_path = os.pathsep.join([str(ROOT / "platform"), str(ROOT)])
    for lint in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["lint-imports"]):
        say("lint: " + " ".join(lint))
        environment = {**os.environ, "PYTHONPATH": python_path}
        if subprocess.run([str(bin_dir / lint[0]), *lint[1:]], cwd=ROOT, env=environment).returncode:
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
    except Stop as stop:  # while installing or migrating: subprocess.run has ended its child
        say(f"stopped ({signal.Signals(stop.signum).name})")
        return 128 + stop.signum
    except subprocess.CalledProcessError as error:
        say(f"stopped: {' '.join(map(str, error.cmd[1:]))} failed (exit status {error.returncode})")
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
