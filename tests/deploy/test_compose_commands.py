"""Every service's command from the compose file, run on this machine against the local
PostgreSQL and Redis: the web answers /healthz, the worker takes a run through the sandbox
service's socket and stores its result. The same commands Docker would run, with the
container's paths mapped to folders here.
"""

import http.client
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml

from tests.conftest import ROOT, skip_unless_available
from tests.lab.conftest import free_port, wait_for

pytestmark = [pytest.mark.slow]
SERVICES = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
POSTGRES = os.environ.get("GRADLAB_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = "redis://127.0.0.1:6379/12"  # a database of its own


def _postgres_database():
    import psycopg

    name = f"gradlab_compose_{os.getpid()}"
    try:
        admin = psycopg.connect(f"{POSTGRES}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        skip_unless_available(f"PostgreSQL at {POSTGRES}: {error}")
    with admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    return name


def _drop(name: str) -> None:
    import psycopg

    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _command(service: str, socket_path: str) -> list[str]:
    """The service's command as compose has it, with this machine's interpreters and paths."""
    command = [part.replace("/run/gradlab/sandbox.sock", socket_path) for part in SERVICES[service]["command"]]
    command = [part.replace("${GRADLAB_CPU_WORKERS:-2}", "1") for part in command]
    if command[0] == "celery":
        return [sys.executable, "-m", *command]
    if command[0] == "python":  # the sandbox image's Python: the one with torch here
        sandbox_python = os.environ.get("SANDBOX_PYTHON") or str(ROOT / ".venv-sandbox" / "bin" / "python")
        return [sandbox_python, *command[1:]]
    return command


@pytest.fixture
def deployment(tmp_path):
    """The app services' environment as the compose file gives it, on a fresh database."""
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        skip_unless_available(f"Redis at {REDIS}: {error}")
    database = _postgres_database()
    socket_dir = tmp_path / "run"
    socket_dir.mkdir()
    socket_dir.chmod(0o711)
    environment = {
        "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}",
        **{key: str(value) for key, value in SERVICES["web"]["environment"].items()},
        "DATABASE_URL": f"{POSTGRES}/{database}",
        "REDIS_URL": REDIS,
        "LAB_SANDBOX_SOCKET": str(socket_dir / "sandbox.sock"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GRADLAB_VAR_DIR": str(tmp_path / "var"),
        "WEB_WORKERS": "1",
    }
    processes: list[subprocess.Popen] = []

    def start(command: list[str], *, env: dict, name: str) -> subprocess.Popen:
        log = (tmp_path / f"{name}.log").open("wb")
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        processes.append(process)
        return process

    yield environment, start, tmp_path
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    _drop(database)


def _get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 - our own http:// URL
    try:
        with urllib.request.urlopen(request, timeout=3) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except OSError:  # not listening yet
        return 0, b""


def _manage(environment: dict, code: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def test_the_web_services_command_migrates_loads_the_course_and_answers_healthz(deployment):
    environment, start, folder = deployment
    port = free_port()
    web = start(_command("web", ""), env=environment | {"PORT": str(port)}, name="web")
    url = f"http://127.0.0.1:{port}"

    wait_for(lambda: _get(url + "/healthz")[0] == 200 or web.poll() is not None, timeout_s=120, what="/healthz")

    assert web.poll() is None, (folder / "web.log").read_text()[-3000:]
    status, body = _get(url + "/healthz")
    assert status == 200 and b'"status": "ok"' in body and b'"redis": "ok"' in body
    page = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    page.request("GET", "/", headers={"Host": "127.0.0.1"})
    answer = page.getresponse()
    assert answer.status == 301 and answer.getheader("Location").startswith("https://")  # production: HTTPS
    courses = _manage(environment, "from courses.models import Course; print(Course.objects.count())")
    assert courses == "1"


def test_the_worker_takes_a_run_through_the_sandbox_services_socket(deployment, open_folder):
    environment, start, folder = deployment
    # The sandbox service's environment: its defaults from the compose file, nothing else.
    sandbox_environment = {
        "PATH": environment["PATH"],
        **{key: str(value).split(":-")[-1].rstrip("}") for key, value in SERVICES["sandbox"]["environment"].items()},
        "SANDBOX_WORK_ROOT": str(open_folder / f"compose-{os.getpid()}"),
    }
    socket_path = environment["LAB_SANDBOX_SOCKET"]
    sandbox = start(_command("sandbox", socket_path), env=sandbox_environment, name="sandbox")
    wait_for(lambda: os.path.exists(socket_path) or sandbox.poll() is not None, timeout_s=120, what="the socket")
    assert sandbox.poll() is None, (folder / "sandbox.log").read_text()[-3000:]
    _manage(environment, "from django.core.management import call_command; call_command('migrate', verbosity=0)")
    worker = start(_command("worker", socket_path), env=environment, name="worker")

    run_id = _manage(
        environment,
        "from accounts.models import User; from lab import services; "
        "user = User.objects.create_user('compose-learner'); "
        "print(services.run_create(owner=user, spec={'train': {'steps': 5}}, language='en').id)",
    )
    status_of = f"from lab.models import ExperimentRun; print(ExperimentRun.objects.get(pk={run_id}).status)"
    deadline = time.monotonic() + 120
    status = "queued"
    while status in ("queued", "running") and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(1)
        status = _manage(environment, status_of)

    assert status == "succeeded", (folder / "worker.log").read_text()[-3000:]
    plots = _manage(environment, f"from lab.models import RunPlot; print(RunPlot.objects.filter(run={run_id}).count())")
    assert plots == "3"
