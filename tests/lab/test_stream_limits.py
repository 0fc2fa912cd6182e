"""What open event streams may cost: no database connection while they wait, a bounded
number per learner, a bounded life that the browser resumes from Last-Event-ID."""

import asyncio
import weakref

import pytest
from asgiref.sync import ThreadSensitiveContext
from django.db import connection
from django.db.backends.signals import connection_created

from lab import hub
from tests.lab.test_stream import Reader, _add_progress, _client, _running_run, run_async

pytestmark = pytest.mark.django_db(transaction=True)


class Connections:
    """Connections to the test database held right now. On PostgreSQL the server says
    (pg_stat_activity, anyone's but the one asking); on SQLite, whose closed files may stay
    open while another connection holds a lock, Django's connections opened in any thread
    since this started and not closed yet."""

    def __init__(self):
        self.opened = weakref.WeakSet()
        self.peak = 0  # the most Django connections open at once, counted as each opens
        connection_created.connect(self._created, weak=False)

    def _created(self, sender, connection, **kwargs):
        self.opened.add(connection)
        self.peak = max(self.peak, sum(wrapper.connection is not None for wrapper in list(self.opened)))

    def stop(self) -> None:
        connection_created.disconnect(self._created)

    def held(self) -> int:
        settings = connection.settings_dict
        if settings["ENGINE"].endswith("sqlite3"):
            return sum(wrapper.connection is not None for wrapper in list(self.opened))
        import psycopg

        with psycopg.connect(
            host=settings["HOST"] or "127.0.0.1",
            port=settings["PORT"] or 5432,
            user=settings["USER"],
            dbname="postgres",
            autocommit=True,
        ) as probe:
            row = probe.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [settings["NAME"]],
            ).fetchone()
        return row[0]


@pytest.fixture
def connections_held():
    counter = Connections()
    yield counter
    counter.stop()


async def _fewest(counter: Connections, samples: int = 6) -> int:
    """The fewest seen over a few samples: a poll holds one for a moment, a waiting stream none."""
    seen = []
    for _ in range(samples):
        seen.append(counter.held())
        await asyncio.sleep(0.03)
    return min(seen)


async def _open_waiting(client, run, count: int, *, after: int = 2) -> list[asyncio.Task]:
    """`count` streams that have read what there is and now wait (each reads on in a task)."""
    waiting = []
    for _ in range(count):
        reader = Reader(await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": str(after)}))
        await reader.skip_retry()
        waiting.append(asyncio.create_task(reader.next(timeout=60)))
    await asyncio.sleep(0.3)  # every stream has made its first read and waits
    return waiting


async def _stop(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def test_it_holds_no_database_connection_while_it_waits(learner, settings, connections_held):
    settings.LAB_SSE_KEEPALIVE_S = 60
    settings.LAB_MAX_STREAMS_PER_USER = 10
    run = _running_run(learner)
    client = _client(learner)
    before = connections_held.held()

    async def read():
        waiting = await _open_waiting(client, run, 5)
        try:
            return await _fewest(connections_held)
        finally:
            await _stop(waiting)

    assert run_async(read()) == before


def test_it_refuses_one_stream_more_than_a_learner_may_have_open(learner, other_learner, settings):
    settings.LAB_MAX_STREAMS_PER_USER = 2
    settings.LAB_SSE_KEEPALIVE_S = 60
    run = _running_run(learner)
    others = _running_run(other_learner)

    client, other_client = _client(learner), _client(other_learner)

    async def read():
        url = f"/lab/runs/{run.id}/events"
        first, second = await client.get(url), await client.get(url)
        refused = await client.get(url)
        someone_else = await other_client.get(f"/lab/runs/{others.id}/events")
        first.close()  # as Django closes a response whose browser went away
        await asyncio.sleep(0)
        again = await client.get(url)
        for response in (second, someone_else, again):
            response.close()
        return first, second, refused, someone_else, again

    first, second, refused, someone_else, again = run_async(read())
    assert (first.status_code, second.status_code) == (200, 200)
    assert refused.status_code == 429
    assert refused["Content-Type"].startswith("text/plain")
    assert "Too many live views" in refused.content.decode()
    assert someone_else.status_code == 200
    assert again.status_code == 200


def test_it_ends_after_its_life_and_a_reconnect_sends_only_the_rest(learner, settings):
    settings.LAB_STREAM_MAX_S = 0.5
    settings.LAB_SSE_KEEPALIVE_S = 60
    run = _running_run(learner)
    client = _client(learner)

    async def read():
        reader = Reader(await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": "2"}))
        await reader.skip_retry()
        await _add_progress(run, 3)
        first = [await reader.next(), await reader.next()]
        end = await reader.next(timeout=5)
        await _add_progress(run, 4)  # while the browser waits to reconnect
        last_id = first[-1]["id"]
        reader = Reader(await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": last_id}))
        await reader.skip_retry()
        resumed = [await reader.next(), await reader.next()]
        return first, end, resumed

    first, end, resumed = run_async(read())
    assert [(message["event"], message["id"]) for message in first] == [("status", "3"), ("progress", "3")]
    assert end is None
    assert [message["id"] for message in resumed] == ["4", "4"]
    assert "progress" in [message["event"] for message in resumed]
    assert "Step 4 of 10" in resumed[-1]["data"]


def test_it_opens_many_streams_at_once_on_a_few_connections(learner, settings, connections_held):
    settings.LAB_SSE_KEEPALIVE_S = 60
    settings.LAB_MAX_STREAMS_PER_USER = 100
    run = _running_run(learner)
    client = _client(learner)

    async def one_request():
        async with ThreadSensitiveContext():  # as Django's ASGI handler serves each request
            return await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": "2"})

    async def read():
        responses = await asyncio.gather(*(one_request() for _ in range(40)))
        for response in responses:
            response.close()
        return [response.status_code for response in responses]

    assert run_async(read()) == [200] * 40
    assert connections_held.peak <= 2 * hub.READ_THREADS  # opening, and the hub and streams reading
