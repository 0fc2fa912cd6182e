"""The server-sent events of a run, read with Django's async client."""

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.test import AsyncClient
from django.utils import timezone

from lab import execution, services, wakeups
from lab.models import ExperimentRun, RunEvent
from tests.lab.conftest import REDIS_TEST_URL, SMALL, fake_result, fake_sandbox, redis_available

pytestmark = pytest.mark.django_db(transaction=True)
PROGRESS = {"step": 3, "steps": 10, "loss": 0.69, "grad_norm": [1e-4, 1e-2, 1.0], "layers": ["a", "b", "c"]}


class Reader:
    """Reads an event stream message by message, with a timeout for each."""

    def __init__(self, response):
        self.chunks = response.streaming_content.__aiter__()
        self.buffer = ""

    async def next(self, timeout: float = 5.0) -> dict | None:
        while "\n\n" not in self.buffer:
            try:
                chunk = await asyncio.wait_for(self.chunks.__anext__(), timeout)
            except StopAsyncIteration:
                return None
            self.buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        raw, self.buffer = self.buffer.split("\n\n", 1)
        message = {"comment": "", "data": []}
        for line in raw.split("\n"):
            field, _sep, value = line.partition(": ")
            if field == "data":
                message["data"].append(value)
            elif field == "":
                message["comment"] = value
            else:
                message[field] = value
        message["data"] = "\n".join(message["data"])
        return message

    async def skip_retry(self) -> None:
        assert (await self.next())["retry"] == "1000"


def run_async(coroutine):
    """Run the test's coroutine, then close the connections its database thread opened
    (they would outlive the test and keep PostgreSQL from dropping the test database)."""

    async def and_close():
        try:
            return await coroutine
        finally:
            await sync_to_async(connections.close_all)()

    return asyncio.run(and_close())


def _client(user) -> AsyncClient:
    client = AsyncClient()
    client.force_login(user)
    return client


def _running_run(owner) -> ExperimentRun:
    run = services.run_create(owner=owner, spec=SMALL, language="en")
    ExperimentRun.objects.filter(pk=run.pk).update(status="running", started_at=timezone.now())
    RunEvent.objects.create(run=run, seq=2, kind="started", data={})
    return run


@sync_to_async
def _add_progress(run: ExperimentRun, seq: int) -> None:
    RunEvent.objects.create(run=run, seq=seq, kind="progress", data=PROGRESS)
    wakeups.publish(run_id=run.id, seq=seq)


def _finished_run(owner) -> ExperimentRun:
    run = services.run_create(owner=owner, spec=SMALL, language="en")
    execution.run_execute(run_id=run.id, worker="w", sandbox_run=fake_sandbox(fake_result()), draw=lambda **_: {})
    return run


def test_it_replays_a_finished_run_and_closes(learner):
    run = _finished_run(learner)

    client = _client(learner)

    async def read():
        response = await client.get(f"/lab/runs/{run.id}/events")
        assert response["Content-Type"].startswith("text/event-stream")
        assert response["Cache-Control"] == "no-cache, no-transform"
        assert response["X-Accel-Buffering"] == "no"
        reader = Reader(response)
        await reader.skip_retry()
        return [await reader.next() for _ in range(4)]

    status, progress, final, end = run_async(read())
    last = RunEvent.objects.filter(run=run).order_by("seq").last().seq
    assert [message["event"] for message in (status, progress, final)] == ["status", "progress", "final"]
    assert {message["id"] for message in (status, progress, final)} == {str(last)}
    assert "Finished." in status["data"]
    assert "<svg" in progress["data"] and "Step 3 of 3" in progress["data"]
    assert "Results" in final["data"]
    assert end is None


def test_it_sends_only_what_came_after_last_event_id(learner):
    run = _running_run(learner)
    RunEvent.objects.create(run=run, seq=3, kind="progress", data=PROGRESS)

    client = _client(learner)

    async def read():
        response = await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": "3"})
        reader = Reader(response)
        await reader.skip_retry()
        await _add_progress(run, 4)
        return await reader.next(), await reader.next()

    status, progress = run_async(read())
    assert (status["event"], status["id"]) == ("status", "4")
    assert (progress["event"], progress["id"]) == ("progress", "4")
    assert "Step 4 of 10" in progress["data"]


def test_it_sends_nothing_new_to_a_browser_that_has_everything(learner, settings):
    settings.LAB_SSE_KEEPALIVE_S = 0.3
    run = _running_run(learner)

    client = _client(learner)

    async def read():
        response = await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": "2"})
        reader = Reader(response)
        await reader.skip_retry()
        return await reader.next()

    message = run_async(read())
    assert message["comment"] == "keep-alive" and "event" not in message


def test_it_ends_with_the_final_event_when_the_run_finishes(learner):
    run = services.run_create(owner=learner, spec=SMALL, language="en")

    client = _client(learner)

    async def read():
        response = await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": "1"})
        reader = Reader(response)
        await reader.skip_retry()
        await sync_to_async(services.run_cancel)(run=run)  # a queued run ends at once
        messages = []
        while (message := await reader.next()) is not None:
            messages.append(message)
        return messages

    messages = run_async(read())
    assert [message["event"] for message in messages][-1] == "final"
    assert "Cancelled." in messages[0]["data"]


def test_it_tells_a_waiting_learner_their_place_in_the_queue(learner, other_learner):
    services.run_create(owner=other_learner, spec=SMALL, language="en")
    mine = services.run_create(owner=learner, spec=SMALL, language="en")

    client = _client(learner)

    async def read():
        reader = Reader(await client.get(f"/lab/runs/{mine.id}/events"))
        await reader.skip_retry()
        return await reader.next()

    status = run_async(read())
    assert status["event"] == "status" and "place 2" in status["data"]


def test_it_hides_the_stream_from_another_learner(learner, other_learner):
    run = _running_run(learner)

    client = _client(other_learner)

    async def read():
        return await client.get(f"/lab/runs/{run.id}/events")

    assert run_async(read()).status_code == 404


def test_it_is_woken_by_redis_instead_of_polling(learner, settings):
    if not redis_available():
        pytest.skip("Redis is not running")
    settings.REDIS_URL = REDIS_TEST_URL
    settings.LAB_SSE_POLL_S = 60  # were it polling, the event would come a minute late
    settings.LAB_SSE_KEEPALIVE_S = 60
    run = _running_run(learner)

    client = _client(learner)

    async def read():
        reader = Reader(await client.get(f"/lab/runs/{run.id}/events", headers={"Last-Event-ID": "2"}))
        await reader.skip_retry()
        await asyncio.sleep(0.2)  # subscribed by now
        await _add_progress(run, 3)
        return await reader.next(timeout=5)

    status = run_async(read())
    assert (status["event"], status["id"]) == ("status", "3")
