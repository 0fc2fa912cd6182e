"""Signing up: confirmed by e-mail, and the same answer whether the address is taken or free."""

import re

import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a much longer passphrase 42"


def sign_up(client, username="noor", email="noor@example.com", **extra):
    data = {"username": username, "email": email, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    return client.post(reverse("signup"), {**data, **extra})


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/\S+)", message.body).group(1)


def test_it_signs_up_a_new_learner_who_confirms_by_email_and_lands_where_they_were(client, course):
    response = sign_up(client, next=course.get_absolute_url())

    assert response.status_code == 302 and response.url == reverse("signup_done")
    assert "Check your e-mail" in client.get(response.url).text
    noor = User.objects.get(username="noor")
    assert noor.is_pending and not noor.is_active and not noor.is_instructor
    assert not client.get(reverse("courses:home")).context["user"].is_authenticated
    (message,) = mail.outbox
    assert message.to == ["noor@example.com"] and message.subject == "Confirm your Gradlab account"
    page = client.get(link_in(message))
    assert page.status_code == 200 and "Confirm and log in" in page.text
    assert User.objects.get(username="noor").is_pending  # opening the link confirms nothing

    confirmed = client.post(link_in(message), {"next": page.context["next"]})

    assert confirmed.url == course.get_absolute_url()
    noor.refresh_from_db()
    assert noor.is_active and not noor.is_pending
    assert client.get(reverse("courses:home")).context["user"] == noor


def test_a_confirmation_link_works_once(client, db):
    sign_up(client)
    link = link_in(mail.outbox[0])
    client.post(link)
    client.post(reverse("logout"))

    again = client.post(link)

    assert again.status_code == 400 and "This link does not work" in again.text
    assert not client.get("/").context["user"].is_authenticated


def test_a_pending_account_cannot_log_in(client, db):
    sign_up(client)

    response = client.post(reverse("login"), {"username": "noor", "password": NEW_PASSWORD})

    assert response.status_code == 200 and response.context["form"].non_field_errors()


def test_signup_keeps_the_language_the_visitor_was_reading(client):
    client.post(
        reverse("signup"),
        {"username": "noor", "email": "noor@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        headers={"accept-language": "de"},
    )

    assert User.objects.get(username="noor").language == "de"
    assert mail.outbox[0].subject == "Bestätigen Sie Ihr Gradlab-Konto"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "", "email": "a@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD}, "username"),
        ({"username": "lena", "email": "x@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
         "username"),
        ({"username": "l\u0435na", "email": "x@example.com", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
         "username"),
        ({"username": "noor", "email": "not-an-address", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
         "email"),
        ({"username": "noor", "email": "n@example.com", "password1": NEW_PASSWORD, "password2": "different 42 x"},
         "password2"),
        ({"username": "noor", "email": "n@example.com", "password1": "12345678", "password2": "12345678"},
         "password2"),
    ],
    ids=["no-username", "taken-username", "look-alike-username", "bad-email", "mismatch", "weak-password"],
)  # fmt: skip
def test_signup_rejects_bad_input_naming_the_field(client, learner, data, field):
    response = client.post(reverse("signup"), data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert f'id="id_{field}_error"' in response.text
    assert User.objects.count() == 1
    assert mail.outbox == []


def test_signup_answers_the_same_for_a_taken_and_a_free_address(client, learner):
    free = sign_up(client, username="noor", email="noor@example.com")
    free_page = client.get(free.url)
    client.cookies.clear()
    taken = sign_up(client, username="nora", email="LENA@example.com")
    taken_page = client.get(taken.url)

    assert (free.status_code, free.url) == (taken.status_code, taken.url)
    assert set(free.cookies) == set(taken.cookies)
    masked_token = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')  # masked anew on every page
    assert masked_token.sub("", free_page.text) == masked_token.sub("", taken_page.text)
    assert not User.objects.filter(username="nora").exists()
    confirm, someone_tried = mail.outbox
    assert confirm.to == ["noor@example.com"]
    assert someone_tried.to == [learner.email]
    assert someone_tried.subject == "Someone tried to sign up with your address"
    assert "lena" in someone_tried.body and reverse("password_reset") in someone_tried.body


def test_the_owner_of_a_taken_address_is_told_in_their_language(client, learner):
    learner.language = "de"
    learner.save()

    sign_up(client, username="nora", email=learner.email)

    assert mail.outbox[0].subject == "Jemand wollte sich mit Ihrer Adresse registrieren"


def test_an_address_someone_else_signed_up_with_comes_back_to_its_owner_by_a_reset(client, db):
    sign_up(client, username="squatter", email="noor@example.com")  # never confirmed: not theirs
    client.cookies.clear()
    sign_up(client, username="noor", email="noor@example.com")
    assert mail.outbox[1].subject == "Someone tried to sign up with your address"

    client.post(reverse("password_reset"), {"email": "noor@example.com"})
    form_url = client.get(link_in(mail.outbox[2])).url
    client.post(form_url, {"new_password1": NEW_PASSWORD + "!", "new_password2": NEW_PASSWORD + "!"})

    account = User.objects.get(email="noor@example.com")
    assert account.is_active and not account.is_pending and account.check_password(NEW_PASSWORD + "!")
    assert client.post(reverse("login"), {"username": "squatter", "password": NEW_PASSWORD + "!"}).status_code == 302


def test_a_switched_off_account_stays_off_after_a_reset(client, learner):
    learner.is_active = False
    learner.save()

    client.post(reverse("password_reset"), {"email": learner.email})

    assert mail.outbox == []


def test_signup_ignores_a_next_url_on_another_site(client):
    sign_up(client, next="https://evil.example/")

    link = link_in(mail.outbox[0])
    assert "evil" not in link
    assert client.post(link).url == "/"
