"""The quiz pages as learners use them: with htmx and without, and every kind of bad input."""

import pytest
from django.urls import reverse

from quizzes import services
from quizzes.models import Attempt, Question, Response
from tests.conftest import PASSWORD


def q(key: str) -> Question:
    return Question.objects.get(key=key, course__key="test-course")


def answer_url(attempt, key):
    return reverse("quizzes:answer", kwargs={"attempt": attempt.id, "question": q(key).id})


@pytest.fixture
def practice(learner, quiz):
    return services.attempt_start(user=learner, quiz=quiz, mode="practice")


@pytest.fixture
def test_attempt(learner, quiz):
    return services.attempt_start(user=learner, quiz=quiz, mode="test")


def test_a_learner_starts_practice_from_the_quiz_page(client, learner, quiz):
    client.force_login(learner)
    page = client.get(quiz.get_absolute_url())
    assert b"Practise" in page.content and b"Take the test" in page.content
    started = client.post(reverse("quizzes:start", kwargs={"quiz": quiz.key}), {"mode": "practice"})
    attempt = Attempt.objects.get(user=learner)
    assert started.url == attempt.get_absolute_url()
    shown = client.get(started.url)
    assert shown.status_code == 200
    assert shown.content.count(b'class="question"') == 7


def test_practice_feedback_arrives_as_a_fragment_through_htmx(client, learner, practice):
    client.force_login(learner)
    wrong = client.post(answer_url(practice, "pick-one"), {"option": "wrong"}, headers={"HX-Request": "true"})
    assert wrong.status_code == 200
    assert b"<html" not in wrong.content
    assert b"Not right." in wrong.content and b"Sadly not." in wrong.content
    assert b"The right answer:" in wrong.content and b"The right one" in wrong.content
    right = client.post(answer_url(practice, "pick-one"), {"option": "right"}, headers={"HX-Request": "true"})
    assert b"Right!" in right.content and b"Exactly." in right.content and b"(try 2)" in right.content
    assert b"Read again: First lesson" in right.content


def test_without_javascript_an_answer_redirects_back_to_the_question(client, learner, practice):
    client.force_login(learner)
    response = client.post(answer_url(practice, "how-much"), {"answer": "0,25"})
    assert response.url == f"{practice.get_absolute_url()}#q-{q('how-much').id}"
    assert b"Right!" in client.get(response.url).content


def test_a_test_shows_no_feedback_until_it_is_finished(client, learner, test_attempt):
    client.force_login(learner)
    saved = client.post(answer_url(test_attempt, "pick-one"), {"option": "right"}, headers={"HX-Request": "true"})
    assert b"Saved" in saved.content
    assert b"Right!" not in saved.content
    assert b'hx-swap-oob="true">1 of 7 answered' in saved.content
    client.post(answer_url(test_attempt, "how-much"), {"answer": "1"})
    finished = client.post(reverse("quizzes:finish", kwargs={"attempt": test_attempt.id}), follow=True)
    assert b"Your score: 14 % (1 of 7 points)" in finished.content
    assert b"Right!" in finished.content and b"Not right." in finished.content
    assert finished.content.count(b"Not answered.") == 5  # and the right answer with its explanation


def test_the_quiz_page_lists_the_learners_attempts_and_scores(client, learner, test_attempt, quiz):
    services.response_submit(attempt=test_attempt, question=q("pick-one"), form={"option": ["right"]})
    services.attempt_finish(attempt=test_attempt)
    client.force_login(learner)
    page = client.get(quiz.get_absolute_url())
    assert b"14 %" in page.content


