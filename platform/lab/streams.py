"""`/lab/runs/<id>/events`: a run's story as server-sent events, for htmx's SSE extension.

The stream replays what is stored after `Last-Event-ID`, then waits until the process's
hub (lab.hub) says its run changed, and sends each change as HTML fragments: `status`,
`progress` (the bar and the live chart) and, last, `final`. An event's id is the sequence
number of the newest stored event it shows, so a reconnecting browser continues exactly
where it stopped. That is also how a stream's life is bounded: after `LAB_STREAM_MAX_S` it
ends, and the browser's EventSource reconnects with `Last-Event-ID`. A learner may have
`LAB_MAX_STREAMS_PER_USER` streams open; one more is refused (429) and that page polls.
"""

import random
import time
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from courses.translation import current_language
from gradlab import inputs
from lab import hub, presentation, selectors
from lab.models import ExperimentRun, RunEvent

# Streams opened together end spread over the last fifth of their life, not all at once.
LIFE_SPREAD = 0.2


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


def _viewable_or_404(*, viewer, run_id: int) -> None:
    try:
        selectors.run_for_viewer(user=viewer, run_id=run_id)
    finally:
        # This request's thread also read the session and the user: the stream is about to
        # wait for minutes, and its connection must not wait with it.
        connections.close_all()


async def run_events(request: HttpRequest, run_id: int) -> HttpResponse:
    live = hub.current()
    # Each request reads the session and the user in a thread of its own, each on its own
    # connection: hundreds of streams opened at once would take as many. A few at a time.
    async with live.opening:
        viewer = await request.auser()
        await sync_to_async(_viewable_or_404)(viewer=viewer, run_id=run_id)
    watcher = live.open(run_id=run_id, user_id=viewer.pk, limit=settings.LAB_MAX_STREAMS_PER_USER)
    if watcher is None:
        return _too_many()
    stream = RunStream(
        request=request,
        run_id=run_id,
        viewer=viewer,
        after=last_event_id(request),
        language=current_language(),
    )
    response = StreamingHttpResponse(EventStream(stream, watcher), content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # nginx and others: pass each event on at once
    return response


def _too_many() -> HttpResponse:
    message = _("Too many live views of experiments are open. This page updates every second instead.")
    response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(int(settings.LAB_STREAM_MAX_S))
    return response


class EventStream:
    """A response's events. Django calls `close()` when the response ends, also when the
    browser went away before the first event: the watcher leaves the hub either way."""

    def __init__(self, stream: RunStream, watcher: hub.Watcher):
        self.stream = stream
        self.watcher = watcher

    def __aiter__(self) -> AsyncIterator[str]:
        return self._events()

    def close(self) -> None:
        self.watcher.close()

    async def _events(self) -> AsyncIterator[str]:
        stream, watcher = self.stream, self.watcher
        keepalive = settings.LAB_SSE_KEEPALIVE_S
        started = time.monotonic()
        ends_at = started + settings.LAB_STREAM_MAX_S * (1 - LIFE_SPREAD * random.random())  # noqa: S311
        next_keepalive = started + keepalive
        try:
            yield "retry: 1000\n\n"
            woken = True  # the first round reads what came after Last-Event-ID
            while True:
                if woken:
                    messages, final = await hub.read_briefly(stream.advance)
                    for message in messages:
                        yield message
                    if final:
                        return
                now = time.monotonic()
                if now >= ends_at:
                    return  # a normal end: the browser reconnects with Last-Event-ID
                if now >= next_keepalive:
                    yield ": keep-alive\n\n"
                    next_keepalive = now + keepalive
                woken = await watcher.wait(max(min(next_keepalive, ends_at) - now, 0.0))
        finally:
            watcher.close()
