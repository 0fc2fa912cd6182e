"""The lab's writes, called directly: creating, running, cancelling, reaping and retrying runs."""

import datetime as dt
from unittest import mock

import pytest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject
from kombu.exceptions import OperationalError

from gradlab.celery import app as celery_app
from lab import execution, services
from lab.models import ExperimentRun
from sandbox.spec import spec_validate
from tests.lab.conftest import SMALL, draw_nothing, events_of, fake_result, fake_sandbox

pytestmark = pytest.mark.django_db


def execute(run: ExperimentRun, result: dict | None = None, **options) -> str | None:
    """The worker's side, with the sandbox stood in for; the run is read again afterwards."""
    options.setdefault("sandbox_run", fake_sandbox(result or fake_result()))
    options.setdefault("draw", draw_nothing)
    status = execution.run_execute(run_id=run.id, worker="w1", **options)
    run.refresh_from_db()
    return status


def make_running(run: ExperimentRun, *, heartbeat_at: dt.datetime) -> ExperimentRun:
    """A run a worker took, as `_claim` leaves it, last heard of at `heartbeat_at`."""
    ExperimentRun.objects.filter(pk=run.pk).update(
        status="running", started_at=heartbeat_at, heartbeat_at=heartbeat_at, worker="w1"
    )
    run.refresh_from_db()
    return run


def spent(owner, *, seconds: float, created_at: dt.datetime | None = None) -> ExperimentRun:
    """A finished run of `owner` that used `seconds` of compute time."""
    run = ExperimentRun.objects.create(
        owner=owner, spec=spec_validate(SMALL), status="succeeded", limit_s=120, used_s=seconds
    )
    if created_at is not None:
        ExperimentRun.objects.filter(pk=run.pk).update(created_at=created_at)
    return run


# run_create


def test_it_refuses_a_spec_with_a_bad_field_naming_the_field(learner, create_run):
    with pytest.raises(services.LabError) as refused:
        create_run(learner, {"model": {"depth": 0}})

    assert refused.value.code == "invalid"
    assert [problem.split(":")[0] for problem in refused.value.problems] == ["model.depth"]
    assert not ExperimentRun.objects.exists()


def test_it_stores_the_complete_validated_spec(learner, create_run):
    run = create_run(learner, SMALL)

    run.refresh_from_db()
    assert run.spec == spec_validate(SMALL)
    assert run.spec["model"]["activation"] == "sigmoid" and run.spec["train"]["lr"] == 0.1


def test_it_queues_a_new_run_on_the_cpu_queue_with_one_queued_event(learner, create_run):
    run = create_run(learner)

    run.refresh_from_db()
    assert run.status == "queued" and run.queue == "cpu"
    assert events_of(run) == [(1, "queued")]


def test_it_queues_on_the_gpu_queue_when_there_are_gpu_workers(learner, create_run, settings):
    settings.LAB_GPU_WORKERS = True

    run = create_run(learner)

    assert run.queue == "gpu"


def test_it_refuses_the_cuda_device_without_gpu_workers(learner, create_run, settings):
    settings.LAB_GPU_WORKERS = False

    with pytest.raises(services.LabError) as refused:
        create_run(learner, SMALL | {"device": "cuda"})

    assert refused.value.code == "no_gpu"
    assert not ExperimentRun.objects.exists()


def test_it_refuses_code_over_64_kib(learner, create_run):
    code = "#" * (64 * 1024 + 1)

    with pytest.raises(services.LabError) as refused:
        create_run(learner, code=code)

    assert refused.value.code == "invalid"
    assert "64 KiB" in refused.value.message
    assert not ExperimentRun.objects.exists()


def test_it_takes_code_of_exactly_64_kib(learner, create_run):
    run = create_run(learner, code="#" * (64 * 1024))

    assert run.kind == "code" and len(run.code) == 64 * 1024


def test_it_creates_a_run_for_the_user_of_a_request(learner, create_run):
    # What AuthenticationMiddleware puts in request.user, and the views pass on as the owner.
    owner = SimpleLazyObject(lambda: learner)

    run = create_run(owner)

    assert run.owner == learner


def test_it_enqueues_the_run_only_once_the_transaction_commits(learner, django_capture_on_commit_callbacks):
    with mock.patch.object(celery_app, "send_task") as apply_async:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            run = services.run_create(owner=learner, spec=SMALL, language="en")
        assert apply_async.call_count == 0
        for callback in callbacks:
            callback()

    apply_async.assert_called_once()
    assert apply_async.call_args.args == ("lab.tasks.run_experiment",)  # by name: the web imports no worker module
    assert apply_async.call_args.kwargs["args"] == [run.id]
    assert apply_async.call_args.kwargs["queue"] == "cpu"


