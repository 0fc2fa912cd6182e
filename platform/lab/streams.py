"""`/lab/runs/<id>/events`: a run's story as server-sent events, for htmx's SSE extension.

The stream replays what is stored after `Last-Event-ID`, then waits for wake-ups (Redis
pub/sub, or short polls of the database in the embedded default) and sends each change
as HTML fragments: `status`, `progress` (the bar and the live chart) and, last, `final`.
An event's id is the sequence number of the newest stored event it shows, so a
reconnecting browser continues exactly where it stopped.
"""

import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.http import HttpRequest, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import translation

from courses.translation import current_language
from gradlab import inputs
from lab import presentation, selectors
from lab.models import ExperimentRun, RunEvent
from lab.wakeups import Listener

QUEUED_REFRESH_S = 1.0  # the queue position changes without news of this run


def sse_message(*, event: str, data: str, event_id: int | None = None) -> str:
    lines = [f"id: {event_id}"] if event_id is not None else []
    lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


class RunStream:
    """What the browser has been sent so far, and what to send next.

    The events are read once each: the stream keeps the ones it has, so a wake-up costs
    a query for the new events, one for the run, and the fragments that changed.
    """

    def __init__(self, *, request: HttpRequest, run_id: int, viewer, after: int, language: str):
        self.request = request  # the fragments' forms carry its CSRF token
        self.run_id = run_id
        self.viewer = viewer
        self.sent = after
        self.language = language
        self.events: list[RunEvent] | None = None
        self.shown: tuple | None = None  # the state the last status fragment showed
        self.queued = True

    def advance(self) -> tuple[list[str], bool]:
        """Messages for what changed since the last call, and whether the run is final."""
        with translation.override(self.language):
            resuming = self.events is None and self.sent > 0
            if self.events is None:  # the story so far, to draw the chart from
                self.events = list(RunEvent.objects.filter(run_id=self.run_id, seq__lte=self.sent).order_by("seq"))
            # Events first, then the run: the run is at least as new as the events read.
            fresh = list(RunEvent.objects.filter(run_id=self.run_id, seq__gt=self.sent).order_by("seq"))
            run = ExperimentRun.objects.get(pk=self.run_id)
            self.events += fresh
            if fresh:
                self.sent = fresh[-1].seq
            self.queued = run.status == ExperimentRun.Status.QUEUED
            position = selectors.queue_position(run=run)
            state = (run.status, run.cancel_requested_at, position)
            if resuming and not fresh:
                self.shown = state  # the page already shows the state of the event it names
            messages = []
            if state != self.shown:
                self.shown = state
                context = presentation.status_context(run=run, viewer=self.viewer, position=position)
                messages.append(self._fragment("status", context))
            if any(event.kind == RunEvent.Kind.PROGRESS for event in fresh) or run.is_final:
                context = presentation.progress_context(run=run, events=self.events)
                if context["chart"] or fresh:
                    messages.append(self._fragment("progress", context))
            if run.is_final:
                messages.append(self._fragment("final", presentation.final_context(run=run)))
            return messages, run.is_final

    def _fragment(self, name: str, context: dict) -> str:
        html = render_to_string(f"lab/run.html#run-{name}", context, request=self.request)
        return sse_message(event=name, data=html, event_id=self.sent)


def last_event_id(request: HttpRequest) -> int:
    """Where the browser stopped; an id we cannot have sent replays the whole run."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after")
    return inputs.parse_int(raw, high=inputs.MAX_INT) or 0


async def run_events(request: HttpRequest, run_id: int) -> StreamingHttpResponse:
    viewer = await request.auser()
    await sync_to_async(selectors.run_for_viewer)(user=viewer, run_id=run_id)  # 404 for others
    stream = RunStream(
        request=request,
        run_id=run_id,
        viewer=viewer,
        after=last_event_id(request),
        language=current_language(),
    )
    response = StreamingHttpResponse(_events(stream), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx and others: pass each event on at once
    return response


async def _events(stream: RunStream) -> AsyncIterator[str]:
    keepalive = settings.LAB_SSE_KEEPALIVE_S
    async with Listener(stream.run_id) as listener:
        yield "retry: 1000\n\n"
        next_keepalive = time.monotonic() + keepalive
        while True:
            messages, final = await sync_to_async(stream.advance)()
            for message in messages:
                yield message
            if final:
                return
            now = time.monotonic()
            if now >= next_keepalive:
                yield ": keep-alive\n\n"
                next_keepalive = now + keepalive
            wait = next_keepalive - now
            if stream.queued:
                wait = min(wait, QUEUED_REFRESH_S)
            await listener.wait(max(wait, 0.0))
