import pytest

from tests.conftest import skip_unless_available

pytestmark = pytest.mark.django_db
# The lab's processes, alive by their heartbeats (tests/conftest.py lab_services_alive).
LAB_ALIVE = {"worker": "ok", "sandbox": "ok", "scheduler": "ok"}


def test_it_reports_the_database_and_that_redis_is_not_configured(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "not configured", **LAB_ALIVE}


def test_it_reports_redis_when_configured(client, settings):
    import os

    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        skip_unless_available(f"no Redis at {url}")
    settings.REDIS_URL = url

    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "redis": "ok", **LAB_ALIVE}


def test_it_answers_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": "ok", "redis": "failing", **LAB_ALIVE}


@pytest.fixture
def database_down(monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise ConnectionError('connection to server at "db.internal" (10.0.0.5), port 5432 failed: user "gradlab"')

    monkeypatch.setattr(connection, "cursor", broken_cursor)


def test_it_answers_503_when_the_database_is_down_and_tells_nobody_why(client, database_down):
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["status"] == "failing" and response.json()["database"] == "failing"
    assert "db.internal" not in response.text and "gradlab" not in response.text and "5432" not in response.text


def test_it_shows_visitors_and_learners_no_details(client, settings, learner):
    settings.REDIS_URL = "redis://:secret@127.0.0.1:1/0"
    client.force_login(learner)

    response = client.get("/healthz")

    assert "details" not in response.json() and "127.0.0.1" not in response.text


def test_it_tells_staff_why_a_component_fails(client, settings, instructor):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    client.force_login(instructor)

    details = client.get("/healthz").json()["details"]

    assert set(details) == {"redis"} and details["redis"].startswith("ConnectionError")


def test_every_check_is_reported_by_its_name(client, monkeypatch):
    from gradlab import health

    monkeypatch.setattr(health, "CHECKS", [*health.CHECKS, ("mail", lambda: health.Component.failing("no relay"))])

    body = client.get("/healthz").json()

    assert body["mail"] == "failing" and body["status"] == "failing" and "no relay" not in str(body)


def test_it_is_never_cached(client):
    assert "no-cache" in client.get("/healthz").headers["Cache-Control"]
