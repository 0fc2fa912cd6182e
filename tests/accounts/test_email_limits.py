"""Account e-mails (password reset, signup) are limited per address and per client."""

import os
import subprocess
import sys
import uuid

import pytest
from django.core import mail
from django.urls import reverse

from tests.conftest import ROOT, skip_unless_available

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a much longer passphrase 42"


@pytest.fixture(autouse=True)
def limits(settings):
    settings.ACCOUNT_EMAILS_PER_RECIPIENT = 3
    settings.ACCOUNT_EMAILS_PER_CLIENT = 10


def reset(client, email, address="198.51.100.1"):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=address)


def test_reset_emails_to_one_address_stop_at_the_limit(client, learner):
    answers = [reset(client, learner.email, address=f"203.0.113.{n}").status_code for n in range(20)]

    assert answers == [302] * 3 + [429] * 17
    assert len(mail.outbox) == 3
    refused = reset(client, learner.email)
    assert "email" in refused.context["form"].errors
    assert "Too many e-mails have gone to this address" in refused.text


def test_an_unknown_address_reaches_the_limit_alike(client, learner):
    known = [reset(client, learner.email).status_code for _ in range(4)]
    unknown = [reset(client, "nobody@example.com").status_code for _ in range(4)]

    assert known == unknown == [302, 302, 302, 429]


def test_one_client_asking_for_many_addresses_stops_at_the_limit(client, db):
    answers = [reset(client, f"someone{n}@example.com").status_code for n in range(15)]

    assert answers == [302] * 10 + [429] * 5
    assert reset(client, "someone-else@example.com", address="198.51.100.2").status_code == 302


def test_signup_emails_count_against_the_same_limits(client, learner):
    for n in range(3):
        reset(client, learner.email, address=f"203.0.113.{n}")

    response = client.post(
        reverse("signup"),
        {"username": "nora", "email": learner.email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 429 and "email" in response.context["form"].errors
    assert len(mail.outbox) == 3


COUNT_IN_ANOTHER_PROCESS = """
import django
django.setup()
from accounts import limits
for _ in range(3):
    limits.account_email_take(client="198.51.100.9", recipient="lena@example.com")
"""


def test_the_limit_holds_across_processes_with_redis(settings):
    import redis

    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        skip_unless_available(f"no Redis at {url}")
    prefix = f"test-limits-{uuid.uuid4().hex}"
    redis_cache = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {**settings.CACHES, "default": {"BACKEND": redis_cache, "LOCATION": url, "KEY_PREFIX": prefix}}
    # The other process reads the same cache from its settings: REDIS_URL, and the prefix.
    environment = {**os.environ, "REDIS_URL": url, "DJANGO_SETTINGS_MODULE": "tests.accounts.redis_cache_settings",
                   "TEST_CACHE_KEY_PREFIX": prefix, "PYTHONPATH": f"{ROOT / 'platform'}{os.pathsep}{ROOT}"}  # fmt: skip
    subprocess.run([sys.executable, "-c", COUNT_IN_ANOTHER_PROCESS], env=environment, check=True, cwd=ROOT, timeout=60)

    from accounts import limits

    with pytest.raises(limits.EmailLimitReached) as reached:
        limits.account_email_take(client="198.51.100.10", recipient="lena@example.com")
    assert reached.value.field == "email"
