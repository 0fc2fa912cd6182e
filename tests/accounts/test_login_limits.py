"""A scripted password-guessing attack on the real login view: per account and per address
(django-axes), with a cool-off after which the right password works again."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
COOL_OFF_S = 1.0


@pytest.fixture(autouse=True)
def limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = timedelta(seconds=COOL_OFF_S)


def log_in(client, username, password, address="198.51.100.1", **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, headers=headers
    )


def logged_in(client) -> bool:
    return client.get("/").context["user"].is_authenticated


def test_thirty_wrong_passwords_lock_the_account_until_the_cool_off(client, learner):
    answers = [log_in(client, "lena", f"guess {n}").status_code for n in range(30)]

    assert answers[:4] == [200] * 4  # the form again, with its error
    assert answers[4:] == [429] * 26
    locked = log_in(client, "lena", PASSWORD)
    assert locked.status_code == 429 and "Too many failed logins" in locked.text
    assert not logged_in(client)

    time.sleep(COOL_OFF_S + 0.2)
    assert log_in(client, "lena", PASSWORD).status_code == 302
    assert logged_in(client)


def test_wrong_passwords_across_accounts_lock_the_address(client, learner):
    for n in range(30):
        log_in(client, f"someone{n}", "guess")

    assert log_in(client, "lena", PASSWORD).status_code == 429
    assert not logged_in(client)
    assert log_in(client, "lena", PASSWORD, address="198.51.100.2").status_code == 302  # another address

    client.post(reverse("logout"))
    time.sleep(COOL_OFF_S + 0.2)
    assert log_in(client, "lena", PASSWORD).status_code == 302


def test_wrong_passwords_from_many_addresses_lock_the_account(client, learner, other_learner):
    for n in range(30):
        log_in(client, "lena", "guess", address=f"203.0.113.{n}")

    assert log_in(client, "lena", PASSWORD, address="192.0.2.99").status_code == 429
    assert log_in(client, "luis", PASSWORD, address="192.0.2.99").status_code == 302  # others log in

    client.post(reverse("logout"))
    time.sleep(COOL_OFF_S + 0.2)
    assert log_in(client, "lena", PASSWORD, address="192.0.2.99").status_code == 302


def test_a_forwarded_for_header_cannot_pick_a_fresh_address(client, settings, learner):
    settings.TRUSTED_PROXY_COUNT = 1
    # uvicorn trusting every proxy puts the left-most entry, the client's own claim, in REMOTE_ADDR.
    for n in range(30):
        claim = f"10.9.{n}.1"
        log_in(client, f"someone{n}", "guess", address=claim, x_forwarded_for=f"{claim}, 198.51.100.7")

    refused = log_in(client, "lena", PASSWORD, address="10.99.0.1", x_forwarded_for="10.99.0.1, 198.51.100.7")
    assert refused.status_code == 429


def test_the_admin_login_is_limited_too(client, learner):
    for n in range(6):
        client.post(reverse("admin:login"), {"username": "lena", "password": f"guess {n}"}, REMOTE_ADDR="198.51.100.3")

    assert log_in(client, "lena", PASSWORD, address="198.51.100.4").status_code == 429


def test_the_lockout_page_is_the_sites_in_the_visitors_language(client, settings, learner):
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    for n in range(5):
        log_in(client, "lena", f"guess {n}")

    page = client.post(reverse("login"), {"username": "lena", "password": PASSWORD}, headers={"accept-language": "de"})

    assert page.status_code == 429
    assert "<html" in page.text and "Zu viele fehlgeschlagene Anmeldungen" in page.text and "15 Minuten" in page.text


def test_a_successful_login_does_not_wipe_an_attack_on_another_account(client, learner):
    mine = UserFactory(username="mallory")
    for n in range(4):
        log_in(client, "lena", f"guess {n}", address=f"203.0.113.{n}")
    log_in(client, mine.username, PASSWORD, address="203.0.113.50")
    client.post(reverse("logout"))

    log_in(client, "lena", "guess 5", address="203.0.113.51")

    assert log_in(client, "lena", PASSWORD, address="203.0.113.52").status_code == 429
