"""The lab's reads: who sees which run, queue positions, budgets and the numbers of a run."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from accounts.services import user_make_instructor
from lab import selectors
from lab.models import ExperimentRun, RunEvent
from sandbox.spec import spec_validate
from tests.factories import UserFactory
from tests.lab.conftest import SMALL, fake_result, finish_run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def room_for_runs(settings):
    settings.LAB_MAX_ACTIVE_RUNS = 10


def make_running(run: ExperimentRun) -> ExperimentRun:
    now = timezone.now()
    ExperimentRun.objects.filter(pk=run.pk).update(status="running", started_at=now, heartbeat_at=now, worker="w1")
    run.refresh_from_db()
    return run


def progress(step: int, steps: int = 4, **extra) -> RunEvent:
    data = {"step": step, "steps": steps, "loss": 0.7 - step / 100, "grad_norm": [1e-3 * (step + 1), 1e-1]}
    return RunEvent(kind="progress", data=data | extra)


# Who sees which run


def test_it_shows_a_learner_their_own_run(learner, create_run):
    run = create_run(learner)

    assert selectors.run_for_viewer(user=learner, run_id=run.id) == run


def test_it_hides_a_learners_run_from_another_learner(learner, other_learner, create_run, course):
    run = create_run(learner, course=course)

    with pytest.raises(Http404):
        selectors.run_for_viewer(user=other_learner, run_id=run.id)


def test_it_lists_only_the_learners_own_runs(learner, other_learner, create_run, course):
    own = create_run(learner)
    create_run(other_learner, course=course)

    assert list(selectors.runs_visible_to(user=learner)) == [own]


def test_it_shows_an_instructor_a_run_started_from_a_course(learner, instructor, create_run, course):
    run = create_run(learner, course=course)

    assert selectors.run_for_viewer(user=instructor, run_id=run.id) == run


def test_it_hides_a_run_of_a_course_from_an_instructor_of_another_course(learner, create_run, course):
    run = create_run(learner, course=course)
    stranger = user_make_instructor(user=UserFactory(username="bruno"))

    with pytest.raises(Http404):
        selectors.run_for_viewer(user=stranger, run_id=run.id)


def test_it_hides_a_learners_private_run_from_an_instructor(learner, instructor, create_run):
    run = create_run(learner)

    with pytest.raises(Http404):
        selectors.run_for_viewer(user=instructor, run_id=run.id)


def test_it_shows_nobody_anything_when_not_logged_in(learner, create_run, course):
    create_run(learner, course=course)

    assert not selectors.runs_visible_to(user=AnonymousUser()).exists()


# The queues


def test_it_numbers_the_places_in_the_queue_in_creation_order(learner, other_learner, create_run):
    first = create_run(learner)
    second = create_run(other_learner)
    third = create_run(learner)

    assert [selectors.queue_position(run=run) for run in (first, second, third)] == [1, 2, 3]


def test_it_numbers_the_places_of_each_queue_on_its_own(learner, create_run, settings):
    on_cpu = create_run(learner)
    settings.LAB_GPU_WORKERS = True
    on_gpu = create_run(learner)
    settings.LAB_GPU_WORKERS = False
    second_on_cpu = create_run(learner)

    assert (on_cpu.queue, on_gpu.queue, second_on_cpu.queue) == ("cpu", "gpu", "cpu")
    assert [selectors.queue_position(run=run) for run in (on_cpu, on_gpu, second_on_cpu)] == [1, 1, 2]


def test_it_moves_a_run_up_when_the_one_ahead_is_taken(learner, create_run):
    first = create_run(learner)
    second = create_run(learner)

    make_running(first)

    assert selectors.queue_position(run=second) == 1


def test_it_gives_a_running_run_no_place_in_the_queue(learner, create_run):
    run = make_running(create_run(learner))

    assert selectors.queue_position(run=run) is None


def test_it_reads_what_the_live_pages_of_many_runs_show_in_one_query(
    learner, other_learner, create_run, settings, django_assert_num_queries
):
    first = create_run(learner)
    second = create_run(other_learner)
    settings.LAB_GPU_WORKERS = True
    on_gpu = create_run(learner)
    settings.LAB_GPU_WORKERS = False
    third = create_run(learner)
    running = make_running(create_run(learner))
    RunEvent.objects.create(run=running, seq=7, kind="progress", data={})
    ExperimentRun.objects.filter(pk=running.pk).update(cancel_requested_at=timezone.now())
    running.refresh_from_db()
    runs = [first, second, on_gpu, third, running]

    with django_assert_num_queries(1):
        versions = selectors.stream_versions(run_ids=[run.id for run in runs])

    assert [versions[run.id][3] for run in runs] == [selectors.queue_position(run=run) for run in runs]
    assert [versions[run.id][3] for run in runs] == [1, 2, 1, 3, None]
    assert versions[running.id] == ("running", running.cancel_requested_at, 7, None)
    assert versions[first.id][:3] == ("queued", None, 1)


def test_it_sees_a_queued_run_move_up_and_a_new_event(learner, create_run):
    first, second = create_run(learner), create_run(learner)
    before = selectors.stream_versions(run_ids=[second.id])[second.id]

    make_running(first)
    moved_up = selectors.stream_versions(run_ids=[second.id])[second.id]
    RunEvent.objects.create(run=second, seq=2, kind="started", data={})

    assert moved_up != before
    assert selectors.stream_versions(run_ids=[second.id])[second.id] != moved_up


def test_it_counts_waiting_and_running_runs_per_queue(learner, create_run, settings):
    make_running(create_run(learner))
    create_run(learner)
    create_run(learner)
    finish_run(create_run(learner))
    settings.LAB_GPU_WORKERS = True
    create_run(learner)

    assert selectors.queue_lengths() == {"cpu": {"queued": 2, "running": 1}, "gpu": {"queued": 1, "running": 0}}


def test_it_reports_no_queues_when_nothing_is_active(learner, create_run):
    finish_run(create_run(learner))

    assert selectors.queue_lengths() == {}


# The daily budget


def test_it_adds_todays_used_time_and_the_limits_of_active_runs(learner, create_run):
    finish_run(create_run(learner), fake_result(wall_s=10.0))
    finish_run(create_run(learner), fake_result(wall_s=2.5))
    active = create_run(learner)

    used = selectors.compute_used_today(user=learner, now=timezone.now())

    assert used == 12.5 + active.limit_s


def test_it_counts_no_time_of_other_learners(learner, other_learner, create_run):
    finish_run(create_run(other_learner), fake_result(wall_s=10.0))
    create_run(other_learner)

    assert selectors.compute_used_today(user=learner, now=timezone.now()) == 0


def test_it_counts_no_time_of_runs_created_before_midnight_utc(learner):
    now = dt.datetime(2030, 5, 6, 0, 30, tzinfo=dt.UTC)
    run = ExperimentRun.objects.create(
        owner=learner, spec=spec_validate(SMALL), status="succeeded", limit_s=120, used_s=100
    )
    ExperimentRun.objects.filter(pk=run.pk).update(created_at=now - dt.timedelta(hours=1))

    assert selectors.compute_used_today(user=learner, now=now) == 0
    assert selectors.compute_used_today(user=learner, now=now - dt.timedelta(minutes=45)) == 100


# Progress so far


def test_it_collects_the_progress_events_so_far():
    events = [
        RunEvent(kind="queued"),
        RunEvent(kind="started", data={"worker": "w1"}),
        progress(0, layers=["a", "b"]),
        progress(1),
    ]

    so_far = selectors.progress_of(events)

    assert so_far["layers"] == ["a", "b"]
    assert so_far["steps"] == [0, 1]
    assert so_far["grad_norm"] == [[1e-3, 1e-1], [2e-3, 1e-1]]
    assert so_far["loss"] == [0.7, 0.69]
    assert so_far["total"] == 4


def test_it_computes_the_share_done_from_the_last_step():
    assert selectors.progress_of([progress(0), progress(1)])["done"] == 0.5


def test_it_reports_nothing_done_before_the_first_progress():
    so_far = selectors.progress_of([RunEvent(kind="queued"), RunEvent(kind="started", data={})])

    assert so_far["done"] == 0.0 and so_far["steps"] == [] and so_far["total"] == 0


# The figures of a result


def test_it_divides_the_first_hidden_layers_gradient_by_the_last_ones_median_over_steps():
    # The output layer (last column) is left out: the presets compare hidden layers.
    rows = [[1e-6, 1e-2, 5.0], [1e-5, 1e-2, 5.0], [1e-4, 1e-2, 5.0]]

    assert selectors.depth_ratio({"grad_norm": rows}) == pytest.approx(1e-3)


def test_it_skips_rows_whose_first_gradient_is_missing():
    result = {"grad_norm": [[1e-6, 1e-2, 1.0], [None, 1e-2, 1.0]]}

    assert selectors.depth_ratio(result) == pytest.approx(1e-4)


def test_it_skips_rows_whose_last_hidden_gradient_is_zero():
    result = {"grad_norm": [[1e-6, 1e-2, 1.0], [1e-3, 0.0, 1.0]]}

    assert selectors.depth_ratio(result) == pytest.approx(1e-4)


def test_it_has_no_ratio_without_a_usable_row():
    assert selectors.depth_ratio({"grad_norm": [[None, 1.0, 1.0], [1.0, 0.0, 1.0]]}) is None
    assert selectors.depth_ratio({"grad_norm": []}) is None


def test_it_measures_the_sequence_from_the_first_time_step_to_the_last():
    result = {"seq_grad_norm": [[1e-4, 1e-2, 1.0], [1e-2, 1e-1, 1.0], [1e-3, 1.0, 1.0]]}

    assert selectors.measured_value(measure="sequence_orders", result=result) == pytest.approx(3.0)


def test_it_measures_an_exploding_gradient_in_orders_it_grows():
    result = {"grad_norm": [[1e4, 1e-2, 1.0, 1.0], [1e2, 1.0, 1.0, 1.0], [1e3, 1.0, 1.0, 1.0]]}

    assert selectors.measured_value(measure="growth_orders", result=result) == pytest.approx(3.0)
    assert selectors.measured_value(measure="depth_orders", result=result) == pytest.approx(-3.0)
    assert selectors.measured_value(measure="growth_orders", result={"grad_norm": []}) is None


def test_it_turns_a_ratio_into_orders_of_magnitude():
    assert selectors.orders_of_magnitude(1e-4) == pytest.approx(4.0)
    assert selectors.orders_of_magnitude(10.0) == pytest.approx(-1.0)


def test_it_has_no_orders_of_magnitude_without_a_positive_ratio():
    assert selectors.orders_of_magnitude(None) is None
    assert selectors.orders_of_magnitude(0.0) is None


def test_it_profiles_each_runs_gradients_at_its_last_recorded_step(learner, create_run):
    deep = finish_run(create_run(learner), fake_result(layers=4, steps=5))
    shallow = finish_run(create_run(learner), fake_result(layers=2, steps=3))

    profiles = selectors.gradient_profiles(runs=[deep, shallow])

    assert [profile["run"] for profile in profiles] == [deep, shallow]
    assert profiles[0]["layers"] == ["layer1", "layer2", "layer3", "layer4"]
    assert profiles[0]["values"] == pytest.approx([1e-4, 1e-3, 1e-2, 1e-1])
    assert (profiles[0]["step"], profiles[1]["step"]) == (4, 2)
    # At the last step, first hidden layer over last hidden layer: 1e-4 / 1e-2, and 1e-2 alone.
    assert (profiles[0]["ratio"], profiles[1]["ratio"]) == (pytest.approx(0.01), pytest.approx(1.0))


def test_it_leaves_runs_without_numbers_out_of_the_profiles(learner, create_run):
    finished = finish_run(create_run(learner))
    failed = finish_run(create_run(learner), fake_result(status="killed"))
    queued = create_run(learner)

    assert [profile["run"] for profile in selectors.gradient_profiles(runs=[failed, finished, queued])] == [finished]


def test_it_shows_a_dash_for_a_profile_without_a_ratio(learner, create_run):
    run = finish_run(create_run(learner), fake_result(layers=3, steps=1, grad_norm=[[1e-3, 0.0, 1.0]]))

    [profile] = selectors.gradient_profiles(runs=[run])

    assert profile["ratio"] is None
