"""The worker's side of a run: claim it, run it in the sandbox service, store its events,
numbers and plots. A worker module: it imports sandbox.client and lab.plots (matplotlib),
which no web module does (import-linter checks it); lab.tasks calls it."""

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from lab import wakeups
from lab.models import ExperimentRun, RunEvent
from lab.numbers import CLIP_SERIES
from lab.plots import plots_render
from lab.services import _finish
from sandbox import client

log = logging.getLogger(__name__)
Status = ExperimentRun.Status

MAX_LOG_CHARS = 20_000
# How the sandbox's verdict becomes the run's final state.
FINAL_STATUS = {
    "ok": Status.SUCCEEDED,
    "invalid": Status.FAILED,
    "error": Status.FAILED,
    "killed": Status.FAILED,
    "timeout": Status.TIMED_OUT,
    "cancelled": Status.CANCELLED,
}


class _Execution:
    """The worker's side of one run: events in, heartbeats out, cancel checks."""

    def __init__(self, run: ExperimentRun, worker: str):
        self.run = run
        self.worker = worker
        self.seq = run.events.aggregate(last=Max("seq"))["last"] or 0
        self.last_beat = time.monotonic()
        self.cancelled = False

    def event(self, kind: str, data: dict[str, Any]) -> None:
        self.seq += 1
        RunEvent.objects.create(run_id=self.run.id, seq=self.seq, kind=kind, data=data)
        wakeups.publish(run_id=self.run.id, seq=self.seq)

    def on_progress(self, event: dict[str, Any]) -> None:
        """One batch of recorded steps (the sandbox sends at most 20 a second): one row, one wake-up."""
        data = {key: event[key] for key in ("steps", "recorded", "layers") if key in event}
        self.event(RunEvent.Kind.PROGRESS, data)

    def should_cancel(self) -> bool:
        if self.cancelled:
            return True
        if time.monotonic() - self.last_beat < settings.LAB_HEARTBEAT_S / 4:
            return False
        self.last_beat = time.monotonic()
        runs = ExperimentRun.objects.filter(pk=self.run.id)
        runs.filter(status=Status.RUNNING, worker=self.worker).update(heartbeat_at=timezone.now())
        state = runs.values("status", "cancel_requested_at").first()
        # Cancelled by the learner, or ended by the reaper while this worker was stalled.
        self.cancelled = state is None or state["cancel_requested_at"] is not None or state["status"] != Status.RUNNING
        return self.cancelled


def _claim(*, run_id: int, worker: str, now: dt.datetime) -> ExperimentRun | None:
    claimed = ExperimentRun.objects.filter(pk=run_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker
    )
    return ExperimentRun.objects.get(pk=run_id) if claimed else None


def run_execute(
    *,
    run_id: int,
    worker: str,
    sandbox_run: Callable[..., dict[str, Any]] | None = None,
    draw: Callable[..., dict[str, str]] | None = None,
) -> str | None:
    """Run a queued run in the sandbox service and store everything; returns the final status.

    Returns None when the run was not queued any more (cancelled, or a redelivered task).
    """
    if sandbox_run is None:

        def sandbox_run(**kwargs):
            return client.run(settings.LAB_SANDBOX_SOCKET, **kwargs)

    draw = draw or plots_render

    run = _claim(run_id=run_id, worker=worker, now=timezone.now())
    if run is None:
        return None
    execution = _Execution(run, worker)
    try:
        execution.event(RunEvent.Kind.STARTED, {"worker": worker})
        result = sandbox_run(
            spec=run.spec,
            code=run.code or None,
            limits={"timeout_s": run.limit_s},
            on_event=execution.on_progress,
            should_cancel=execution.should_cancel,
            timeout_s=run.limit_s,
        )
    except IntegrityError:  # the reaper ended this run while the worker was stalled
        log.warning("run %s was ended while running on %s", run_id, worker)
        return None
    except Exception:
        log.exception("run %s on %s", run_id, worker)
        message = _("An internal error of the lab ended this experiment. Start it again.")
        _finish(run_id=run_id, status=Status.FAILED, error=message, only_from=(Status.RUNNING,), worker=worker)
        raise
    status = FINAL_STATUS[result["status"]]
    fields = {
        "result": _numbers(result) if result["status"] == "ok" else None,
        "used_s": float(result.get("wall_s") or 0.0),
        "error_line": result.get("line"),
        "log": (result.get("log") or "")[-MAX_LOG_CHARS:],
    }
    error = result.get("error") or ""
    if result.get("sandbox_error"):
        # Typed by the sandbox and its client, never by the run: the details are for the
        # operator (quoted, so no text can pass for a log line of its own), not the learner.
        log.error("run %s: the sandbox failed: %r", run_id, result["sandbox_error"])
        error = _("The lab’s sandbox is not available right now. Start the experiment again in a minute.")
        # The service failed, not the run (it may have stopped under it): failed, whatever
        # its verdict read, and not charged against the learner's daily compute time.
        status = Status.FAILED
        fields["used_s"] = 0.0
        fields["result"] = None
    plots = {}
    if status == Status.SUCCEEDED:
        try:
            plots = draw(result=fields["result"], language=run.language)
        except Exception:  # a plot that cannot be drawn must not lose the run's numbers
            log.exception("plots of run %s", run_id)
            error = _("The numbers are complete, but the plots could not be drawn.")
    stored = _finish(
        run_id=run_id,
        status=status,
        error=error,
        only_from=(Status.RUNNING,),
        worker=worker,
        fields=fields,
        plots=plots,
    )
    return status if stored else None  # else the reaper ended it first, and its verdict stands


def _numbers(result: dict[str, Any]) -> dict[str, Any]:
    keys = ("device", "layers", "steps", "grad_norm", "loss", "seq_grad_norm", *CLIP_SERIES, "compute_s", "wall_s")
    return {key: result.get(key) for key in keys}
