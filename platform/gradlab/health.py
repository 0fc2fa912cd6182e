"""Checks of the services Gradlab depends on, for /healthz.

Each check is named in CHECKS and answers a Component: its state, which everyone may see,
and why it fails, which only staff see (the text names hosts, ports and database users).
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

OK, FAILING, NOT_CONFIGURED, DEGRADED = "ok", "failing", "not configured", "degraded"


@dataclass(frozen=True)
class Component:
    state: str
    detail: str = ""
    # False for the lab's processes: without them the site is "degraded" (lessons, quizzes and
    # cards work; the lab refuses runs) and still answers 200, so that no orchestrator restarts
    # a healthy web server because a worker stopped.
    critical: bool = True

    @classmethod
    def failing(cls, error: BaseException | str) -> "Component":
        detail = error if isinstance(error, str) else f"{type(error).__name__}: {error}".strip()
        return cls(FAILING, detail)


def database() -> Component:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "failing"; the detail says why
        return Component.failing(error)
    return Component(OK)


def redis() -> Component:
    if not settings.REDIS_URL:
        return Component(NOT_CONFIGURED)
    import redis as redis_client

    try:
        client = redis_client.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    except ValueError as error:
        return Component.failing(error)
    try:
        client.ping()
    except Exception as error:  # noqa: BLE001
        return Component.failing(error)
    finally:
        client.close()
    return Component(OK)


def _heartbeat(name: str, what: str) -> Callable[[], Component]:
    def check() -> Component:
        from django.db import DatabaseError
        from django.utils import timezone

        from lab.selectors import services_alive

        try:
            alive = services_alive(now=timezone.now())
        except (DatabaseError, OSError) as error:  # the "database" check says so too
            return Component(FAILING, f"{type(error).__name__}: {error}", critical=False)
        if alive[name]:
            if name == "sandbox" and alive.get("missing"):  # started with SANDBOX_ISOLATION=reduced
                layers = "; ".join(f"{item['layer']} ({item['why']})" for item in alive["missing"])
                return Component(OK, f"reduced isolation, missing: {layers}", critical=False)
            return Component(OK, critical=False)
        detail = f"no {what} has sent a heartbeat lately (LAB_SERVICE_LOST_S={settings.LAB_SERVICE_LOST_S:g})"
        return Component(FAILING, detail, critical=False)

    check.__name__ = name
    return check


# The lab's processes, from the heartbeats they write (lab.selectors.services_alive): a stopped
# worker, sandbox service or beat (which queues the reaper) shows here, with no broker ping.
worker = _heartbeat("worker", "lab worker")
sandbox = _heartbeat("sandbox", "sandbox service (pinged by a worker)")
scheduler = _heartbeat("scheduler", "reaper run (queued by the beat)")


# What /healthz reports, in this order. More components join this list.
CHECKS: list[tuple[str, Callable[[], Component]]] = [
    ("database", database),
    ("redis", redis),
    ("worker", worker),
    ("sandbox", sandbox),
    ("scheduler", scheduler),
]


def broker_state() -> str:
    """Whether a run can be queued now: Redis answers, or the embedded broker's folder is writable."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError as error:
            return f"error: {error}"
        return "ok" if os.access(folder, os.W_OK) else f"error: {folder} is not writable"
    if settings.CELERY_BROKER_URL == settings.REDIS_URL:
        state = redis()
        return "ok" if state.state == OK else f"error: {state.detail}"
    return "ok"
