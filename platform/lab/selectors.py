"""Reads of the lab: who may see which run, queue positions, budgets, events."""

import datetime as dt
import math
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, OuterRef, Q, QuerySet, Subquery, Sum
from django.http import Http404

from courses.selectors import authored_courses
from lab.models import CodeDraft, ExperimentRun, Prediction, RunEvent, ServiceHeartbeat
from quizzes.models import Question
from quizzes.selectors import ItemStatistics, answer_distribution
from sandbox import presets
from sandbox.spec import DEFAULTS, spec_validate

Status = ExperimentRun.Status
# The code tab's templates (sandbox/templates/<name>.py) and the spec each one runs with.
CODE_TEMPLATES = {"mlp": DEFAULTS, "rnn": presets.SEQUENCE}
TEMPLATES_DIR = Path(presets.__file__).resolve().parent / "templates"


def template_code(name: str) -> str:
    return (TEMPLATES_DIR / f"{name}.py").read_text()


def template_of(run: ExperimentRun) -> str:
    """The template whose spec a code run ran with (its code may be anything by now)."""
    for name, spec in CODE_TEMPLATES.items():
        if spec_validate(spec) == run.spec:
            return name
    return "mlp"


def draft_for(*, user, template: str) -> CodeDraft | None:
    return CodeDraft.objects.filter(owner=user, template=template).first()


def own_runs(*, user) -> QuerySet[ExperimentRun]:
    """A learner's runs, without those they deleted."""
    return ExperimentRun.objects.filter(owner=user, deleted_at=None)


def runs_visible_to(*, user) -> QuerySet[ExperimentRun]:
    """A learner sees their own runs; a course's staff also the runs started from it."""
    if not user.is_authenticated:
        return ExperimentRun.objects.none()
    if user.is_instructor:
        courses = authored_courses(user=user).values("pk")
        return ExperimentRun.objects.filter(Q(owner=user) | Q(course__in=courses), deleted_at=None)
    return own_runs(user=user)


def course_runs(*, course) -> QuerySet[ExperimentRun]:
    """The runs started from a course's lessons: what its instructors may look at."""
    runs = ExperimentRun.objects.filter(course=course, deleted_at=None)
    return runs.select_related("owner").order_by("-created_at", "-id")


def run_for_viewer(*, user, run_id: int) -> ExperimentRun:
    try:
        return runs_visible_to(user=user).select_related("owner", "course").get(pk=run_id)
    except ExperimentRun.DoesNotExist:
        raise Http404("no such run") from None


def active_run_count(*, user) -> int:
    return ExperimentRun.objects.filter(owner=user, status__in=ExperimentRun.ACTIVE).count()


