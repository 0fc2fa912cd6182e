import io
import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from courses.models import Fact
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a much longer passphrase 42"


def test_it_logs_in_and_out(client, learner):
    response = client.post(reverse("login"), {"username": "lena", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/").context["user"] == learner

    client.post(reverse("logout"))

    assert not client.get("/").context["user"].is_authenticated


def test_a_wrong_password_is_refused(client, learner):
    response = client.post(reverse("login"), {"username": "lena", "password": "wrong"})

    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_a_learner_changes_their_password(client, learner):
    client.force_login(learner)

    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.url == reverse("password_change_done")
    learner.refresh_from_db()
    assert learner.check_password(NEW_PASSWORD)


def test_a_learner_resets_a_forgotten_password_by_email(client, learner):
    client.post(reverse("password_reset"), {"email": learner.email})

    (message,) = mail.outbox
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", message.body).group(1)
    form_url = client.get(link).url
    response = client.post(form_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert response.url == reverse("password_reset_complete")
    learner.refresh_from_db()
    assert learner.check_password(NEW_PASSWORD)


def test_a_reset_for_an_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})

    assert response.url == reverse("password_reset_done")
    assert mail.outbox == []


def test_an_instructor_edits_facts_in_the_admin(client, instructor, course):
    client.force_login(instructor)
    fact = Fact.objects.get(key="overfitting")

    assert client.get(reverse("admin:courses_fact_changelist")).status_code == 200
    assert client.get(reverse("admin:courses_fact_change", args=[fact.id])).status_code == 200
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403


def test_a_learner_cannot_open_the_admin(client, learner):
    client.force_login(learner)

    response = client.get(reverse("admin:courses_fact_changelist"))

    assert response.status_code == 302 and reverse("admin:login") in response.url


def test_the_demo_accounts_command_prints_working_credentials(settings, tmp_path, client):
    from io import StringIO

    from django.core.management import call_command

    settings.VAR_DIR = tmp_path
    out = StringIO()
    call_command("ensure_demo_accounts", stdout=out)
    call_command("ensure_demo_accounts", stdout=StringIO())  # a second start keeps the passwords

    credentials = dict(re.findall(r"user (\w+)\s+password (\S+)", out.getvalue()))
    assert set(credentials) == {"instructor", "learner"}
    assert User.objects.get(username="instructor").is_instructor
    assert not User.objects.get(username="learner").is_instructor
    for username, password in credentials.items():
        response = client.post(reverse("login"), {"username": username, "password": password})
        assert response.status_code == 302, username


def test_it_makes_an_account_an_instructor_from_the_command_line(learner):
    from django.core.management import call_command

    call_command("make_instructor", "lena", stdout=io.StringIO())

    learner.refresh_from_db()
    assert learner.is_instructor and learner.is_staff


def test_it_names_an_account_that_does_not_exist(db):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match="no account is called 'nobody'"):
        call_command("make_instructor", "nobody")
