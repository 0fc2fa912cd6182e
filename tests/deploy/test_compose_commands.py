"""Every service of the compose file, run here as its container would run it, against the
local PostgreSQL and Redis.

Each image's files are laid out as its Dockerfile's COPY steps put them (honouring
.dockerignore), its build steps run with the image's environment only, and its owners
set as the Dockerfile sets them. Each service then runs its compose command from there
with the environment Compose gives it (image, .env, compose file), as the image's user,
in its own mount namespace, under Docker's seccomp profile's ban on namespaces and mounts;
the sandbox also without a network, with a read-only root, a tmpfs and no-new-privileges.
The worker and the sandbox share their socket through a folder that stands for the named
volume. `.env` names this machine's PostgreSQL and Redis, as on a worker machine (README,
"More worker machines").
"""

import http.client
import json
import os
import re
import secrets
import shutil
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import skip_unless_available
from tests.deploy import docker
from tests.deploy.docker import ROOT, Dockerfile, assemble, project
from tests.lab.conftest import free_port, wait_for

pytestmark = [pytest.mark.slow]
POSTGRES = os.environ.get("GRADLAB_TEST_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = "redis://127.0.0.1:6379/12"  # a database of its own
CONTAINER = ROOT / "tests" / "deploy" / "container.sh"


@pytest.fixture(scope="module")
def images(open_folder):
    """web, worker and sandbox images, laid out and built, sharing the socket volume."""
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("setpriv"):
        skip_unless_available("running services as their images' users needs root, unshare and setpriv")
    folder = open_folder / f"images-{os.getpid()}"
    volume = folder / "volumes" / "sandbox-socket"
    volume.parent.mkdir(parents=True)
    services = project(docker.read_env_file(ROOT / ".env.example") | {"POSTGRES_PASSWORD": "-", "REDIS_PASSWORD": "-"})
    built = {}
    for name in ("web", "worker", "sandbox"):
        build = services["services"][name]["build"]
        dockerfile = Dockerfile(ROOT / build["context"] / build["dockerfile"], build.get("args"))
        venv = ROOT / (".venv-sandbox" if name == "sandbox" else ".venv")
        image = assemble(dockerfile, build.get("target"), folder / name, venv=venv)
        image.host("/tmp").mkdir(mode=0o1777)  # noqa: S108 - the image's own /tmp
        image.host("/tmp").chmod(0o1777)  # noqa: S108
        image.build()
        socket_folder = image.host("/run/gradlab")
        if socket_folder.is_dir():  # the named volume takes the image's folder, owner and mode
            if not volume.exists():
                volume.mkdir()
                stat = socket_folder.stat()
                os.chown(volume, stat.st_uid, stat.st_gid)
                volume.chmod(stat.st_mode & 0o7777)
            socket_folder.rmdir()
            socket_folder.symlink_to(volume)
        built[name] = image
    yield built


@pytest.fixture
def deployment(images, tmp_path):
    """`.env` for this machine's PostgreSQL (a fresh database) and Redis; starts services."""
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).flushdb()
    except redis.RedisError as error:
        skip_unless_available(f"Redis at {REDIS}: {error}")
    database = _postgres_database()
    env_file = docker.read_env_file(ROOT / ".env.example") | {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "POSTGRES_PASSWORD": secrets.token_urlsafe(12),
        "REDIS_PASSWORD": secrets.token_urlsafe(12),
        "DATABASE_URL": f"{POSTGRES}/{database}",
        "REDIS_URL": REDIS,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "WEB_WORKERS": "1",
        "GRADLAB_CPU_WORKERS": "1",
        "LAB_REAP_EVERY_S": "1",
        "LAB_WORKER_LOST_S": "5",
    }
    deployment = Deployment(images, env_file, tmp_path)
    yield deployment
    deployment.stop()
    _drop(database)


