"""The course and lesson pages' queries, pinned: a query per row (or per panel) that creeps
back in shows here first. Counted for a learner with progress, the costly case."""

import re

import pytest

from cards.services import deck_add
from courses.models import Lesson
from courses.services import lesson_progress_set
from quizzes.models import Quiz
from quizzes.services import attempt_finish, attempt_start

pytestmark = pytest.mark.django_db


# The content stamp, the session, the user, the learner's groups (the header), then the
# learner's own state: whether the lesson is done. Everything else is content, read once per
# content stamp and process (courses/stamp.py: the article, the lesson, its neighbours, the panels').
LESSON_QUERIES = 5
LESSON_QUERIES_COLD = 11  # the lesson, its neighbours, its facts and their sources, the fact numbers, its quiz
# ... and on the course page: the lessons done, the quizzes' best scores, the latest answers, the deck.
COURSE_QUERIES = 8
COURSE_QUERIES_COLD = 14  # the course, its lessons, the card count, the quizzes, the facts, the questions' facts


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.fixture
def progressed(client, learner, course):
    lessons = list(Lesson.objects.filter(course=course).order_by("position"))
    for lesson in lessons[:2]:
        lesson_progress_set(user=learner, lesson=lesson, done=True)
    deck_add(user=learner, course=course)
    attempt_finish(attempt=attempt_start(user=learner, quiz=Quiz.objects.filter(course=course).first(), mode="test"))
    client.force_login(learner)
    return lessons


def test_the_lesson_page_makes_a_fixed_number_of_queries(client, progressed, django_assert_num_queries):
    lesson = progressed[2]
    assert lesson.facts.count() > 1  # facts with sources: a query per fact would show
    url = lesson.get_absolute_url()

    with django_assert_num_queries(LESSON_QUERIES_COLD):
        cold = client.get(url)
    with django_assert_num_queries(LESSON_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert response.text.count('class="fact ') == cold.text.count('class="fact ') == lesson.facts.count()
    assert without_csrf_tokens(response.text) == without_csrf_tokens(cold.text)


def test_the_course_page_makes_a_fixed_number_of_queries(client, course, progressed, django_assert_num_queries):
    url = course.get_absolute_url()
    with django_assert_num_queries(COURSE_QUERIES_COLD):
        cold = client.get(url)
    with django_assert_num_queries(COURSE_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert response.text.count('class="lesson-item') == len(progressed)  # every lesson, one query for all
    assert without_csrf_tokens(response.text) == without_csrf_tokens(cold.text)  # the cached content is the same
