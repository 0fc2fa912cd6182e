"""Checks of the services Gradlab depends on, for /healthz.

Each check is named in CHECKS and answers a Component: its state, which everyone may see,
and why it fails, which only staff see (the text names hosts, ports and database users).
"""

import os
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import connection

OK, FAILING, NOT_CONFIGURED = "ok", "failing", "not configured"


@dataclass(frozen=True)
class Component:
    state: str
    detail: str = ""

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


# What /healthz reports, in this order. More components join this list.
CHECKS: list[tuple[str, Callable[[], Component]]] = [
    ("database", database),
    ("redis", redis),
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
