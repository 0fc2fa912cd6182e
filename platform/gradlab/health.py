"""Checks of the services Gradlab depends on, for /healthz."""

import os

from django.conf import settings
from django.db import connection


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:  # noqa: BLE001 - any failure means "down"; the message says why
        return f"error: {type(error).__name__}: {error}".strip()
    return "ok"


def redis_state() -> str:
    if not settings.REDIS_URL:
        return "not configured"
    import redis

    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2)
    except ValueError as error:
        return f"error: {error}"
    try:
        client.ping()
    except Exception as error:  # noqa: BLE001
        return f"error: {type(error).__name__}: {error}".strip()
    finally:
        client.close()
    return "ok"


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
        return redis_state()
    return "ok"
