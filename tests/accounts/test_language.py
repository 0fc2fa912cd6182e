import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def switch(client, language, next_url="/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_a_visitor_switches_to_german_and_it_is_remembered(client, course):
    response = switch(client, "de", course.get_absolute_url())

    assert response.status_code == 302 and response.url == course.get_absolute_url()
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"
    page = client.get(course.get_absolute_url(), headers={"accept-language": "en"})
    assert '<html lang="de">' in page.text
    assert course.title_de in page.text
    assert "Lektionen" in page.text


def test_switching_back_to_english(client, course):
    switch(client, "de")
    switch(client, "en")

    page = client.get(course.get_absolute_url(), headers={"accept-language": "de"})
    assert '<html lang="en">' in page.text
    assert "Lessons" in page.text


def test_a_learners_choice_is_saved_and_comes_back_at_the_next_login(client, learner):
    client.force_login(learner)
    switch(client, "de")
    learner.refresh_from_db()
    assert learner.language == "de"

    client.logout()
    client.cookies.clear()
    response = client.post(reverse("login"), {"username": "lena", "password": PASSWORD})

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "de"


def test_an_unknown_language_changes_nothing(client):
    response = switch(client, "xx")

    assert response.status_code == 302
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_the_switch_does_not_redirect_to_another_site(client):
    response = switch(client, "de", "https://evil.example/")

    assert response.url == "/"


def test_the_header_offers_both_languages(client):
    text = client.get("/").text

    assert 'name="language" value="de"' in text and 'name="language" value="en"' in text
