"""Writes of the lab: creating, running, cancelling and reaping experiment runs."""

import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from lab import selectors, wakeups
from lab.models import ExperimentRun, Prediction, RunEvent, RunPlot, ServiceHeartbeat
from quizzes import grading
from sandbox import presets
from sandbox.spec import SpecError, spec_validate

log = logging.getLogger(__name__)
Status = ExperimentRun.Status

MAX_CODE_BYTES = 64 * 1024
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


def minutes_text(seconds: float) -> str:
    minutes = int(seconds // 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


class LabError(Exception):
    """A run that cannot be created or changed; `message` is for the learner."""

    def __init__(self, code: str, message: str, problems: list[str] | None = None):
        self.code = code
        self.message = message
        self.problems = problems or []
        super().__init__(message)


def _event_add(*, run: ExperimentRun, kind: str, data: dict[str, Any] | None = None) -> RunEvent:
    seq = (run.events.aggregate(last=Max("seq"))["last"] or 0) + 1
    return RunEvent.objects.create(run=run, seq=seq, kind=kind, data=data or {})


def _publish_on_commit(run_id: int, seq: int) -> None:
    transaction.on_commit(lambda: wakeups.publish(run_id=run_id, seq=seq))


def queue_for(spec: dict[str, Any]) -> str:
    if spec["device"] == "cuda" or settings.LAB_GPU_WORKERS:
        return "gpu"
    return "cpu"


def run_create(
    *,
    owner,
    spec: Any,
    code: str = "",
    preset: str = "",
    course=None,
    language: str = "en",
    retry_of: ExperimentRun | None = None,
    now: dt.datetime | None = None,
) -> ExperimentRun:
    """A queued run, enqueued once the transaction commits; LabError says why not."""
    now = now or timezone.now()
    try:
        spec = spec_validate(spec)
    except SpecError as error:
        raise LabError("invalid", _("The experiment cannot run as it is."), error.problems) from None
    if len(code.encode()) > MAX_CODE_BYTES:
        raise LabError("invalid", _("The code is longer than %(limit)d KiB.") % {"limit": MAX_CODE_BYTES // 1024})
    if spec["device"] == "cuda" and not settings.LAB_GPU_WORKERS:
        raise LabError("no_gpu", _("This server has no GPU workers: choose the device “automatic” or “CPU”."))
    with transaction.atomic():
        # One learner's runs are created one at a time, so two quick clicks cannot both pass the limits.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        active = selectors.active_run_count(user=owner)
        if active >= settings.LAB_MAX_ACTIVE_RUNS:
            message = ngettext(
                "You already have %(count)d experiment queued or running; wait for it to finish or cancel it.",
                "You already have %(count)d experiments queued or running; wait for one to finish or cancel it.",
                active,
            )
            raise LabError("too_many", message % {"count": active})
        left = settings.LAB_DAILY_COMPUTE_S - selectors.compute_used_today(user=owner, now=now)
        if left < 1:
            raise LabError(
                "budget",
                _("You have used today’s compute time (%(duration)s); it is renewed at midnight UTC.")
                % {"duration": minutes_text(settings.LAB_DAILY_COMPUTE_S)},
            )
        run = ExperimentRun.objects.create(
            owner=owner,
            course=course,
            kind=ExperimentRun.Kind.CODE if code else ExperimentRun.Kind.SPEC,
            preset=preset,
            spec=spec,
            code=code,
            language=language,
            queue=queue_for(spec),
            limit_s=float(min(settings.LAB_RUN_TIMEOUT_S, int(left))),
            retry_of=retry_of,
        )
        event = _event_add(run=run, kind=RunEvent.Kind.QUEUED)
        _publish_on_commit(run.id, event.seq)
        transaction.on_commit(lambda: run_enqueue(run_id=run.id))
    return run


def heartbeat_stamp(
    *, name: str, where: str, missing: list[dict[str, str]] | None = None, now: dt.datetime | None = None
) -> None:
    """Record that `name` (worker, sandbox, scheduler) is alive in the process `where`."""
    defaults: dict[str, Any] = {"seen_at": now or timezone.now()}
    if missing is not None:
        defaults["missing"] = missing
    ServiceHeartbeat.objects.update_or_create(name=name, where=where, defaults=defaults)


def run_enqueue(*, run_id: int) -> None:
    """Hand the run to Celery; if the broker is unreachable the run ends at once, saying so."""
    from lab.tasks import run_experiment

    run = ExperimentRun.objects.get(pk=run_id)
    try:
        run_experiment.apply_async(args=[run_id], queue=run.queue, retry=False)
    except Exception as error:  # noqa: BLE001 - kombu raises many kinds; each means "not queued"
        log.warning("run %s not queued: %s", run_id, error)
        _finish(
            run_id=run_id,
            status=Status.FAILED,
            error=_("The experiment could not be queued: the task queue cannot be reached right now. Try again later."),
            only_from=(Status.QUEUED,),
        )


def _finish(
    *,
    run_id: int,
    status: str,
    error: str = "",
    only_from: tuple[str, ...],
    worker: str | None = None,
    fields: dict[str, Any] | None = None,
    plots: dict[str, str] | None = None,
    now: dt.datetime | None = None,
) -> bool:
    """Move the run to a final state, if it is still in one of `only_from`; False if it was not."""
    now = now or timezone.now()
    with transaction.atomic():
        runs = ExperimentRun.objects.select_for_update().filter(pk=run_id, status__in=only_from)
        if worker is not None:
            runs = runs.filter(worker=worker)
        run = runs.first()
        if run is None:
            return False
        run.status = status
        run.error = error
        run.finished_at = now
        for name, value in (fields or {}).items():
            setattr(run, name, value)
        run.save()
        for name, svg in (plots or {}).items():
            RunPlot.objects.create(run=run, name=name, svg=svg)
        _prediction_grade(run=run, now=now)
        event = _event_add(run=run, kind=RunEvent.Kind.FINISHED, data={"status": status})
        _publish_on_commit(run.id, event.seq)
    return True


def prediction_make(*, owner, question, value: float, language: str = "en") -> ExperimentRun:
    """Store the learner's prediction and start the run of the question's preset that grades it."""
    preset = presets.BY_KEY[question.data["preset"]]
    with transaction.atomic():
        run = run_create(owner=owner, spec=preset.spec, preset=preset.key, course=question.course, language=language)
        Prediction.objects.create(run=run, question=question, value=value)
    return run


def _prediction_grade(*, run: ExperimentRun, now: dt.datetime) -> None:
    """Grade the run's prediction, if it has one, from the numbers it measured (a spec run: no learner code)."""
    prediction = Prediction.objects.select_related("question").filter(run=run, graded_at=None).first()
    if prediction is None or not run.result or run.kind != ExperimentRun.Kind.SPEC:
        return
    data = prediction.question.data
    measured = selectors.measured_value(measure=data["measure"], result=run.result)
    if measured is None:
        return
    prediction.measured = measured
    prediction.correct = grading.prediction_grade(data, prediction.value, measured).correct
    prediction.graded_at = now
    prediction.save(update_fields=["measured", "correct", "graded_at"])


def run_cancel(*, run: ExperimentRun, now: dt.datetime | None = None) -> ExperimentRun:
    """A queued run ends at once; a running one is killed by its worker within a second."""
    now = now or timezone.now()
    if _finish(run_id=run.id, status=Status.CANCELLED, error="", only_from=(Status.QUEUED,), now=now):
        run.refresh_from_db()
        return run
    ExperimentRun.objects.filter(pk=run.id, status=Status.RUNNING, cancel_requested_at=None).update(
        cancel_requested_at=now
    )
    run.refresh_from_db()
    return run


def run_retry(*, run: ExperimentRun, language: str) -> ExperimentRun:
    """The same experiment again; a prediction it was to grade moves to the new run."""
    with transaction.atomic():
        again = run_create(
            owner=run.owner,
            spec=run.spec,
            code=run.code,
            preset=run.preset,
            course=run.course,
            language=language,
            retry_of=run,
        )
        Prediction.objects.filter(run=run, graded_at=None).update(run=again)
    return again


def run_reap(*, now: dt.datetime | None = None) -> int:
    """End the runs that can no longer end by themselves; returns how many."""
    now = now or timezone.now()
    ended = 0
    lost_since = now - dt.timedelta(seconds=settings.LAB_WORKER_LOST_S)
    for run in ExperimentRun.objects.filter(status=Status.RUNNING, heartbeat_at__lt=lost_since):
        last = run.heartbeat_at.astimezone(dt.UTC).strftime("%H:%M:%S")
        message = _(
            "The worker running this experiment was lost (last heard of at %(time)s UTC), so it did not finish. "
            "Start it again."
        ) % {"time": last}
        ended += _finish(run_id=run.id, status=Status.FAILED, error=message, only_from=(Status.RUNNING,), now=now)
    waited_since = now - dt.timedelta(seconds=settings.LAB_QUEUE_MAX_WAIT_S)
    for run in ExperimentRun.objects.filter(status=Status.QUEUED, created_at__lt=waited_since):
        message = _("No worker took this experiment for %(duration)s, so it was taken out of the queue.") % {
            "duration": minutes_text(settings.LAB_QUEUE_MAX_WAIT_S)
        }
        ended += _finish(run_id=run.id, status=Status.FAILED, error=message, only_from=(Status.QUEUED,), now=now)
    # Each restarted worker writes rows under its new pid: those of processes gone for a day go.
    ServiceHeartbeat.objects.filter(seen_at__lt=now - dt.timedelta(days=1)).delete()
    return ended


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
        from sandbox import client

        def sandbox_run(**kwargs):
            return client.run(settings.LAB_SANDBOX_SOCKET, **kwargs)

    if draw is None:
        from lab.plots import plots_render as draw

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
    keys = ("device", "layers", "steps", "grad_norm", "loss", "seq_grad_norm", "compute_s", "wall_s")
    return {key: result.get(key) for key in keys}
