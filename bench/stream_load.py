"""Lesson pages while 500 event streams are open: the lab's streams must not slow the site.

    .venv/bin/python bench/stream_load.py --backend sqlite      # the embedded default
    .venv/bin/python bench/stream_load.py --backend postgres    # PostgreSQL and Redis

Starts uvicorn as `dev.py run` does (one process, `gradlab.settings.local`) on a database
of its own (a scratch SQLite file, or the PostgreSQL database `--database-url` names,
dropped and made again), logs a learner in and queues one run that no worker takes,
the issue's case. Then, in one run: GETs of a lesson page with no stream open, and the
same while `--streams` streams of that run are open and waiting, in rounds one after the
other (the streams opened afresh each round), ending without them. The streams all
belong to the one learner: the server is started with LAB_MAX_STREAMS_PER_USER raised
above their number. Prints medians and 99th percentiles, the ratio of the p99 with
streams to the p99 without, every 5xx, the server's CPU while it holds the streams idle,
and on PostgreSQL the most connections the server held to the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


class Streams:
    """`count` event streams read straight off sockets, in a loop of their own thread."""

    def __init__(self, *, port: int, path: str, cookie: str, count: int):
        self.port, self.path, self.cookie, self.count = port, path, cookie, count
        self.statuses: list[int] = []
        self.ended = 0  # streams the server closed while we held them
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.tasks: list[asyncio.Future] = []

    def open(self, timeout_s: float = 120.0) -> None:
        self.thread.start()
        for _ in range(self.count):
            self.tasks.append(asyncio.run_coroutine_threadsafe(self._hold(), self.loop))
        deadline = time.monotonic() + timeout_s
        while len(self.statuses) < self.count:
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {len(self.statuses)} of {self.count} streams answered")
            time.sleep(0.05)

    async def _hold(self) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nCookie: {self.cookie}\r\n"
            "Accept: text/event-stream\r\n\r\n"
        )
        writer.write(request.encode())
        await writer.drain()
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status == 200:
                await reader.readuntil(b"\n\n")  # "retry:"
                await reader.readuntil(b"\n\n")  # the run's status: the stream has read it and waits
            self.statuses.append(status)
            while await reader.read(65536):
                pass
            self.ended += 1
        finally:
            writer.close()

    def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        time.sleep(0.5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


class ConnectionWatch:
    """The most connections PostgreSQL had open to `database`, sampled every 0.1 s."""

    def __init__(self, url: str, database: str):
        import psycopg

        self.probe = psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True)
        self.database = database
        self.most = 0
        self.running = False
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def now(self) -> int:
        query = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        return self.probe.execute(query, [self.database]).fetchone()[0]

    def __enter__(self) -> ConnectionWatch:
        self.running, self.most = True, 0
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.running = False
        self.thread.join()

    def _watch(self) -> None:
        while self.running:
            self.most = max(self.most, self.now())
            time.sleep(0.1)


def cpu_share(pid: int, *, seconds: float) -> float:
    """Share of one core process `pid` used over the next `seconds` (Linux /proc)."""

    def used() -> float:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    start = used()
    time.sleep(seconds)
    return (used() - start) / seconds


def pages(port: int, path: str, cookie: str, count: int) -> tuple[list[float], list[int]]:
    """`count` GETs of `path` one after another, as one browser; milliseconds and every 5xx status."""
    web = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    times, errors = [], []
    for _ in range(count):
        started = time.perf_counter()
        web.request("GET", path, headers={"Cookie": cookie})
        answer = web.getresponse()
        answer.read()
        times.append((time.perf_counter() - started) * 1000)
        if answer.status >= 500:
            errors.append(answer.status)
        elif answer.status != 200:
            raise RuntimeError(f"{path} answered {answer.status}")
    web.close()
    return times, errors


def prepare_postgres(url: str) -> str:
    import psycopg

    database = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{database}"')
    return database


def measure(arguments) -> int:
    folder = Path(tempfile.mkdtemp(prefix="gradlab-streams-"))
    var = folder / "var"
    var.mkdir()
    # Two sockets per stream in this machine's one process pair: lift the soft limit.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "platform"), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "gradlab.settings.local",
        "GRADLAB_VAR_DIR": str(var),
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "LAB_MAX_STREAMS_PER_USER": str(arguments.streams + 10),
    }
    database = ""
    if arguments.backend == "postgres":
        database = prepare_postgres(arguments.database_url)
        env |= {"DATABASE_URL": arguments.database_url, "REDIS_URL": arguments.redis_url}
    os.environ.update(env)
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from accounts.models import User
    from authoring.bundles import content_load
    from courses.models import Lesson
    from lab import services

    if arguments.backend == "postgres":
        import redis

        redis.Redis.from_url(arguments.redis_url).flushdb()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    content_load(path=settings.CONTENT_DIR)
    learner = User.objects.create_user("bench", language="en")
    client = Client()
    client.force_login(learner)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    lesson = Lesson.objects.select_related("course").order_by("id").first().get_absolute_url()
    run = services.run_create(owner=learner, spec={"train": {"steps": 5}}, language="en")  # no worker takes it
    connections.close_all()

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "gradlab.asgi:application", "--port", str(port), "--no-access-log"],
        cwd=ROOT,
        env=env,
    )
    watch = ConnectionWatch(arguments.database_url, database) if database else None
    try:
        for _ in range(300):
            try:
                pages(port, "/healthz", "", 1)
                break
            except OSError:
                time.sleep(0.1)
        pages(port, lesson, cookie, 30)  # warm: templates, the content's first reads
        idle_cpu_before = cpu_share(server.pid, seconds=2)
        # Rounds without and with the streams, in turn, so that the machine's other load
        # falls on both alike; the last round ends without them.
        share = arguments.requests // arguments.rounds
        without, during, errors_without, errors_during = [], [], [], []
        refused, ended, opened_s, idle_cpu, held_opening, held_during = [], 0, [], [], 0, 0
        for _ in range(arguments.rounds):
            times, errors = pages(port, lesson, cookie, share)
            without, errors_without = without + times, errors_without + errors
            streams = Streams(port=port, path=f"/lab/runs/{run.id}/events", cookie=cookie, count=arguments.streams)
            opened = time.perf_counter()
            with watch or contextlib.nullcontext():
                streams.open()
            opened_s.append(time.perf_counter() - opened)
            held_opening = max(held_opening, watch.most if watch else 0)
            time.sleep(2)  # every stream has made its first read and waits
            idle_cpu.append(cpu_share(server.pid, seconds=2))  # the server's own cost of holding them
            with watch or contextlib.nullcontext():
                times, errors = pages(port, lesson, cookie, share)
            held_during = max(held_during, watch.most if watch else 0)
            during, errors_during = during + times, errors_during + errors
            refused += [status for status in streams.statuses if status != 200]
            ended += streams.ended
            streams.close()
            time.sleep(2)
        times, errors = pages(port, lesson, cookie, share)
        without, errors_without = without + times, errors_without + errors
        held_after = watch.now() if watch else None
    finally:
        server.terminate()
        server.wait(timeout=20)

    print(f"\n{arguments.backend}: {lesson}, one uvicorn process, {arguments.rounds} rounds without and with streams")
    print(f"  streams: {arguments.streams} of one learner on one queued run (LAB_MAX_STREAMS_PER_USER raised to")
    print(
        f"           {arguments.streams + 10} for the bench); all open in {statistics.median(opened_s):.1f} s (median),"
    )
    print(f"           {len(refused)} refused, {ended} ended by the server while held")
    print(
        f"  holding them idle: {statistics.median(idle_cpu):.0%} of a core (the server without: {idle_cpu_before:.0%})"
    )
    for name, values in (("no streams", without), ("500 streams open", during)):
        print(
            f"  {name:17s} {len(values):4d} GETs  median {statistics.median(values):7.1f} ms"
            f"   p99 {percentile(values, 0.99):7.1f} ms"
        )
    ratio = percentile(during, 0.99) / percentile(without, 0.99)
    median_ratio = statistics.median(during) / statistics.median(without)
    print(f"  p99 with / without: {ratio:.2f}   median with / without: {median_ratio:.2f}")
    print(f"  5xx: without streams {len(errors_without)}, with streams {len(errors_during)}")
    if watch:
        print(
            f"  PostgreSQL connections to {database}: at most {held_opening} while the streams opened,"
            f" {held_during} while they were open, {held_after} after"
        )
    failed = errors_without or errors_during or refused or ratio > 2
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--streams", type=int, default=500)
    parser.add_argument("--requests", type=int, default=300, help="lesson GETs per phase, over all rounds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/h14streams")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    return measure(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