def test_it_fails_the_run_at_once_when_the_queue_cannot_be_reached(learner, django_capture_on_commit_callbacks):
    refused = OperationalError("[Errno 111] Connection refused")
    with (
        mock.patch.object(celery_app, "send_task", side_effect=refused),
        django_capture_on_commit_callbacks(execute=True),
    ):
        run = services.run_create(owner=learner, spec=SMALL, language="en")

    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at is not None
    assert "the task queue cannot be reached" in run.error
    assert events_of(run) == [(1, "queued"), (2, "finished")]


# Limits: active runs and the daily compute budget


def test_it_refuses_a_third_active_run(learner, create_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 2
    create_run(learner)
    create_run(learner)

    with pytest.raises(services.LabError) as refused:
        create_run(learner)

    assert refused.value.code == "too_many"
    assert ExperimentRun.objects.filter(owner=learner).count() == 2


def test_it_does_not_count_finished_runs_as_active(learner, create_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 2
    execute(create_run(learner))
    create_run(learner)

    third = create_run(learner)

    assert third.status == "queued"


def test_it_counts_only_the_owners_active_runs(learner, other_learner, create_run, settings):
    settings.LAB_MAX_ACTIVE_RUNS = 2
    create_run(other_learner)
    create_run(other_learner)

    run = create_run(learner)

    assert run.owner == learner


def test_it_refuses_a_run_once_todays_compute_time_is_used(learner, create_run, settings):
    settings.LAB_DAILY_COMPUTE_S = 1800
    spent(learner, seconds=1000)
    spent(learner, seconds=800)

    with pytest.raises(services.LabError) as refused:
        create_run(learner)

    assert refused.value.code == "budget"
    assert "30 minutes" in refused.value.message
    assert ExperimentRun.objects.filter(owner=learner).count() == 2


def test_it_does_not_count_yesterdays_compute_time(learner, create_run, settings):
    settings.LAB_DAILY_COMPUTE_S = 1800
    spent(learner, seconds=1800)

    run = create_run(learner, now=timezone.now() + dt.timedelta(days=1))

    assert run.status == "queued"


def test_it_reserves_the_time_limit_of_an_active_run(learner, create_run, settings):
    settings.LAB_DAILY_COMPUTE_S = 100
    settings.LAB_RUN_TIMEOUT_S = 100
    create_run(learner)

    with pytest.raises(services.LabError) as refused:
        create_run(learner)

    assert refused.value.code == "budget"


def test_it_gives_a_run_the_full_time_limit_while_the_budget_allows(learner, create_run, settings):
    settings.LAB_DAILY_COMPUTE_S = 1800
    settings.LAB_RUN_TIMEOUT_S = 120
    spent(learner, seconds=1000)

    run = create_run(learner)

    assert run.limit_s == 120


def test_it_limits_a_run_to_the_compute_time_left_today(learner, create_run, settings):
    settings.LAB_DAILY_COMPUTE_S = 1800
    settings.LAB_RUN_TIMEOUT_S = 120
    spent(learner, seconds=1750.5)

    run = create_run(learner)

    assert run.limit_s == 49


# run_execute


def test_it_runs_a_queued_run_to_success(learner, create_run):
    run = create_run(learner)

    status = execute(run)

    assert status == "succeeded" and run.status == "succeeded"
    assert run.started_at is not None and run.finished_at is not None and run.error == ""


def test_it_stores_the_numbers_of_the_result(learner, create_run):
    run = create_run(learner)
    result = fake_result()

    execute(run, result)

    keys = ("device", "layers", "steps", "grad_norm", "loss", "seq_grad_norm", "compute_s", "wall_s")
    # A run without clipping stores no norms before and after a clip.
    assert run.result == {key: result[key] for key in keys} | {"grad_norm_total": None, "grad_norm_clipped": None}
    assert run.used_s == result["wall_s"]


def test_it_stores_the_drawn_plots(learner, create_run):
    run = create_run(learner)

    execute(run)

    assert list(run.plots.values_list("name", "svg")) == [
        ("gradient_profile", "<svg xmlns='http://www.w3.org/2000/svg'/>")
    ]


def test_it_records_the_runs_story_in_order(learner, create_run):
    run = create_run(learner)

    execute(run)

    assert events_of(run) == [
        (1, "queued"),
        (2, "started"),
        (3, "progress"),
        (4, "progress"),
        (5, "progress"),
        (6, "finished"),
    ]
    assert run.events.get(kind="finished").data == {"status": "succeeded"}


def test_it_hands_the_sandbox_the_runs_spec_and_time_limit(learner, create_run):
    run = create_run(learner)
    sandbox = fake_sandbox(fake_result())

    execute(run, sandbox_run=sandbox)

    [call] = sandbox.calls
    assert call["spec"] == run.spec and call["code"] is None
    assert call["limits"] == {"timeout_s": run.limit_s}


@pytest.mark.parametrize(
    ("verdict", "status"),
    [("timeout", "timed_out"), ("invalid", "failed"), ("killed", "failed"), ("cancelled", "cancelled")],
)
def test_it_maps_the_sandboxs_verdict_to_the_final_status(learner, create_run, verdict, status):
    run = create_run(learner)

    assert execute(run, fake_result(status=verdict)) == status
    assert run.status == status and run.result is None


def test_it_keeps_the_error_and_its_line_of_failed_code(learner, create_run):
    run = create_run(learner, code="1 / 0\n")

    execute(run, fake_result(status="error", error="ZeroDivisionError: division by zero", line=12))

    assert run.status == "failed"
    assert run.error == "ZeroDivisionError: division by zero" and run.error_line == 12


def test_it_keeps_the_numbers_when_the_plots_cannot_be_drawn(learner, create_run):
    def draw_badly(*, result, language):
        raise ValueError("no font")

    run = create_run(learner)

    execute(run, draw=draw_badly)

    assert run.status == "succeeded"
    assert run.result["grad_norm"] == fake_result()["grad_norm"]
    assert "plots could not be drawn" in run.error
    assert not run.plots.exists()


def test_it_does_not_execute_a_run_that_is_no_longer_queued(learner, create_run):
    run = services.run_cancel(run=create_run(learner))
    sandbox = fake_sandbox(fake_result())
    before = events_of(run)

    assert execute(run, sandbox_run=sandbox) is None
    assert run.status == "cancelled" and run.started_at is None
    assert events_of(run) == before
    assert sandbox.calls == []


def test_it_does_not_execute_a_redelivered_task_again(learner, create_run):
    run = create_run(learner)
    execute(run)
    sandbox = fake_sandbox(fake_result(status="killed"))
    before = events_of(run)

    assert execute(run, sandbox_run=sandbox) is None
    assert run.status == "succeeded"
    assert events_of(run) == before and sandbox.calls == []


# Cancelling


def test_it_cancels_a_queued_run_at_once(learner, create_run):
    run = create_run(learner)

    services.run_cancel(run=run)

    run.refresh_from_db()
    assert run.status == "cancelled" and run.finished_at is not None
    assert events_of(run) == [(1, "queued"), (2, "finished")]
    assert run.events.get(seq=2).data == {"status": "cancelled"}


def test_it_asks_the_worker_to_stop_a_running_run(learner, create_run):
    run = create_run(learner)
    seen = {}

    def cancel_midway(should_cancel):
        cancelled = services.run_cancel(run=ExperimentRun.objects.get(pk=run.id))
        seen["status"], seen["requested"] = cancelled.status, cancelled.cancel_requested_at

    execute(run, sandbox_run=fake_sandbox(fake_result(status="cancelled"), before_result=cancel_midway))

    assert seen["status"] == "running" and seen["requested"] is not None
    assert run.status == "cancelled"


def test_it_tells_the_worker_about_the_cancel_once_the_heartbeat_interval_passed(learner, create_run, settings):
    settings.LAB_HEARTBEAT_S = 0
    run = create_run(learner)
    answers = []

    def cancel_midway(should_cancel):
        answers.append(should_cancel())
        services.run_cancel(run=ExperimentRun.objects.get(pk=run.id))
        answers.append(should_cancel())

    execute(run, sandbox_run=fake_sandbox(fake_result(status="cancelled"), before_result=cancel_midway))

    assert answers == [False, True]


def test_it_leaves_a_final_run_as_it_is_when_cancelled(learner, create_run):
    run = create_run(learner)
    execute(run)
    before = events_of(run)

    services.run_cancel(run=run)

    run.refresh_from_db()
    assert run.status == "succeeded" and run.cancel_requested_at is None
    assert events_of(run) == before


# The reaper


def test_it_fails_a_running_run_whose_worker_went_silent(learner, create_run, settings):
    settings.LAB_WORKER_LOST_S = 30
    now = timezone.now()
    run = make_running(create_run(learner), heartbeat_at=now - dt.timedelta(seconds=31))

    services.run_reap(now=now)

    run.refresh_from_db()
    assert run.status == "failed" and run.finished_at == now
    assert "worker running this experiment was lost" in run.error


def test_it_leaves_a_running_run_with_a_fresh_heartbeat_alone(learner, create_run, settings):
    settings.LAB_WORKER_LOST_S = 30
    now = timezone.now()
    run = make_running(create_run(learner), heartbeat_at=now - dt.timedelta(seconds=29))

    assert services.run_reap(now=now) == 0
    run.refresh_from_db()
    assert run.status == "running" and run.error == ""


def test_it_fails_a_run_that_waited_in_the_queue_too_long(learner, create_run, settings):
    settings.LAB_QUEUE_MAX_WAIT_S = 3600
    run = create_run(learner)

    services.run_reap(now=run.created_at + dt.timedelta(seconds=3601))

    run.refresh_from_db()
    assert run.status == "failed"
    assert "No worker took this experiment" in run.error


def test_it_leaves_a_run_queued_for_less_than_the_longest_wait_alone(learner, create_run, settings):
    settings.LAB_QUEUE_MAX_WAIT_S = 3600
    run = create_run(learner)

    assert services.run_reap(now=run.created_at + dt.timedelta(seconds=3599)) == 0
    run.refresh_from_db()
    assert run.status == "queued"


def test_it_counts_the_runs_it_reaped(learner, other_learner, create_run, settings):
    settings.LAB_WORKER_LOST_S = 30
    now = timezone.now()
    make_running(create_run(learner), heartbeat_at=now - dt.timedelta(minutes=5))
    make_running(create_run(other_learner), heartbeat_at=now - dt.timedelta(minutes=5))
    make_running(create_run(learner), heartbeat_at=now)

    assert services.run_reap(now=now) == 2


def test_it_ends_a_reaped_runs_story_with_a_finished_event(learner, create_run, settings):
    settings.LAB_WORKER_LOST_S = 30
    now = timezone.now()
    run = make_running(create_run(learner), heartbeat_at=now - dt.timedelta(minutes=5))

    services.run_reap(now=now)

    assert events_of(run) == [(1, "queued"), (2, "finished")]
    assert run.events.get(seq=2).data == {"status": "failed"}


# Retrying


def test_it_retries_a_run_as_a_new_queued_run_of_the_same_experiment(
    learner, course, create_run, django_capture_on_commit_callbacks
):
    run = create_run(learner, SMALL, code="print(1)\n", preset="sigmoid-vanishes", course=course)
    execute(run, fake_result(status="killed"))

    with django_capture_on_commit_callbacks(execute=False):
        again = services.run_retry(run=run, language="de")

    assert again.pk != run.pk and again.status == "queued"
    assert again.retry_of == run and again.owner == learner
    assert (again.spec, again.code, again.preset, again.course) == (run.spec, run.code, run.preset, course)
    assert again.language == "de"


def test_it_refuses_a_retry_beyond_the_active_runs_limit(
    learner, create_run, settings, django_capture_on_commit_callbacks
):
    settings.LAB_MAX_ACTIVE_RUNS = 2
    failed = create_run(learner)
    execute(failed, fake_result(status="killed"))
    create_run(learner)
    create_run(learner)

    with pytest.raises(services.LabError) as refused, django_capture_on_commit_callbacks(execute=False):
        services.run_retry(run=failed, language="en")

    assert refused.value.code == "too_many"
    assert not failed.retries.exists()


# What the sandbox says of itself, and what the run says


def test_it_logs_a_failure_of_the_sandbox_for_the_operator_quoted(learner, create_run, caplog):
    run = create_run(learner)
    failure = "the sandbox service closed the connection without a result\nERROR forged: line"
    execute(run, fake_result(status="error", error="the sandbox failed to run this", sandbox_error=failure))
    assert run.status == "failed"
    assert run.error == "The lab’s sandbox is not available right now. Start the experiment again in a minute."
    (record,) = [record for record in caplog.records if record.levelname == "ERROR"]
    assert "\n" not in record.getMessage()  # quoted: its text cannot start a log line of its own
    assert repr(failure) in record.getMessage()


def test_it_never_takes_a_runs_own_text_for_the_sandboxs(learner, create_run, caplog):
    """A run may raise anything; without `sandbox_error` it is the learner's own error, shown, not logged."""
    run = create_run(learner)
    forged = "the sandbox service cannot be reached at /run/x: down"  # a result the run sent itself
    execute(run, fake_result(status="error", error=forged))
    assert (run.status, run.error) == ("failed", forged)
    assert not [record for record in caplog.records if record.levelname == "ERROR"]
