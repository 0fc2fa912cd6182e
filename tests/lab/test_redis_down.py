"""With Redis down, the rest of the site keeps working and the lab says runs cannot be queued."""

import pytest

from lab.forms import SpecForm
from lab.models import ExperimentRun

DOWN = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@pytest.fixture
def redis_down(settings):
    settings.REDIS_URL = DOWN
    settings.CELERY_BROKER_URL = DOWN
    # Redis as the product configures it with REDIS_URL: the default cache (the fragment
    # cache stays in each process's memory, gradlab.settings.base)
    settings.CACHES = {
        **settings.CACHES,
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DOWN},
    }


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/courses/vanishing-gradient/",
        "/courses/vanishing-gradient/causes/",
        "/quizzes/vg-causes/",
        "/cards/review/",
        "/cards/stats/",
    ],
)
def test_it_keeps_lessons_quizzes_and_cards_working(client, learner, course, redis_down, path):
    client.force_login(learner)

    assert client.get(path).status_code == 200


def test_it_keeps_the_item_analysis_working_without_its_cache(client, instructor, course, redis_down):
    client.force_login(instructor)

    assert client.get("/author/vanishing-gradient/questions/").status_code == 200


def test_it_says_in_the_lab_that_runs_cannot_be_queued(client, learner, redis_down):
    client.force_login(learner)

    page = client.get("/lab/")

    assert page.status_code == 200
    assert "Experiments cannot be queued right now" in page.text


def test_it_refuses_a_run_without_a_500_and_stores_nothing(client, learner, redis_down):
    client.force_login(learner)
    fields = {name: value for name, value in SpecForm.initial_from({}).items() if value is not False}

    response = client.post("/lab/runs", fields)

    assert response.status_code == 422
    assert "Experiments cannot be queued right now" in response.text
    assert not ExperimentRun.objects.exists()


def test_it_reports_redis_down_in_the_health_check(client, redis_down, db):  # heartbeats are read too
    answer = client.get("/healthz")

    assert answer.json()["redis"] == "failing"
