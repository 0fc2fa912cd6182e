"""Requests per second of the lesson page and the course page, against a bare view.

    .venv/bin/python bench/page_load.py                  # this checkout
    .venv/bin/python bench/page_load.py --root /work/main  # another checkout (a baseline)

Starts the product's server as `dev.py run` serves it: one uvicorn process on
`gradlab.asgi:application`, DEBUG off, the embedded SQLite database (a scratch file of its
own) with the course loaded, the same settings. The one difference is the URLconf:
`bench/page_load_site/bench_settings.py` takes `gradlab.settings.local` as it is and
sets ROOT_URLCONF to one that includes the product's URLs plus `/bench/bare`, a fixed
small HTML page that reads no database (the floor for this server, settings and
middleware), and `/bench/signed-in`, the same page after reading the session and the user
(the floor of any page a signed-in learner sees). A learner with progress (lessons done, a
deck, a finished quiz) is logged in.

`--postgres URL --redis URL` runs the same against the production backends instead: a
scratch database made on that PostgreSQL server (and dropped after) and that Redis
database, as the compose web service has them.

Then, after a warm-up, in rounds (the three pages in turn within each round, so that the
machine's other load falls on all three alike): `--clients` client processes, each on
one keep-alive connection, GET one page for `--seconds` seconds. Prints each round's
requests per second of each page, their medians and the ratios lesson/bare and
course/bare (the issue's target: both at least 0.7) beside signed-in/bare, and the server process's CPU time per
request (the machine's other load moves requests per second; this moves less). Every
answer must be 200.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SITE = HERE / "page_load_site"
TARGET = 0.7


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def hammer(job: tuple[int, str, str, float, float]) -> tuple[int, list[int]]:
    """GETs of `path` on one keep-alive connection from `start` for `seconds`; the count and any non-200."""
    port, path, cookie, start, seconds = job
    web = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Cookie": cookie, "Accept-Language": "en"}
    while time.time() < start:
        time.sleep(0.001)
    end = start + seconds
    count, bad = 0, []
    while time.time() < end:
        web.request("GET", path, headers=headers)
        answer = web.getresponse()
        answer.read()
        if answer.status != 200:
            bad.append(answer.status)
        count += 1
    web.close()
    return count, bad


def cpu_seconds(pid: int) -> float:
    """User and system CPU time process `pid` has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def prepare(root: Path, env: dict[str, str]) -> tuple[str, str, str]:
    """Migrate, load the course, make a learner with progress; their cookie, a lesson and the course."""
    os.environ.update(env)
    sys.path[:0] = [str(SITE), str(root / "platform"), str(root)]
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client

    from accounts.models import User
    from cards.services import deck_add
    from courses.models import Lesson
    from courses.services import lesson_progress_set
    from quizzes.models import Quiz
    from quizzes.services import attempt_finish, attempt_start

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    call_command("load_content", verbosity=0)
    learner = User.objects.create_user("bench", language="en")
    lessons = list(Lesson.objects.live().select_related("course").order_by("course", "position"))
    for lesson in lessons[:2]:
        lesson_progress_set(user=learner, lesson=lesson, done=True)
    course = lessons[0].course
    deck_add(user=learner, course=course)
    quiz = Quiz.objects.live().filter(course=course).first()
    if quiz:
        attempt_finish(attempt=attempt_start(user=learner, quiz=quiz, mode="practice"))
    client = Client()
    client.force_login(learner)
    cookie = f"sessionid={client.cookies['sessionid'].value}; django_language=en"
    lesson = lessons[2] if len(lessons) > 2 else lessons[0]  # one not done yet, with facts
    connections.close_all()
    return cookie, lesson.get_absolute_url(), course.get_absolute_url()


def scratch_database(server: str, name: str, *, drop: bool = False) -> str:
    """Make (or drop) database `name` on the PostgreSQL server at `server`; its URL."""
    import psycopg

    with psycopg.connect(f"{server.rstrip('/')}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop:
            admin.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rstrip('/')}/{name}"


