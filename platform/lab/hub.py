"""One listener per web process for every open event stream of the lab.

An open stream waits on its `Watcher` and holds nothing else: no database connection, no
Redis connection, no thread. The process's `Hub` holds one Redis pub/sub connection
(a pattern subscription to every run's channel) and one poller that asks the database,
in one query for all watched runs, whether anything a page shows has changed; it wakes
every watcher of a run that changed. Without Redis (the embedded default), or while
Redis is away, the poller runs every `LAB_SSE_POLL_S`; with Redis it only catches what
pub/sub does not carry (queue positions, a requested cancel, a lost wake-up).

Streams read the database only when woken, briefly, in a few threads of their own whose
connections are closed after each read (`read_briefly`), so open streams cannot use up
the database's connections however many there are.

A hub belongs to one event loop (uvicorn runs one per process); tests get one per loop.
"""

import asyncio
import contextlib
import logging
import os
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, connections

from lab import selectors, wakeups

log = logging.getLogger(__name__)

# Queue positions move without news of the run itself: with Redis, look this often while
# a watched run is queued (else once per keep-alive, for wake-ups that got lost).
QUEUED_REFRESH_S = 1.0
REDIS_RETRY_S = 2.0
# Stream reads of one process at once (and streams opening at once): each holds a
# connection only while it reads.
READ_THREADS = 4

_reads = ThreadPoolExecutor(max_workers=READ_THREADS, thread_name_prefix="lab-stream-read")


def _closing(function: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's; a waiting stream keeps none

    return call


async def read_briefly(function: Callable[..., Any], /, *args, **kwargs) -> Any:
    """`function(*args, **kwargs)` in a stream-read thread, its database connection closed after."""
    return await sync_to_async(_closing(function), thread_sensitive=False, executor=_reads)(*args, **kwargs)


class Watcher:
    """One open stream's place in the hub: `await wait(timeout)` until its run may have news."""

    def __init__(self, hub: "Hub", *, run_id: int, user_id: int):
        self.hub = hub
        self.run_id = run_id
        self.user_id = user_id
        self.news = asyncio.Event()
        self.closed = False

    async def wait(self, timeout: float) -> bool:
        """True when woken (the flag stays set between waits, so no wake-up is missed)."""
        try:
            await asyncio.wait_for(self.news.wait(), timeout)
        except TimeoutError:
            return False
        self.news.clear()
        return True

    def close(self) -> None:
        """Leave the hub; safe from any thread (Django closes a response in a worker thread) and twice."""
        loop = self.hub.loop
        if loop.is_closed():
            self.hub.remove(self)
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.hub.remove(self)
        else:
            loop.call_soon_threadsafe(self.hub.remove, self)


class Hub:
    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.watchers: dict[int, set[Watcher]] = {}
        self.versions: dict[int, tuple | None] = {}
        self.subscribed = False  # the Redis subscription is live
        self.nudge = asyncio.Event()  # cut the poller's sleep short
        self.task: asyncio.Task | None = None
        self.polls = 0
        self.opening = asyncio.Semaphore(READ_THREADS)  # streams checking their viewer at once

    def open(self, *, run_id: int, user_id: int, limit: int) -> Watcher | None:
        """A watcher for a new stream of `run_id`; None when the user already has `limit` open."""
        if self.open_count(user_id=user_id) >= limit:
            return None
        watcher = Watcher(self, run_id=run_id, user_id=user_id)
        self.watchers.setdefault(run_id, set()).add(watcher)
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._serve(), name="lab-stream-hub")
        return watcher

    def remove(self, watcher: Watcher) -> None:
        if watcher.closed:
            return
        watcher.closed = True
        watchers = self.watchers.get(watcher.run_id, set())
        watchers.discard(watcher)
        if not watchers:
            self.watchers.pop(watcher.run_id, None)
            self.versions.pop(watcher.run_id, None)
        if not self.watchers and self.task is not None:
            self.task.cancel()  # nothing to listen for: let go of Redis too
            self.task = None

    def open_count(self, *, user_id: int) -> int:
        return sum(watcher.user_id == user_id for watchers in self.watchers.values() for watcher in watchers)

    def wake(self, run_id: int) -> None:
        for watcher in self.watchers.get(run_id, ()):
            watcher.news.set()

    def wake_all(self) -> None:
        for run_id in self.watchers:
            self.wake(run_id)

    async def _serve(self) -> None:
        listener = self.loop.create_task(self._listen()) if settings.REDIS_URL else None
        try:
            while self.watchers:
                await self.poll()
                self.nudge.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.nudge.wait(), self._interval())
        finally:
            if listener is not None:
                listener.cancel()

    def _interval(self) -> float:
        if not self.subscribed:
            return settings.LAB_SSE_POLL_S
        queued = any(version is not None and version[3] is not None for version in self.versions.values())
        return QUEUED_REFRESH_S if queued else settings.LAB_SSE_KEEPALIVE_S

    async def poll(self) -> None:
        """One query for every watched run; wake the watchers of each run that changed."""
        run_ids = list(self.watchers)
        try:
            versions = await read_briefly(selectors.stream_versions, run_ids=run_ids)
        except DatabaseError as error:  # the streams wait on; their keep-alives still go out
            log.warning("live pages cannot read the database: %s", error)
            return
        self.polls += 1
        for run_id in run_ids:
            if run_id not in self.watchers:
                continue  # its last stream closed while we read
            version = versions.get(run_id)
            # A run seen for the first time wakes its streams: it may have changed between
            # a stream's own read and this one.
            if run_id not in self.versions or self.versions[run_id] != version:
                self.versions[run_id] = version
                self.wake(run_id)

    async def _listen(self) -> None:
        """Wake-ups from Redis, for as long as the hub serves; reconnects after a failure."""
        import redis
        import redis.asyncio

        while True:
            client = redis.asyncio.Redis.from_url(
                settings.REDIS_URL, socket_connect_timeout=1, client_name=listener_name()
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(wakeups.PATTERN)
                self._subscribed(True)
                async for message in pubsub.listen():
                    run_id = wakeups.run_of(message.get("channel") or b"")
                    if run_id is not None:
                        self.wake(run_id)
            except (redis.RedisError, OSError) as error:
                log.warning("live pages poll the database: Redis wake-ups failed: %s", error)
            finally:
                self._subscribed(False)
                await _close_quietly(pubsub, client)
            await asyncio.sleep(REDIS_RETRY_S)

    def _subscribed(self, live: bool) -> None:
        if live:
            self.wake_all()  # a wake-up published before the subscription was live is not lost
        self.subscribed = live
        self.nudge.set()


def listener_name() -> str:
    """The hub's name in Redis's CLIENT LIST: one per web process."""
    return f"gradlab-live-{os.getpid()}"


async def _close_quietly(*closables) -> None:
    import redis

    for closable in closables:
        try:
            await closable.aclose()
        except (redis.RedisError, OSError) as error:  # closing a broken connection may fail
            log.debug("closing the wake-up listener: %s", error)


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def current() -> Hub:
    """The hub of the running event loop."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(loop)
    return hub
