"""The task against a real worker process, on the embedded broker and on Redis."""

import datetime as dt

import pytest
from django.utils import timezone

from lab import services
from lab.models import ExperimentRun, RunEvent
from tests.conftest import ROOT
from tests.lab.conftest import SIGMOID, events_of, wait_for

pytestmark = [pytest.mark.slow]
# A few seconds of work: long enough to cancel or kill in the middle, short enough to finish.
LONG = {"model": {"depth": 30, "width": 64}, "train": {"steps": 500}, "record_every": 10}


def _create(owner, spec, capture, **options) -> ExperimentRun:
    with capture(execute=False):
        return services.run_create(owner=owner, spec=spec, language="en", **options)


def _final(run: ExperimentRun, *, timeout_s: float = 90, worker=None) -> ExperimentRun:
    def done():
        run.refresh_from_db()
        return run.is_final

    try:
        wait_for(done, timeout_s=timeout_s, what=f"run {run.id} to finish")
    except AssertionError as error:
        # What the run and the worker were doing: a run that never ends has its reason there.
        log = worker.log.read_text(errors="replace")[-4000:] if worker and worker.log.exists() else ""
        raise AssertionError(f"{error}; status {run.status}, events {events_of(run)}\nworker log:\n{log}") from None
    return run


def test_it_runs_the_sigmoid_preset_to_the_end_with_plots(worker, learner, django_capture_on_commit_callbacks):
    run = _create(learner, SIGMOID, django_capture_on_commit_callbacks, preset="sigmoid-vanishes")
    worker.enqueue(run)
    run = _final(run, worker=worker)
    assert run.status == "succeeded", (run.error, worker.log.read_text()[-3000:])
    assert run.result["layers"][0] == "layer1" and len(run.result["steps"]) == 50
    assert run.result["grad_norm"][-1][0] < 1e-6 * run.result["grad_norm"][-1][-1]
    assert set(run.plots.values_list("name", flat=True)) == {"gradient_profile", "heatmap", "loss"}
    kinds = [kind for _seq, kind in events_of(run)]
    assert kinds[:2] == ["queued", "started"] and kinds[-1] == "finished"
    assert "progress" in kinds
    assert [seq for seq, _kind in events_of(run)] == list(range(1, len(kinds) + 1))
    assert 0 < run.used_s < 30


def test_it_kills_a_running_experiment_when_cancelled(worker, learner, django_capture_on_commit_callbacks):
    run = _create(learner, LONG, django_capture_on_commit_callbacks)
    worker.enqueue(run)
    wait_for(lambda: RunEvent.objects.filter(run=run, kind="progress").exists(), what="the first progress")
    services.run_cancel(run=run)
    run = _final(run, timeout_s=15)
    assert run.status == "cancelled"
    assert run.finished_at - run.cancel_requested_at < dt.timedelta(seconds=3)


def test_it_ends_the_run_of_a_killed_worker_and_starts_it_again(
    worker, learner, django_capture_on_commit_callbacks, settings
):
    run = _create(learner, LONG, django_capture_on_commit_callbacks)
    worker.enqueue(run)
    wait_for(lambda: RunEvent.objects.filter(run=run, kind="progress").exists(), what="the first progress")
    worker.kill()
    run.refresh_from_db()
    assert run.status == "running"
    # Nothing ends it before the worker has been silent for LAB_WORKER_LOST_S …
    assert services.run_reap() == 0
    later = timezone.now() + dt.timedelta(seconds=settings.LAB_WORKER_LOST_S + 1)
    # … then the reaper does, saying why.
    assert services.run_reap(now=later) == 1
    run.refresh_from_db()
    assert run.status == "failed" and "worker running this experiment was lost" in run.error
    with django_capture_on_commit_callbacks(execute=False):
        again = services.run_retry(run=run, language="en")
    assert again.status == "queued" and again.retry_of == run and again.spec == run.spec
    worker.start()
    worker.enqueue(again)
    assert _final(again, worker=worker).status == "succeeded"


def test_it_runs_a_learners_code_and_reports_their_error_with_its_line(
    worker, learner, django_capture_on_commit_callbacks
):
    template = (ROOT / "sandbox" / "templates" / "mlp.py").read_text()
    good = _create(learner, {}, django_capture_on_commit_callbacks, code=template.replace("20, 64", "4, 16"))
    broken = _create(learner, {}, django_capture_on_commit_callbacks, code="import torch\n\nx = torch.ones(2) @ None\n")
    worker.enqueue(good)
    worker.enqueue(broken)

    assert _final(good, worker=worker).status == "succeeded", good.error
    assert len(good.result["layers"]) == 5 and good.plots.count() == 3
    assert _final(broken, worker=worker).status == "failed"
    assert broken.error_line == 3 and "TypeError" in broken.error
