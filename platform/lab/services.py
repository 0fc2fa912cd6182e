"""Writes of the lab: creating, running, cancelling and reaping experiment runs."""

import datetime as dt
import logging
import unicodedata
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from gradlab.celery import app as celery_app
from lab import selectors, wakeups
from lab.models import CodeDraft, ExperimentRun, Prediction, RunEvent, RunPlot, ServiceHeartbeat
from quizzes import grading
from sandbox import presets
from sandbox.spec import SpecError, spec_validate

log = logging.getLogger(__name__)
Status = ExperimentRun.Status

MAX_CODE_BYTES = 64 * 1024
RUN_TASK = "lab.tasks.run_experiment"  # the Celery task of lab.tasks, named


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


def _code_check(code: str) -> None:
    """The limits of code to store or run: the sandbox's own size limit (sandbox.harness)."""
    if len(code.encode()) > MAX_CODE_BYTES:
        raise LabError("invalid", _("The code is longer than %(limit)d KiB.") % {"limit": MAX_CODE_BYTES // 1024})


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
    _code_check(code)
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


def draft_save(*, owner, template: str, code: str) -> CodeDraft:
    """Keep what the learner has in the editor for `template`, replacing what was kept."""
    if template not in selectors.CODE_TEMPLATES:
        raise LabError("invalid", _("There is no code template called “%(name)s”.") % {"name": template[:40]})
    _code_check(code)
    draft, _created = CodeDraft.objects.update_or_create(owner=owner, template=template, defaults={"code": code})
    return draft


def draft_reset(*, owner, template: str) -> None:
    """Back to the template: the editor shows it again."""
    CodeDraft.objects.filter(owner=owner, template=template).delete()


def run_name(*, run: ExperimentRun, name: str) -> ExperimentRun:
    """Give the run a name of one line (an empty one takes the name away); LabError says why not."""
    name = " ".join(name.split())  # line breaks and tabs become spaces
    if any(unicodedata.category(character) == "Cc" for character in name):
        raise LabError("invalid_name", _("The name contains a control character. Please remove it."))
    limit = ExperimentRun.MAX_NAME_LENGTH
    if len(name) > limit:
        message = _("The name has %(count)d characters; a run’s name has at most %(limit)d.")
        raise LabError("invalid_name", message % {"count": len(name), "limit": limit})
    ExperimentRun.objects.filter(pk=run.pk).update(name=name)
    run.name = name
    return run


def run_delete(*, run: ExperimentRun, now: dt.datetime | None = None) -> None:
    """Delete a final run: its code, output, numbers, plots, events and prediction go.

    The row stays behind, emptied and hidden from every page, so that the compute time it
    used still counts today: deleting a run gives no compute time back.
    """
    with transaction.atomic():
        run = ExperimentRun.objects.select_for_update().get(pk=run.pk)
        if run.is_active:
            raise LabError("active", _("The run is still queued or running: cancel it first, then delete it."))
        run.events.all().delete()
        run.plots.all().delete()
        Prediction.objects.filter(run=run).delete()
        blank = {"name": "", "code": "", "log": "", "error": "", "error_line": None, "result": None}
        ExperimentRun.objects.filter(pk=run.pk).update(deleted_at=now or timezone.now(), **blank)


def heartbeat_stamp(
    *, name: str, where: str, missing: list[dict[str, str]] | None = None, now: dt.datetime | None = None
) -> None:
    """Record that `name` (worker, sandbox, scheduler) is alive in the process `where`."""
    defaults: dict[str, Any] = {"seen_at": now or timezone.now()}
    if missing is not None:
        defaults["missing"] = missing
    ServiceHeartbeat.objects.update_or_create(name=name, where=where, defaults=defaults)


def run_enqueue(*, run_id: int) -> None:
    """Hand the run to Celery; if the broker is unreachable the run ends at once, saying so.

    By the task's name: the web never imports the worker's modules (lab.tasks, lab.execution).
    """
    run = ExperimentRun.objects.get(pk=run_id)
    try:
        celery_app.send_task(RUN_TASK, args=[run_id], queue=run.queue, retry=False)
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
