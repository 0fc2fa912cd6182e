"""One listener per process wakes every waiting stream: one query per poll without Redis,
one subscription with it, however many streams are open."""

import asyncio

import pytest
from django.db.backends.signals import connection_created

from lab import hub
from tests.lab.conftest import REDIS_TEST_URL, redis_available
from tests.lab.test_stream import Reader, _add_progress, _client, _running_run, run_async

pytestmark = pytest.mark.django_db(transaction=True)


class QueryCounter:
    """Every query any thread sends from now on (each new connection is counted)."""

    def __init__(self):
        self.queries: list[str] = []
        connection_created.connect(self._created, weak=False)

    def _created(self, sender, connection, **kwargs):
        if self._count not in connection.execute_wrappers:  # a thread's wrapper connects again after a close
            connection.execute_wrappers.append(self._count)

    def _count(self, execute, sql, params, many, context):
        self.queries.append(sql)
        return execute(sql, params, many, context)

    def stop(self) -> None:
        connection_created.disconnect(self._created)


@pytest.fixture
def queries():
    counter = QueryCounter()
    yield counter
    counter.stop()


async def _progress(reader: Reader, timeout: float = 5.0) -> dict:
    """The next progress message (a status message may come first, or not)."""
    while (message := await reader.next(timeout=timeout))["event"] != "progress":
        pass
    return message


async def _readers(client, run, count: int, *, after: int = 2) -> list[Reader]:
    readers = []
    for _ in range(count):
        reader = Reader(await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": str(after)}))
        await reader.skip_retry()
        readers.append(reader)
    return readers


def test_it_asks_the_database_once_per_poll_however_many_streams_wait(learner, settings, queries):
    settings.LAB_MAX_STREAMS_PER_USER = 50
    settings.LAB_SSE_KEEPALIVE_S = 60
    settings.LAB_SSE_POLL_S = 0.05
    settings.REDIS_URL = ""
    first, second = _running_run(learner), _running_run(learner)
    client = _client(learner)

    async def read():
        readers = await _readers(client, first, 10) + await _readers(client, second, 10)
        reading = [asyncio.create_task(reader.next(timeout=60)) for reader in readers]
        await asyncio.sleep(0.5)  # every stream has read what there is and waits
        windows = []
        # On a loaded machine a stream may still be replaying as a window starts: the quietest
        # of a few windows counts (twenty streams polling each would show twenty in every one).
        for _ in range(5):
            polls_before, queries.queries[:] = hub.current().polls, []
            await asyncio.sleep(0.5)
            windows.append((hub.current().polls - polls_before, len(queries.queries)))
        for task in reading:
            task.cancel()
        await asyncio.gather(*reading, return_exceptions=True)
        return min(windows, key=lambda window: window[1] - window[0])

    polls, counted = run_async(read())
    assert polls >= 3
    # One query per poll; a poll under way as the counting starts or stops may fall on either side.
    assert polls - 1 <= counted <= polls + 1


def test_it_wakes_every_stream_of_a_run_with_one_poll(learner, settings):
    settings.LAB_MAX_STREAMS_PER_USER = 50
    settings.LAB_SSE_KEEPALIVE_S = 60
    settings.REDIS_URL = ""
    run = _running_run(learner)
    client = _client(learner)

    async def read():
        readers = await _readers(client, run, 8)
        reading = [asyncio.create_task(_progress(reader)) for reader in readers]
        await asyncio.sleep(0.3)
        await _add_progress(run, 3)
        return await asyncio.gather(*reading)

    messages = run_async(read())
    assert [(message["event"], message["id"]) for message in messages] == [("progress", "3")] * 8


def test_it_wakes_every_stream_of_a_run_with_one_publish_on_one_subscription(learner, settings):
    if not redis_available():
        pytest.skip("Redis is not running")
    import redis

    settings.REDIS_URL = REDIS_TEST_URL
    settings.LAB_MAX_STREAMS_PER_USER = 50
    settings.LAB_SSE_POLL_S = 60  # were they polling, the event would come a minute late
    settings.LAB_SSE_KEEPALIVE_S = 60
    run = _running_run(learner)
    client = _client(learner)

    def listeners() -> list[dict]:
        clients = redis.Redis.from_url(REDIS_TEST_URL).client_list()
        return [entry for entry in clients if entry.get("name") == hub.listener_name()]

    async def read():
        readers = await _readers(client, run, 8)
        reading = [asyncio.create_task(_progress(reader)) for reader in readers]
        await asyncio.sleep(0.3)  # subscribed by now, and every stream waits
        subscriptions = await asyncio.to_thread(listeners)
        await _add_progress(run, 3)  # one event, one publish
        return subscriptions, await asyncio.gather(*reading)

    subscriptions, messages = run_async(read())
    assert [(entry["psub"], entry["sub"]) for entry in subscriptions] == [("1", "0")]
    assert [(message["event"], message["id"]) for message in messages] == [("progress", "3")] * 8
