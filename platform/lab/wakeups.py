"""Wake-ups for live pages: Redis pub/sub when configured, else the pages poll the database.

A wake-up carries no data: the database holds every event, so a lost wake-up costs at
most one poll interval and a listener that missed one still sees everything. Each web
process listens once, for every run (lab.hub).
"""

import logging

from django.conf import settings

log = logging.getLogger(__name__)


PATTERN = "run:*"


def channel(run_id: int) -> str:
    return f"run:{run_id}"


def run_of(channel_name: bytes | str) -> int | None:
    """The run a channel that PATTERN matched is for; None for a name not ours."""
    if isinstance(channel_name, bytes):
        channel_name = channel_name.decode("ascii", "replace")
    prefix, _sep, number = channel_name.partition(":")
    return int(number) if prefix == "run" and number.isdigit() else None


_client = None


def _redis():
    global _client
    if _client is None:
        import redis

        _client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    return _client


def publish(*, run_id: int, seq: int) -> None:
    if not settings.REDIS_URL:
        return
    import redis

    try:
        _redis().publish(channel(run_id), str(seq))
    except redis.RedisError as error:  # the listeners fall back to polling
        log.warning("wake-up for run %s not published: %s", run_id, error)
