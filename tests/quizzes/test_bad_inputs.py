"""Inputs that once gave the quizzes a 500: a resume target that is no quiz's key, a NUL in an answer."""

import pytest
from django.urls import reverse

from quizzes import services
from quizzes.models import Response
from tests.quizzes.test_views import answer_url, q

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("quiz_key", ["not a slug", "../admin", "test-first\x00", "Ü", "x" * 200])
def test_an_anonymous_answer_naming_no_quiz_resumes_at_the_home_page_after_login(client, quiz, quiz_key):
    url = reverse("quizzes:answer", kwargs={"attempt": 0, "question": q("pick-one").id})

    response = client.post(url, {"option": "right", "quiz": quiz_key})

    assert response.status_code == 302
    assert response.url == reverse("login") + "?next=" + reverse("courses:home")


def test_a_short_answer_with_a_nul_is_refused_naming_it_and_not_stored(client, learner, quiz):
    attempt = services.attempt_start(user=learner, quiz=quiz, mode="practice")
    client.force_login(learner)

    response = client.post(answer_url(attempt, "name-it"), {"answer": "sig\x00moid"}, headers={"HX-Request": "true"})

    assert response.status_code == 200
    assert "That answer contains a NUL character" in response.text
    assert not Response.objects.exists()


def test_an_answer_with_a_nonce_that_is_no_token_is_stored_without_it(client, learner, quiz):
    attempt = services.attempt_start(user=learner, quiz=quiz, mode="practice")
    client.force_login(learner)

    client.post(answer_url(attempt, "name-it"), {"answer": "sigmoid", "nonce": "n\x00"}, headers={"HX-Request": "true"})

    assert Response.objects.get().nonce == ""
