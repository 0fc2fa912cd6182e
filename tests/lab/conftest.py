"""Fixtures for the lab: runs in every state, a sandbox stand-in, and real workers.

`worker` starts `celery -A gradlab worker` as its own process, on the test database,
with either the embedded broker (a folder) or Redis, and the session's sandbox service:
the same command the product runs. Tasks are handed to it over an explicit connection,
so the rest of the suite keeps its in-memory broker.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from authoring.bundles import content_load
from lab import execution, services
from lab.models import ExperimentRun, RunEvent
from sandbox import presets
from tests.conftest import ROOT, skip_unless_available

SIGMOID = presets.BY_KEY["sigmoid-vanishes"].spec
RELU_HE = presets.BY_KEY["relu-he-alive"].spec
SMALL = {"model": {"depth": 4, "width": 8}, "train": {"steps": 5}}
REDIS_TEST_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
# The workers' broker gets a Redis database of its own: nothing else of the suite's is there.
REDIS_BROKER_URL = REDIS_TEST_URL.rsplit("/", 1)[0] + "/15"


def fake_result(*, layers: int = 3, steps: int = 3, status: str = "ok", **changes) -> dict:
    """A result as the sandbox sends it: the gradient shrinks tenfold per layer towards the input."""
    result = {
        "type": "result",
        "status": status,
        "device": "cpu",
        "layers": [f"layer{j + 1}" for j in range(layers)],
        "steps": list(range(steps)),
        "grad_norm": [[10.0 ** (j - layers) for j in range(layers)] for _ in range(steps)],
        "loss": [0.7 - 0.01 * i for i in range(steps)],
        "seq_grad_norm": None,
        "compute_s": 0.1,
        "wall_s": 0.15,
        "error": None,
    }
    return result | changes


def fake_sandbox(result: dict, *, progress: int = 3, before_result=None):
    """A stand-in for the sandbox client: sends `progress` events, then returns `result`."""
    calls = []

    def run(*, spec, code, limits, on_event, should_cancel, timeout_s):
        calls.append({"spec": spec, "code": code, "limits": limits, "timeout_s": timeout_s})
        for step in range(progress):  # one batch per step, as a slow run's arrive
            record = {"step": step, "loss": 0.7, "grad_norm": [1e-3, 1e-2, 1e-1]}
            event = {"type": "progress", "steps": progress, "recorded": [record]}
            if step == 0:
                event["layers"] = ["layer1", "layer2", "layer3"]
            on_event(event)
        if before_result is not None:
            before_result(should_cancel)
        return result

    run.calls = calls
    return run


def draw_nothing(*, result, language):
    return {"gradient_profile": "<svg xmlns='http://www.w3.org/2000/svg'/>"}


@pytest.fixture
def create_run(django_capture_on_commit_callbacks):
    """run_create as the web does it; the enqueueing on commit is captured, not run."""

    def create(owner, spec=SMALL, **options) -> ExperimentRun:
        with django_capture_on_commit_callbacks(execute=False):
            return services.run_create(owner=owner, spec=spec, language="en", **options)

    return create


def finish_run(run: ExperimentRun, result: dict | None = None) -> ExperimentRun:
    """The worker's part with a stand-in sandbox: the run ends with `result` (a good one by default)."""
    execution.run_execute(
        run_id=run.id, worker="w1", sandbox_run=fake_sandbox(result or fake_result()), draw=draw_nothing
    )
    run.refresh_from_db()
    return run


