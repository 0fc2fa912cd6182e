import pytest

from tests.conftest import skip_unless_available

pytestmark = pytest.mark.django_db


def test_it_reports_the_database_and_that_redis_is_not_configured(client, settings):
    settings.REDIS_URL = ""

    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_it_reports_redis_when_configured(client, settings):
    import os

    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        skip_unless_available(f"no Redis at {url}")
    settings.REDIS_URL = url

    assert client.get("/healthz").json() == {"status": "ok", "database": "ok", "redis": "ok"}


def test_it_answers_503_when_redis_is_down(client, settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error" and body["database"] == "ok"
    assert body["redis"].startswith("error: ")


def test_it_answers_503_when_the_database_is_down(client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(connection, "cursor", broken_cursor)

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["database"] == "error: ConnectionError: database went away"


def test_it_is_never_cached(client):
    assert "no-cache" in client.get("/healthz").headers["Cache-Control"]