@pytest.mark.parametrize(
    ("key", "fields", "message"),
    [
        ("pick-one", {"option": "a"}, b"not one of this question"),  # an option of another question
        ("pick-one", {}, b"Please choose an answer."),
        ("pick-one", {"option": ["right", "wrong"]}, b"Please choose one answer only."),
        ("how-much", {"answer": "a quarter"}, b"Please enter a number"),
        ("is-it-true", {"answer": "perhaps"}, b"Please choose true or false."),
        ("put-in-order", {"item": ["forward", "forward", "loss"]}, b"Please put every item in a place"),
        ("match-them", {"match-relu": "relu"}, b"Please give an answer."),
        ("name-it", {"answer": "x" * 500}, b"too long"),
    ],
)
def test_bad_input_gets_a_clear_message_and_stores_nothing(client, learner, practice, key, fields, message):
    client.force_login(learner)
    response = client.post(answer_url(practice, key), fields, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert message in response.content.replace(b"&#x27;", b"'")
    assert not Response.objects.exists()


def test_an_answer_to_a_finished_attempt_is_refused(client, learner, test_attempt):
    services.attempt_finish(attempt=test_attempt)
    client.force_login(learner)
    response = client.post(answer_url(test_attempt, "pick-one"), {"option": "right"}, follow=True)
    assert b"This attempt is finished" in response.content
    assert not Response.objects.exists()


def test_the_same_form_submitted_twice_stores_exactly_one_response(client, learner, practice):
    client.force_login(learner)
    for _ in range(2):
        client.post(answer_url(practice, "pick-one"), {"option": "wrong", "nonce": "abc123"})
    assert Response.objects.count() == 1


def test_another_learners_attempt_is_not_found(client, other_learner, practice):
    client.force_login(other_learner)
    assert client.get(practice.get_absolute_url()).status_code == 404
    assert client.post(answer_url(practice, "pick-one"), {"option": "right"}).status_code == 404
    assert client.post(reverse("quizzes:finish", kwargs={"attempt": practice.id})).status_code == 404
    assert not Response.objects.exists()


def test_a_question_outside_the_attempt_is_not_found(client, learner, practice, pool_quiz):
    other_course_question = Question.objects.exclude(course=practice.course).first()
    client.force_login(learner)
    url = reverse("quizzes:answer", kwargs={"attempt": practice.id, "question": other_course_question.id})
    assert client.post(url, {"answer": "x"}).status_code == 404


def test_a_question_outside_a_finished_attempt_is_not_found_either(client, learner, practice):
    services.attempt_finish(attempt=practice)
    other_course_question = Question.objects.exclude(course=practice.course).first()
    client.force_login(learner)
    url = reverse("quizzes:answer", kwargs={"attempt": practice.id, "question": other_course_question.id})
    assert client.post(url, {"answer": "x"}, headers={"HX-Request": "true"}).status_code == 404


def test_an_anonymous_answer_is_kept_through_login_and_then_graded(client, learner, quiz):
    page = client.get(quiz.get_absolute_url())
    assert b"Try the first question" in page.content
    url = reverse("quizzes:answer", kwargs={"attempt": 0, "question": q("pick-one").id})
    response = client.post(url, {"option": "right", "quiz": quiz.key})
    assert response.url.startswith(reverse("login"))
    logged_in = client.post(response.url, {"username": "lena", "password": PASSWORD}, follow=True)
    attempt = Attempt.objects.get(user=learner)
    assert attempt.responses.get().correct
    assert b"Right!" in logged_in.content


def test_an_anonymous_answer_keeps_only_that_questions_fields_size_capped(client, quiz):
    from django.contrib.sessions.models import Session

    from quizzes.views import PENDING

    url = reverse("quizzes:answer", kwargs={"attempt": 0, "question": q("name-it").id})
    flood = {f"junk-{n}": "x" * 10_000 for n in range(50)}
    client.post(url, {"answer": "y" * 100_000, "quiz": quiz.key, **flood})

    (session,) = Session.objects.all()
    assert len(session.session_data) < 2_000
    assert client.session[PENDING]["form"] == {"answer": ["y" * 201]}
    assert client.session[PENDING]["quiz"] == quiz.key


def test_an_anonymous_over_long_answer_is_still_refused_after_login(client, learner, quiz):
    url = reverse("quizzes:answer", kwargs={"attempt": 0, "question": q("name-it").id})
    response = client.post(url, {"answer": "y" * 100_000, "quiz": quiz.key})

    logged_in = client.post(response.url, {"username": "lena", "password": PASSWORD}, follow=True)

    assert not Response.objects.exists()
    assert b"too long" in logged_in.content


def test_an_anonymous_answer_with_many_values_keeps_one_more_than_the_question_takes(client, quiz):
    from quizzes.views import PENDING

    url = reverse("quizzes:answer", kwargs={"attempt": 0, "question": q("pick-one").id})
    client.post(url, {"option": ["right"] * 500, "quiz": "no-such-quiz"})

    assert client.session[PENDING]["form"] == {"option": ["right"] * 3}
    assert client.session[PENDING]["quiz"] == ""


def test_an_anonymous_htmx_answer_sends_the_browser_to_log_in(client, quiz):
    url = reverse("quizzes:answer", kwargs={"attempt": 0, "question": q("pick-one").id})
    response = client.post(url, {"option": "right", "quiz": quiz.key}, headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith(reverse("login"))


def test_starting_a_quiz_anonymously_asks_to_log_in(client, quiz):
    response = client.post(reverse("quizzes:start", kwargs={"quiz": quiz.key}), {"mode": "test"})
    assert response.url.startswith(reverse("login"))
    assert not Attempt.objects.exists()


def test_practise_what_i_got_wrong_from_the_course_page(client, learner, practice, quiz):
    services.response_submit(attempt=practice, question=q("pick-one"), form={"option": ["wrong"]})
    client.force_login(learner)
    course_page = client.get(quiz.course.get_absolute_url())
    assert b"Practise what I got wrong (1 question)" in course_page.content
    started = client.post(reverse("quizzes:review", kwargs={"course": quiz.course.key}))
    review = Attempt.objects.get(quiz=None)
    assert started.url == review.get_absolute_url()
    assert b"Practise what I got wrong" in client.get(started.url).content


def test_the_lesson_offers_its_quiz(client, quiz):
    page = client.get(quiz.lesson.get_absolute_url())
    assert quiz.get_absolute_url().encode() in page.content


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_quiz_of_the_first_course_renders_in_both_languages(client, learner, course, language):
    learner.language = language
    learner.save()
    client.force_login(learner)
    client.cookies["django_language"] = language
    for quiz in course.quizzes.all():
        assert client.get(quiz.get_absolute_url()).status_code == 200
        attempt = services.attempt_start(user=learner, quiz=quiz, mode="practice")
        page = client.get(attempt.get_absolute_url())
        assert page.status_code == 200
        for question_id in attempt.question_ids:
            question = Question.objects.get(id=question_id)
            text = question.prompt_de if language == "de" else question.prompt_en
            assert text.split("$")[0][:15].encode() in page.content.replace(b"&#x27;", b"'").replace(b"&quot;", b'"')