def measure(arguments) -> int:
    root = Path(arguments.root).resolve()
    folder = Path(tempfile.mkdtemp(prefix="gradlab-pages-"))
    (folder / "var").mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(SITE), str(root / "platform"), str(root)]),
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "GRADLAB_VAR_DIR": str(folder / "var"),
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):  # the embedded default, as `dev.py run` has it bare
        os.environ.pop(name, None)
    database = f"gradlab_bench_pages_{os.getpid()}"
    if arguments.postgres:
        env["DATABASE_URL"] = scratch_database(arguments.postgres, database)
    if arguments.redis:
        env["REDIS_URL"] = arguments.redis
    try:
        return serve_and_measure(arguments, root, env)
    finally:
        if arguments.postgres:
            from django.db import connections

            connections.close_all()
            scratch_database(arguments.postgres, database, drop=True)


def serve_and_measure(arguments, root: Path, env: dict[str, str]) -> int:
    cookie, lesson, course = prepare(root, env)
    visitor = "django_language=en"  # no session: what a visitor who is not logged in sends
    pages = {
        "lesson": (lesson, cookie),
        "course": (course, cookie),
        "signed-in": ("/bench/signed-in", cookie),
        "lesson (visitor)": (lesson, visitor),
        "bare": ("/bench/bare", visitor),
    }
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "gradlab.asgi:application",
            "--app-dir",
            str(root / "platform"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
        ],
        cwd=root,
        env=env,
    )
    rates: dict[str, list[float]] = {name: [] for name in pages}
    cpu_ms: dict[str, list[float]] = {name: [] for name in pages}  # the server's CPU per request
    bad: list[tuple[str, int]] = []
    try:
        for _ in range(300):
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=5).request("GET", "/bench/bare")
                break
            except OSError:
                time.sleep(0.1)
        with multiprocessing.get_context("spawn").Pool(arguments.clients) as pool:

            def phase(path: str, cookie: str, seconds: float) -> tuple[float, float, list[int]]:
                start = time.time() + 0.2
                jobs = [(port, path, cookie, start, seconds)] * arguments.clients
                used = cpu_seconds(server.pid)
                results = pool.map(hammer, jobs)
                used = cpu_seconds(server.pid) - used
                count = sum(count for count, _bad in results)
                return count / seconds, 1000 * used / max(count, 1), [s for _c, b in results for s in b]

            for path, cookie in pages.values():  # warm-up: templates, translations, the first reads
                phase(path, cookie, arguments.warmup)
            for _ in range(arguments.rounds):
                for name, (path, cookie) in pages.items():
                    rate, cpu, statuses = phase(path, cookie, arguments.seconds)
                    rates[name].append(rate)
                    cpu_ms[name].append(cpu)
                    bad += [(name, status) for status in statuses]
    finally:
        server.terminate()
        server.wait(timeout=20)

    backends = "PostgreSQL and Redis" if arguments.postgres else "SQLite"
    print(f"\n{root}: one uvicorn process, DEBUG off, {backends}; {arguments.clients} keep-alive clients,")
    print(f"  {arguments.rounds} rounds of {arguments.seconds:g} s per page; lesson {lesson}, course {course}")
    for name, values in rates.items():
        rounds = " ".join(f"{value:6.0f}" for value in values)
        print(
            f"  {name:16s} req/s per round: {rounds}   median {statistics.median(values):6.0f}"
            f"   server CPU {statistics.median(cpu_ms[name]):5.1f} ms/request"
        )
    bare = statistics.median(rates["bare"])
    ratios = {name: statistics.median(rates[name]) / bare for name in rates}
    print(f"  lesson/bare {ratios['lesson']:.2f}   course/bare {ratios['course']:.2f}   (target ≥ {TARGET}; a learner)")
    print(
        f"  signed-in/bare {ratios['signed-in']:.2f} (the floor of any page of a signed-in learner)"
        f"   lesson (visitor)/bare {ratios['lesson (visitor)']:.2f}"
    )
    if bad:
        print(f"  non-200 answers: {len(bad)}, first {bad[:5]}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(HERE.parent), help="the checkout to serve (default: this one)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=3.0, help="per page and round")
    parser.add_argument(
        "--postgres", help="a PostgreSQL server's URL (postgres://user@host:port): the production backends"
    )
    parser.add_argument("--redis", help="a Redis database's URL, with --postgres (redis://host:port/db)")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds per page before the rounds")
    return measure(parser.parse_args())


if __name__ == "__main__":
    sys.exit(main())
