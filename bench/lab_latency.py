"""The lab's latency: from "run" to the first progress event in the page's stream, and
from a worker's publish to the stream's receipt. Embedded broker and Redis.

    .venv/bin/python bench/lab_latency.py            # both, 50 runs each
    .venv/bin/python bench/lab_latency.py --broker redis --runs 20

Starts the product as `dev.py run` does (the sandbox service, a Celery worker, uvicorn)
on a scratch SQLite database, logs a learner in, then, for each run: POSTs the lab's
form for the preset "sigmoid-vanishes" as the browser does, opens the run's event
stream at once, and reads until the first `progress` event. For publish-to-receipt it
holds a stream open on a running run, stores an event and publishes its wake-up as the
worker does, and times the stream's message. The baseline of the same run is a plain
GET of /healthz from the same server. Prints medians and 90th percentiles.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_PYTHON = os.environ.get("SANDBOX_PYTHON", str(ROOT / ".venv-sandbox" / "bin" / "python"))
REDIS = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0").rsplit("/", 1)[0] + "/14"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Stream:
    """An event stream read straight off a socket, as a browser's EventSource reads it."""

    def __init__(self, port: int, path: str, cookie: str, last_event_id: int | None = None):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": cookie, "Accept": "text/event-stream"}
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.status

    def until(self, event: str) -> float:
        """Read messages until one of type `event`; returns the perf_counter time it arrived."""
        buffer = b""
        while True:
            chunk = self.response.read1(65536)
            if not chunk:
                raise RuntimeError(f"the stream ended before a {event} event")
            buffer += chunk
            while b"\n\n" in buffer:
                message, buffer = buffer.split(b"\n\n", 1)
                if f"event: {event}".encode() in message.split(b"\n"):
                    return time.perf_counter()

    def close(self) -> None:
        self.connection.close()


def environment(broker: str, var: Path, socket_path: Path) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "gradlab.settings.local",
        "GRADLAB_VAR_DIR": str(var),
        "DATABASE_URL": f"sqlite:///{var / 'bench.sqlite3'}",
        "LAB_SANDBOX_SOCKET": str(socket_path),
        "LAB_MAX_ACTIVE_RUNS": "1000",
        "LAB_DAILY_COMPUTE_S": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    if broker == "redis":
        env |= {"CELERY_BROKER_URL": REDIS, "REDIS_URL": REDIS}
    # The embedded default: `dev.py run`'s settings (gradlab.settings.local), a folder as the broker.
    return env


def measure(broker: str, runs: int) -> dict[str, list[float]]:
    folder = Path(tempfile.mkdtemp(prefix="gradlab-bench-"))
    folder.chmod(0o711)
    var = folder / "var"
    var.mkdir()
    socket_path = folder / "sandbox.sock"
    env = environment(broker, var, socket_path)
    os.environ.update(env)
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from accounts.models import User
    from lab import wakeups
    from lab.models import ExperimentRun, RunEvent
    from sandbox.client import SandboxService

    if broker == "redis":
        import redis

        redis.Redis.from_url(REDIS).flushdb()
    call_command("migrate", verbosity=0)
    user = User.objects.create_user("bench")
    client = Client()
    client.force_login(user)
    session = client.cookies["sessionid"].value

    sandbox = SandboxService(python=SANDBOX_PYTHON, socket_path=socket_path).start()
    port = free_port()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "gradlab", "worker", "-Q", "cpu,gpu", "-c", "2", "-l", "WARNING"],
            cwd=ROOT,
            env=env,
        ),
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "gradlab.asgi:application", "--port", str(port), "--no-access-log"],
            cwd=ROOT,
            env=env,
        ),
    ]
    try:
        web = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for _ in range(300):
            try:
                web.request("GET", "/healthz")
                web.getresponse().read()
                break
            except OSError:
                web.close()
                time.sleep(0.1)
        cookie = f"sessionid={session}"
        web.request("GET", "/lab/?preset=sigmoid-vanishes", headers={"Cookie": cookie})
        page = web.getresponse()
        html = page.read().decode()
        csrf = re.search(r'name="csrftoken" value="([^"]+)"|csrftoken=([^;]+)', page.getheader("Set-Cookie") or "")
        csrf_cookie = csrf.group(2) if csrf else ""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
        form = re.search(r'<form method="post" action="/lab/runs" class="spec-form".*?</form>', html, re.S).group(0)
        fields = dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', form))
        selected = r'<select name="([a-z_]+)".*?<option value="([^"]*)"[^>]*selected'
        fields |= dict(re.findall(selected, form, re.S))
        fields["csrfmiddlewaretoken"] = token
        cookie += f"; csrftoken={csrf_cookie}"
        body = urllib.parse.urlencode(fields)
        headers = {
            "Cookie": cookie,
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"http://127.0.0.1:{port}",
            "Referer": f"http://127.0.0.1:{port}/lab/",
        }

        figures: dict[str, list[float]] = {"healthz": [], "first_event": [], "publish_to_receipt": []}
        for _ in range(runs):
            started = time.perf_counter()
            web.request("GET", "/healthz")
            web.getresponse().read()
            figures["healthz"].append((time.perf_counter() - started) * 1000)

        for _ in range(runs):
            started = time.perf_counter()
            web.request("POST", "/lab/runs", body=body, headers=headers)
            answer = web.getresponse()
            answer.read()
            location = answer.getheader("Location")
            assert answer.status in (302, 303) and location, (answer.status, location)
            stream = Stream(port, location + "events", cookie)
            arrived = stream.until("progress")
            figures["first_event"].append((arrived - started) * 1000)
            stream.until("final")
            stream.close()

        run = ExperimentRun.objects.filter(owner=user).order_by("-id").first()
        ExperimentRun.objects.filter(pk=run.pk).update(status="running")
        progress = run.events.filter(kind="progress").last().data  # what the worker stores, again
        for _ in range(runs):
            seq = run.events.order_by("-seq").first().seq
            stream = Stream(port, f"/lab/runs/{run.id}/events", cookie, last_event_id=seq)
            time.sleep(0.2)  # the stream has replayed nothing and is waiting
            published = time.perf_counter()
            RunEvent.objects.create(run=run, seq=seq + 1, kind="progress", data=progress)
            wakeups.publish(run_id=run.id, seq=seq + 1)
            arrived = stream.until("progress")
            figures["publish_to_receipt"].append((arrived - published) * 1000)
            stream.close()
        return figures
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
        sandbox.stop()


def report(broker: str, figures: dict[str, list[float]]) -> None:
    base = statistics.median(figures["healthz"])
    print(f"\n{broker}: {len(figures['first_event'])} runs")
    for name, values in figures.items():
        ordered = sorted(values)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        median = statistics.median(values)
        print(f"  {name:20s} median {median:8.1f} ms   p90 {p90:8.1f} ms   ({median / base:6.1f}× /healthz)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--broker", choices=["embedded", "redis", "both"], default="both")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.broker == "both":
        for broker in ("embedded", "redis"):
            # One process per broker: the settings are read once per process.
            done = subprocess.run([sys.executable, __file__, "--broker", broker, "--runs", str(arguments.runs)])
            if done.returncode:
                return done.returncode
        return 0
    report(arguments.broker, measure(arguments.broker, arguments.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
