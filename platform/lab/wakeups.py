"""Wake-ups for live pages: Redis pub/sub when configured, else the pages poll the database.

A wake-up carries no data: the database holds every event, so a lost wake-up costs at
most one poll interval and a listener that missed one still sees everything.
"""

import asyncio
import logging

from django.conf import settings

log = logging.getLogger(__name__)


def channel(run_id: int) -> str:
    return f"run:{run_id}"


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


class Listener:
    """`await listener.wait(timeout)` returns when run `run_id` may have news, or after `timeout`."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.pubsub = None
        self.connection = None

    async def __aenter__(self) -> "Listener":
        if settings.REDIS_URL:
            import redis.asyncio

            try:
                self.connection = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1)
                self.pubsub = self.connection.pubsub(ignore_subscribe_messages=True)
                await self.pubsub.subscribe(channel(self.run_id))
            except (redis.RedisError, OSError) as error:
                log.warning("listening for run %s by polling: %s", self.run_id, error)
                await self._close()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._close()

    async def _close(self) -> None:
        pubsub, connection, self.pubsub, self.connection = self.pubsub, self.connection, None, None
        try:
            if pubsub is not None:
                await pubsub.aclose()
            if connection is not None:
                await connection.aclose()
        except Exception as error:  # noqa: BLE001 - closing a broken connection may fail any way
            log.debug("closing the wake-up listener: %s", error)

    async def wait(self, timeout: float) -> bool:
        """True when woken up (or when polling is due), False when `timeout` passed quietly."""
        if self.pubsub is None:
            poll = settings.LAB_SSE_POLL_S
            await asyncio.sleep(min(poll, timeout))
            return poll <= timeout
        import redis

        try:
            message = await self.pubsub.get_message(timeout=timeout)
        except (redis.RedisError, OSError) as error:
            log.warning("wake-ups for run %s lost, polling instead: %s", self.run_id, error)
            await self._close()
            return True
        return message is not None