class Deployment:
    def __init__(self, images, env_file, folder):
        self.images, self.env_file, self.folder = images, env_file, folder
        self.services = project(env_file)["services"]
        self.processes = []

    def image_of(self, service: str):
        return self.images[{"scheduler": "worker"}.get(service, service)]

    def environment(self, service: str, **extra) -> dict[str, str]:
        """What Compose gives the container: the image's ENV, then env_file, then environment."""
        image, definition = self.image_of(service), self.services[service]
        environment = image.environment_with() | {"HOME": image.map("/tmp")}  # noqa: S108
        if "env_file" in definition:
            environment |= self.env_file
        environment |= {key: image.map(str(value)) for key, value in (definition.get("environment") or {}).items()}
        return environment | extra

    def wrap(self, service: str, command: list[str]) -> list[str]:
        """The container's confinement around a command: user, namespaces, read-only root, tmpfs."""
        image, definition = self.image_of(service), self.services[service]
        uid, gid = image.uid_gid
        namespaces = ["--net"] if definition.get("network_mode") == "none" else []
        options = ["--user", f"{uid}:{gid}"]
        if definition.get("read_only"):
            options += ["--read-only", str(image.root)]
        for mount in definition.get("tmpfs", []):
            where, _, mount_options = mount.partition(":")
            options += ["--tmpfs", f"{image.map(where)}:{mount_options}"]
        for setting in definition.get("security_opt", []):
            if setting == "no-new-privileges:true":
                options.append("--no-new-privs")
            elif setting.startswith("seccomp="):  # a path from the project's folder
                options += ["--seccomp", str(ROOT / setting.removeprefix("seccomp="))]
            elif setting == "systempaths=unconfined":
                options.append("--systempaths-unconfined")
            else:
                raise AssertionError(f"{service}: security_opt {setting!r} is not emulated here")
        return ["unshare", "--mount", *namespaces, "sh", str(CONTAINER), *options, "--", *command]

    def start(self, service: str, **extra) -> subprocess.Popen:
        image = self.image_of(service)
        command = [image.map(part) for part in self.services[service]["command"]]
        log = (self.folder / f"{service}.log").open("wb")
        process = subprocess.Popen(
            self.wrap(service, command),
            cwd=image.cwd,
            env=self.environment(service, **extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def log(self, service: str) -> str:
        return (self.folder / f"{service}.log").read_text()[-4000:]

    def run(self, service: str, command: list[str], *, timeout_s: float = 120, **extra) -> subprocess.CompletedProcess:
        """`docker compose exec SERVICE COMMAND`: image paths in the command mapped here."""
        image = self.image_of(service)
        return subprocess.run(
            self.wrap(service, [image.map(part) for part in command]),
            cwd=image.cwd,
            env=self.environment(service, **extra),
            capture_output=True,
            text=True,
            timeout=timeout_s,
        )

    def healthcheck(self, service: str, **extra) -> subprocess.CompletedProcess:
        """The service's healthcheck command, run in its container (as Docker runs it)."""
        kind, *command = self.services[service]["healthcheck"]["test"]
        assert kind == "CMD"
        return self.run(service, command, timeout_s=30, **extra)

    def exec(self, service: str, command: list[str]) -> str:
        """Its output, or the test fails with its errors."""
        done = self.run(service, command)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def manage(self, code: str) -> str:
        """`docker compose exec web python manage.py shell -c CODE`: its last line."""
        return self.exec("web", ["python", "manage.py", "shell", "-c", code]).strip().splitlines()[-1]

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


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


def _get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310 - our own http:// URL
    try:
        with urllib.request.urlopen(request, timeout=3) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except OSError:  # not listening yet
        return 0, b""


def test_the_web_service_migrates_loads_the_course_and_answers_its_healthcheck(deployment):
    port = str(free_port())
    web = deployment.start("web", PORT=port)
    url = f"http://127.0.0.1:{port}"

    wait_for(lambda: _get(url + "/healthz")[0] == 200 or web.poll() is not None, timeout_s=120, what="/healthz")

    assert web.poll() is None, deployment.log("web")
    status, body = _get(url + "/healthz")
    # The web alone: its own database and Redis answer; no worker, sandbox or beat has a heartbeat
    # yet, which /healthz says as "degraded", still 200, so Compose keeps a healthy web server.
    health = json.loads(body)
    assert status == 200 and (health["status"], health["database"], health["redis"]) == ("degraded", "ok", "ok")
    assert (health["worker"], health["sandbox"], health["scheduler"]) == ("failing", "failing", "failing")
    check = deployment.healthcheck("web", PORT=port)
    assert check.returncode == 0, check.stderr
    page = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    page.request("GET", "/", headers={"Host": "127.0.0.1"})
    answer = page.getresponse()
    assert answer.status == 301 and answer.getheader("Location").startswith("https://")  # production: HTTPS
    answer.read()
    # Through the HTTPS proxy: the sign-in page, and the static files collected at build time.
    behind_proxy = {"Host": "127.0.0.1", "X-Forwarded-Proto": "https"}
    page.request("GET", "/accounts/login/", headers=behind_proxy)
    answer = page.getresponse()
    html = answer.read().decode()
    assert answer.status == 200, html[:500]
    stylesheet = re.search(r'href="(/static/css/gradlab\.[0-9a-f]+\.css)"', html).group(1)
    page.request("GET", stylesheet, headers=behind_proxy)
    answer = page.getresponse()
    assert answer.status == 200 and b"--" in answer.read()  # the hashed name the manifest gave at build time
    assert deployment.manage("from courses.models import Course; print(Course.objects.count())") == "1"
    assert (
        deployment.manage(
            "from django.utils import translation; translation.activate('de'); "
            "from django.utils.translation import gettext; print(gettext('Courses'))"
        )
        == "Kurse"
    )


def test_the_worker_takes_a_run_through_the_sandbox_and_the_scheduler_reaps_a_lost_one(deployment):
    # As compose starts it (SANDBOX_ISOLATION=full), with no cgroup subtree delegated by the
    # host (Docker's cgroup mount is read-only): it refuses to start and names the setting.
    refused = deployment.start("sandbox")
    assert refused.wait(timeout=120) == 2, deployment.log("sandbox")
    assert "refusing to start: control group (memory and process caps for the whole run) is missing" in (
        deployment.log("sandbox")
    )
    assert "or set SANDBOX_ISOLATION=reduced" in deployment.log("sandbox")
    sandbox = deployment.start("sandbox", SANDBOX_ISOLATION="reduced")
    socket_path = deployment.images["sandbox"].host("/run/gradlab/sandbox.sock")
    wait_for(lambda: socket_path.exists() or sandbox.poll() is not None, timeout_s=120, what="the socket")
    assert sandbox.poll() is None, deployment.log("sandbox")
    check = deployment.healthcheck("sandbox")
    assert check.returncode == 0, check.stderr
    # README: `docker compose exec sandbox python -m sandbox check` shows the layers a run gets.
    layers = json.loads(deployment.exec("sandbox", ["python", "-m", "sandbox", "check"]))
    assert layers["root"] is False
    child = layers["child"]
    # The compose file's seccomp profile lets the zygote give each run its own user and PID
    # namespace (and in it the rest); the kernel uid stays the image user's.
    assert child["uid"] == deployment.images["sandbox"].uid_gid[0]
    assert (child["pid"], child["procfs_self"], child["hostname"], child["user_namespace"]) == (
        1,
        "1",
        "gradlab-run",
        True,
    )
    assert child["private_tmpfs"] and child["capabilities"] == "0000000000000000"
    assert child["seccomp"] and child["no_new_privs"] and child["network"] == "socket creation denied"
    assert child["environment"] == ["HOME", "LANG", "TMPDIR"]
    if layers["landlock_abi"]:
        assert child["read_outside"] == "denied"
    # What such a run lacks is said, with the reason: the per-run cgroup alone.
    missing = {entry["layer"]: entry["why"] for entry in layers["missing"]}
    assert list(missing) == ["control group (memory and process caps for the whole run)"], missing
    assert "under Docker set SANDBOX_ISOLATION=reduced" in missing[next(iter(missing))]
    assert layers["isolation"] == "reduced"
    deployment.manage("from django.core.management import call_command; call_command('migrate', verbosity=0)")
    worker = deployment.start("worker")
    deployment.start("scheduler")

    run_id = deployment.manage(
        "from accounts.models import User; from lab import services; "
        "user = User.objects.create_user('compose-learner'); "
        "print(services.run_create(owner=user, spec={'train': {'steps': 5}}, language='en').id)"
    )
    status_of = f"from lab.models import ExperimentRun; print(ExperimentRun.objects.get(pk={run_id}).status)"
    deadline = time.monotonic() + 120
    status = "queued"
    while status in ("queued", "running") and time.monotonic() < deadline and worker.poll() is None:
        time.sleep(1)
        status = deployment.manage(status_of)

    assert status == "succeeded", deployment.log("worker") + deployment.log("sandbox")
    plots = deployment.manage(f"from lab.models import RunPlot; print(RunPlot.objects.filter(run={run_id}).count())")
    assert plots == "3"
    # A run whose worker went silent a minute ago: the scheduler's reaper ends it.
    lost = deployment.manage(
        "import datetime as dt; from django.utils import timezone; from accounts.models import User; "
        "from lab.models import ExperimentRun; "
        "past = timezone.now() - dt.timedelta(minutes=1); "
        "run = ExperimentRun.objects.create(owner=User.objects.get(username='compose-learner'), spec={}, "
        "status='running', started_at=past, heartbeat_at=past, limit_s=60); print(run.id)"
    )
    lost_status = f"from lab.models import ExperimentRun; print(ExperimentRun.objects.get(pk={lost}).status)"
    wait_for(lambda: deployment.manage(lost_status) == "failed", timeout_s=60, what="the reaper")
    assert "celery beat" in deployment.log("scheduler").lower()