def day_start(now: dt.datetime) -> dt.datetime:
    return now.astimezone(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def compute_used_today(*, user, now: dt.datetime) -> float:
    """Seconds used by today's finished runs, plus the limit of each active run (it may use all of it).

    Deleted runs count too: deleting a run gives no compute time back.
    """
    runs = ExperimentRun.objects.filter(owner=user, created_at__gte=day_start(now))
    used = runs.exclude(status__in=ExperimentRun.ACTIVE).aggregate(total=Sum("used_s"))["total"] or 0.0
    reserved = runs.filter(status__in=ExperimentRun.ACTIVE).aggregate(total=Sum("limit_s"))["total"] or 0.0
    return used + reserved


def queue_position(*, run: ExperimentRun) -> int | None:
    """1 for the next run a worker takes from the run's queue; None when not queued."""
    if run.status != Status.QUEUED:
        return None
    ahead = ExperimentRun.objects.filter(status=Status.QUEUED, queue=run.queue).filter(
        Q(created_at__lt=run.created_at) | Q(created_at=run.created_at, id__lt=run.id)
    )
    return ahead.count() + 1


def stream_versions(*, run_ids: list[int]) -> dict[int, tuple]:
    """For each run, everything a live page shows that can change, in one query.

    The newest event's seq, the status, a requested cancel and the queue position: when
    none of these moved, nothing on the run's page would change, so its streams sleep on.
    """
    last_seq = RunEvent.objects.filter(run=OuterRef("pk")).order_by("-seq").values("seq")[:1]
    # queue_position's "ahead", counted for every queued run at once.
    ahead = (
        ExperimentRun.objects.filter(status=Status.QUEUED, queue=OuterRef("queue"))
        .filter(Q(created_at__lt=OuterRef("created_at")) | Q(created_at=OuterRef("created_at"), id__lt=OuterRef("id")))
        .order_by()
        .values("queue")
        .annotate(runs=Count("id"))
        .values("runs")
    )
    rows = (
        ExperimentRun.objects.filter(pk__in=run_ids)
        .annotate(last_seq=Subquery(last_seq), ahead=Subquery(ahead))
        .values_list("pk", "status", "cancel_requested_at", "last_seq", "ahead")
    )
    return {
        pk: (status, cancel, seq, (ahead or 0) + 1 if status == Status.QUEUED else None)
        for pk, status, cancel, seq, ahead in rows
    }


def queue_lengths() -> dict[str, dict[str, int]]:
    """Per queue, how many runs wait and how many run: {"cpu": {"queued": 3, "running": 2}}."""
    counts: dict[str, dict[str, int]] = {}
    active = ExperimentRun.objects.filter(status__in=ExperimentRun.ACTIVE)
    for row in active.values("queue", "status").annotate(runs=Count("id")).order_by():
        counts.setdefault(row["queue"], {str(status): 0 for status in ExperimentRun.ACTIVE})[row["status"]] = row[
            "runs"
        ]
    return counts


def progress_of(events: list[RunEvent]) -> dict[str, Any]:
    """The live picture so far: layers, recorded steps and their numbers, and the share done.

    A progress event holds a batch of recorded steps (`recorded`); events stored before
    batching hold one step each.
    """
    layers: list[str] = []
    steps: list[int] = []
    grad_norm: list[list[float | None]] = []
    loss: list[float | None] = []
    total = 0
    for event in events:
        if event.kind != RunEvent.Kind.PROGRESS:
            continue
        data = event.data
        layers = data.get("layers") or layers
        for record in data.get("recorded") or [data]:
            steps.append(record["step"])
            grad_norm.append(record["grad_norm"])
            loss.append(record["loss"])
        total = data["steps"]
    done = (steps[-1] + 1) / total if total else 0.0
    return {"layers": layers, "steps": steps, "grad_norm": grad_norm, "loss": loss, "total": total, "done": done}


def depth_ratio(result: dict[str, Any]) -> float | None:
    """The first hidden layer's gradient over the last one's: the presets' own measure (median over steps)."""
    return presets.depth_ratio(result) or None


def sequence_ratio(result: dict[str, Any]) -> float | None:
    """The gradient at the first time step over the last one's (recurrent nets), median over steps."""
    return presets.sequence_ratio(result) or None


def orders_of_magnitude(ratio: float | None) -> float | None:
    """How many powers of ten smaller than 1 the ratio is: 1e-6 → 6.0."""
    if ratio is None or ratio <= 0:
        return None
    return -math.log10(ratio)


def growth_orders(result: dict[str, Any]) -> float | None:
    """How many powers of ten the first hidden layer's gradient is larger than the last one's (exploding)."""
    ratio = depth_ratio(result)
    return None if ratio is None else math.log10(ratio)


MEASURES = {
    "depth_orders": lambda result: orders_of_magnitude(depth_ratio(result)),
    "growth_orders": growth_orders,
    "sequence_orders": lambda result: orders_of_magnitude(sequence_ratio(result)),
}


def measured_value(*, measure: str, result: dict[str, Any]) -> float | None:
    return MEASURES[measure](result)


def gradient_profiles(*, runs: list[ExperimentRun]) -> list[dict[str, Any]]:
    """For comparing: each run's per-layer gradient norms at its last recorded step."""
    profiles = []
    for run in runs:
        result = run.result or {}
        rows = result.get("grad_norm") or []
        if not rows:
            continue
        ratio = depth_ratio({"grad_norm": [rows[-1]]})  # at that step only
        profiles.append(
            {
                "run": run,
                "layers": result["layers"],
                "values": rows[-1],
                "step": result["steps"][-1],
                "ratio": ratio,
            }
        )
    return profiles


def prediction_questions(*, preset: str) -> list:
    """The live prediction questions that a run of `preset` answers."""
    return list(
        Question.objects.live()
        .filter(type=Question.Type.PREDICTION, data__preset=preset)
        .order_by("course", "position")
    )


def prediction_statistics(*, course) -> dict[int, ItemStatistics]:
    """Question id -> the item analysis of a prediction question, from the graded predictions.

    Every graded prediction counts (a learner may predict again); facility is the share
    right; the distribution counts the predicted figures. A prediction whose run failed
    is never graded and not counted. No discrimination: predictions are not part of a test.
    """
    graded = Prediction.objects.filter(question__course=course, correct__isnull=False)
    sums = graded.values("question_id").annotate(
        answers=Count("id"), right=Count("id", filter=Q(correct=True)), measured=Avg("measured")
    )
    given: dict[int, list] = {}
    for question_id, value, count, right in graded.values_list("question_id", "value").annotate(
        count=Count("id"), right=Count("id", filter=Q(correct=True))
    ):
        given.setdefault(question_id, []).append((value, count, right))
    questions = Question.objects.filter(course=course, type="prediction").in_bulk()
    return {
        row["question_id"]: ItemStatistics(
            question=questions[row["question_id"]],
            answers=row["answers"],
            facility=row["right"] / row["answers"],
            distribution=answer_distribution(questions[row["question_id"]], given[row["question_id"]]),
            measured=row["measured"],
        )
        for row in sums
    }


def services_alive(*, now: dt.datetime) -> dict[str, Any]:
    """Which of the lab's services showed a sign of life lately, from their heartbeats in one
    query (never a broker ping: no request waits on one): {"worker": bool, "sandbox": bool,
    "scheduler": bool, "missing": the sandbox's missing layers, as its latest pong said}."""
    scheduler_s = max(settings.LAB_SERVICE_LOST_S, 3 * settings.LAB_REAP_EVERY_S)
    windows = {
        ServiceHeartbeat.Name.WORKER: settings.LAB_SERVICE_LOST_S,
        ServiceHeartbeat.Name.SANDBOX: settings.LAB_SERVICE_LOST_S,
        ServiceHeartbeat.Name.SCHEDULER: scheduler_s,
    }
    recent = ServiceHeartbeat.objects.filter(seen_at__gte=now - dt.timedelta(seconds=max(windows.values())))
    alive: dict[str, Any] = dict.fromkeys(windows, False)
    alive["missing"] = []
    latest_sandbox = None
    for name, seen_at, missing in recent.order_by("seen_at").values_list("name", "seen_at", "missing"):
        if seen_at >= now - dt.timedelta(seconds=windows[name]):
            alive[name] = True
            if name == ServiceHeartbeat.Name.SANDBOX:
                latest_sandbox = missing
    alive["missing"] = latest_sandbox or []
    return alive