@pytest.fixture
def queued_run(learner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        return services.run_create(owner=learner, spec=SMALL, language="en")


@pytest.fixture
def finished_run(queued_run):
    execution.run_execute(run_id=queued_run.id, worker="w1", sandbox_run=fake_sandbox(fake_result()), draw=draw_nothing)
    queued_run.refresh_from_db()
    return queued_run


def events_of(run: ExperimentRun) -> list[tuple[int, str]]:
    return list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", "kind"))


def database_url() -> str:
    """The test database, as a URL another process can open."""
    settings = connection.settings_dict
    if settings["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings['NAME']}"
    host = settings["HOST"] or "127.0.0.1"
    return f"postgres://{settings['USER']}@{host}:{settings['PORT'] or 5432}/{settings['NAME']}"


def redis_available() -> bool:
    import redis

    try:
        redis.Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False
    return True


class Worker:
    """A `celery worker` process of our own, and a connection to hand it tasks."""

    def __init__(self, *, broker: str, folder: Path, environment: dict[str, str], options: dict):
        self.broker = broker
        self.options = options
        self.folder = folder
        self.environment = environment
        self.process: subprocess.Popen | None = None
        self.log = folder / "worker.log"

    @property
    def broker_url(self) -> str:
        return self.environment["CELERY_BROKER_URL"]

    def start(self) -> "Worker":
        command = [sys.executable, "-m", "celery", "-A", "gradlab", "worker", "--pool", "solo", "--queues", "cpu,gpu"]
        command += [
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "INFO",
            "--hostname",
            f"test-{self.broker}@%h",
        ]
        offset = self.log.stat().st_size if self.log.exists() else 0  # a restart reads its own lines
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + 60
        while b"ready." not in self.log.read_bytes()[offset:]:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        return self

    def enqueue(self, run: ExperimentRun) -> None:
        from gradlab.celery import app
        from lab.tasks import run_experiment

        with app.connection_for_write(self.broker_url, transport_options=self.options) as broker:
            run_experiment.apply_async(args=[run.id], queue=run.queue, connection=broker)

    def kill(self) -> None:
        """SIGKILL, as an out-of-memory killer or a pulled plug would end it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def stack_environment(*, broker: str, var: Path, socket_path: str) -> tuple[dict[str, str], dict]:
    """Environment of a worker or web process on the test database, and the broker's transport options."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "gradlab.settings.test",
        "DATABASE_URL": database_url(),
        "GRADLAB_VAR_DIR": str(var),
        "LAB_SANDBOX_SOCKET": str(socket_path),
        "LAB_HEARTBEAT_S": "1",
        "LAB_SERVICE_BEAT_S": "0.5",
    }
    if broker == "redis":
        if not redis_available():
            skip_unless_available(f"Redis at {REDIS_TEST_URL}")
        import redis

        redis.Redis.from_url(REDIS_BROKER_URL).flushdb()  # no task left over from an interrupted run
        return environment | {"CELERY_BROKER_URL": REDIS_BROKER_URL, "REDIS_URL": REDIS_TEST_URL}, {}
    # The folders the processes' settings derive from GRADLAB_VAR_DIR (gradlab/settings/base.py).
    queue = var / "broker"
    options = {
        "data_folder_in": str(queue / "queue"),
        "data_folder_out": str(queue / "queue"),
        "control_folder": str(queue / "control"),
        "store_processed": False,
    }
    return environment | {"CELERY_BROKER_URL": "filesystem://"}, options


@pytest.fixture(params=["embedded", "redis"])
def worker(request, transactional_db, sandbox_service, tmp_path, settings):
    """A real worker on the embedded broker or on Redis, and the session's sandbox service."""
    environment, options = stack_environment(
        broker=request.param, var=tmp_path / "var", socket_path=sandbox_service.socket_path
    )
    if request.param == "redis":
        settings.REDIS_URL = REDIS_TEST_URL
    started = Worker(
        broker=request.param,
        folder=tmp_path,
        environment=environment,
        options=options,
    )
    started.start()
    yield started
    started.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def lab_site(transactional_db, sandbox_service, tmp_path):
    """The product as `dev.py run` starts it, on the test database: uvicorn (ASGI) and a worker."""
    content_load(path=django_settings.CONTENT_DIR)
    environment, options = stack_environment(
        broker="embedded", var=tmp_path / "var", socket_path=sandbox_service.socket_path
    )
    worker = Worker(
        broker="embedded",
        folder=tmp_path,
        environment=environment,
        options=options,
    ).start()
    with web_server(environment, tmp_path) as url:
        yield url
    worker.stop()


@contextlib.contextmanager
def web_server(environment: dict[str, str], folder: Path):
    """uvicorn (ASGI) on a free port with `environment`, its log in `folder`; yields its URL."""
    port = free_port()
    log = (folder / "web.log").open("ab")
    web = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gradlab.asgi:application", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(url + "/healthz") or web.poll() is not None, timeout_s=60, what="the web server")
        yield url
    finally:
        web.terminate()
        web.wait(timeout=15)
        log.close()


def _answers(url: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - our own http:// URL
            return response.status == 200
    except OSError:
        return False


def wait_for(predicate, *, timeout_s: float = 60.0, what: str = "the condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")
