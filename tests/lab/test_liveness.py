"""Whether the lab's processes are alive, from their heartbeats: /healthz says so, the lab
refuses runs that nobody would run, and a run whose sandbox service stopped is its failure."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lab import execution, liveness, selectors, services, tasks
from lab.models import ExperimentRun, ServiceHeartbeat
from sandbox.protocol import sandbox_failure
from tests.lab.conftest import SMALL, draw_nothing, fake_sandbox
from tests.lab.test_views import form_data, lab_main

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)


def stamp(name: str, *, seconds_ago: float, where: str = "host/1", missing=None) -> None:
    services.heartbeat_stamp(name=name, where=where, missing=missing, now=NOW - dt.timedelta(seconds=seconds_ago))


@pytest.fixture
def nothing_alive():
    ServiceHeartbeat.objects.all().delete()


def test_a_service_is_alive_only_while_its_heartbeat_is_recent_read_in_one_query(
    nothing_alive, settings, django_assert_num_queries
):
    settings.LAB_SERVICE_LOST_S = 30
    settings.LAB_REAP_EVERY_S = 15
    stamp("worker", seconds_ago=5)
    stamp("worker", seconds_ago=300, where="host/2")  # a worker that died long ago
    stamp("sandbox", seconds_ago=31)
    stamp("scheduler", seconds_ago=40)  # three reaper intervals (45 s) allowed

    with django_assert_num_queries(1):
        alive = selectors.services_alive(now=NOW)

    assert alive == {"worker": True, "sandbox": False, "scheduler": True, "missing": []}
    assert selectors.services_alive(now=NOW + dt.timedelta(seconds=10))["scheduler"] is False


def test_nothing_is_alive_without_any_heartbeat(nothing_alive):
    assert selectors.services_alive(now=NOW) == {"worker": False, "sandbox": False, "scheduler": False, "missing": []}


def test_the_reaper_stamps_the_scheduler_each_time_it_runs(nothing_alive):
    tasks.reap_runs()

    assert selectors.services_alive(now=timezone.now())["scheduler"] is True


def test_the_reaper_drops_the_heartbeats_of_processes_gone_for_a_day(nothing_alive):
    stamp("worker", seconds_ago=2 * 86400, where="host/old")
    stamp("worker", seconds_ago=5, where="host/new")

    services.run_reap(now=NOW)

    assert list(ServiceHeartbeat.objects.values_list("where", flat=True)) == ["host/new"]


def test_a_beat_stamps_the_worker_and_a_sandbox_that_answers_its_ping(nothing_alive, sandbox_service):
    assert liveness.beat_once(socket_path=str(sandbox_service.socket_path), at="host/7") is True

    alive = selectors.services_alive(now=timezone.now())
    assert alive["worker"] and alive["sandbox"]
    assert isinstance(alive["missing"], list)


def test_a_beat_without_a_sandbox_service_stamps_only_the_worker(nothing_alive, tmp_path):
    assert liveness.beat_once(socket_path=str(tmp_path / "nobody.sock"), at="host/7") is False

    alive = selectors.services_alive(now=timezone.now())
    assert alive["worker"] and not alive["sandbox"]


@pytest.mark.parametrize("dead", ["worker", "sandbox", "scheduler"])
def test_healthz_names_a_dead_lab_process_and_stays_200_for_the_web_server(client, nothing_alive, dead):
    for name in ServiceHeartbeat.Name.values:
        if name != dead:
            services.heartbeat_stamp(name=name, where="host/1")

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()[dead] == "failing"
    assert all(response.json()[name] == "ok" for name in ServiceHeartbeat.Name.values if name != dead)


def test_healthz_tells_staff_which_heartbeat_is_missing(client, nothing_alive, instructor):
    client.force_login(instructor)

    details = client.get("/healthz").json()["details"]

    assert details["sandbox"].startswith("no sandbox service")


@pytest.mark.parametrize(
    ("dead", "message"),
    [("worker", "no lab worker is running"), ("sandbox", "the lab’s sandbox service is not running")],
)
def test_the_lab_refuses_a_run_when_no_worker_or_sandbox_is_alive_and_stores_nothing(
    client, learner, nothing_alive, dead, message
):
    for name in ServiceHeartbeat.Name.values:
        if name != dead:
            services.heartbeat_stamp(name=name, where="host/1")
    client.force_login(learner)

    page = client.get(reverse("lab:home"))
    response = client.post(reverse("lab:run_create"), form_data(SMALL))

    assert message in page.text and "disabled" in lab_main(page)
    assert response.status_code == 422
    assert message in lab_main(response)
    assert not ExperimentRun.objects.exists()


def test_the_lab_refuses_a_run_in_german_too(client, learner, nothing_alive):
    services.heartbeat_stamp(name="sandbox", where="host/1")
    client.force_login(learner)

    response = client.post(reverse("lab:run_create"), form_data(SMALL), HTTP_ACCEPT_LANGUAGE="de")

    assert "Es läuft kein Worker des Labors" in lab_main(response)


def test_the_lab_accepts_a_run_while_worker_and_sandbox_are_alive(client, learner, django_capture_on_commit_callbacks):
    client.force_login(learner)

    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(reverse("lab:run_create"), form_data(SMALL))

    assert response.status_code == 302 and ExperimentRun.objects.count() == 1


@pytest.mark.parametrize("verdict", ["error", "cancelled", "ok"])
def test_a_run_whose_sandbox_service_stopped_under_it_fails_and_is_not_charged(learner, create_run, verdict):
    run = create_run(learner)
    stopped = sandbox_failure("the sandbox service is stopping") | {"status": verdict, "wall_s": 42.0}

    status = execution.run_execute(run_id=run.id, worker="w1", sandbox_run=fake_sandbox(stopped), draw=draw_nothing)

    run.refresh_from_db()
    assert status == run.status == ExperimentRun.Status.FAILED
    assert run.used_s == 0.0 and run.result is None
    assert "sandbox is not available" in run.error
    assert selectors.compute_used_today(user=learner, now=timezone.now()) == 0.0


@pytest.mark.slow
def test_a_real_worker_stamps_itself_and_its_sandbox_and_a_killed_one_is_dead_soon(worker, settings):
    import socket

    from tests.lab.conftest import wait_for

    settings.LAB_SERVICE_LOST_S = 3
    ServiceHeartbeat.objects.all().delete()
    where = f"{socket.gethostname()}/{worker.process.pid}"

    wait_for(
        lambda: ServiceHeartbeat.objects.filter(where=where, name__in=["worker", "sandbox"]).count() == 2,
        timeout_s=15,
        what="the worker's heartbeats",
    )
    alive = selectors.services_alive(now=timezone.now())
    assert alive["worker"] and alive["sandbox"]

    worker.kill()
    wait_for(
        lambda: not selectors.services_alive(now=timezone.now())["worker"], timeout_s=10, what="the worker to be dead"
    )


def test_instructors_see_which_layers_the_sandbox_lacks(client, instructor, course, nothing_alive):
    missing = [{"layer": "landlock", "why": "the kernel has none"}]
    services.heartbeat_stamp(name="sandbox", where="host/1", missing=missing)
    client.force_login(instructor)

    page = client.get(reverse("authoring:course_runs", kwargs={"course": course.key}))
    german = client.get(reverse("authoring:course_runs", kwargs={"course": course.key}), HTTP_ACCEPT_LANGUAGE="de")

    assert "The sandbox here lacks these layers:" in page.text
    assert 'Landlock (what a run may read and write): <span lang="en">the kernel has none</span>' in page.text
    assert "Der Sandbox fehlen hier diese Schutzschichten:" in german.text
    assert "Landlock (was ein Lauf lesen und schreiben darf)" in german.text  # the reason is the host's, in English


def test_healthz_tells_staff_that_the_sandbox_runs_with_reduced_isolation(client, nothing_alive, instructor):
    missing = [{"layer": "control group (memory and process caps for the whole run)", "why": "not delegated"}]
    services.heartbeat_stamp(name="sandbox", where="host/1", missing=missing)
    anonymous = client.get("/healthz").json()
    client.force_login(instructor)

    health = client.get("/healthz").json()

    assert anonymous["sandbox"] == health["sandbox"] == "ok" and "details" not in anonymous
    assert health["details"]["sandbox"] == (
        "reduced isolation, missing: control group (memory and process caps for the whole run) (not delegated)"
    )


def test_instructors_see_reduced_isolation_and_the_layers_by_the_names_the_sandbox_gives(
    client, instructor, course, nothing_alive
):
    missing = [{"layer": "control group (memory and process caps for the whole run)", "why": "not delegated"}]
    services.heartbeat_stamp(name="sandbox", where="host/1", missing=missing)
    client.force_login(instructor)

    page = client.get(reverse("authoring:course_runs", kwargs={"course": course.key}))
    german = client.get(reverse("authoring:course_runs", kwargs={"course": course.key}), HTTP_ACCEPT_LANGUAGE="de")

    assert "<strong>Reduced isolation.</strong> The sandbox here lacks these layers:" in page.text
    assert 'control groups (one memory and process cap for the whole run): <span lang="en">not delegated' in page.text
    assert "<strong>Eingeschränkte Isolation.</strong>" in german.text
    assert "Control Groups (eine Speicher- und Prozessgrenze für den ganzen Lauf)" in german.text


def test_instructors_see_no_notice_when_the_sandbox_lacks_nothing(client, instructor, course):
    services.heartbeat_stamp(name="sandbox", where="host/1", missing=[])
    client.force_login(instructor)

    page = client.get(reverse("authoring:course_runs", kwargs={"course": course.key}))

    assert page.status_code == 200 and "lacks these layers" not in page.text
