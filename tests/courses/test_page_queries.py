"""The course and lesson pages' queries, pinned: a query per row (or per panel) that creeps
back in shows here first. Counted for a learner with progress, the costly case."""

import pytest

from cards.services import deck_add
from courses.models import Lesson
from courses.services import lesson_progress_set
from quizzes.models import Quiz
from quizzes.services import attempt_finish, attempt_start

pytestmark = pytest.mark.django_db

# session, user, the learner's groups (the header), the page's own
LESSON_QUERIES = 9  # the article (lesson text, facts, sources) from the fragment cache, by the content stamp
LESSON_QUERIES_COLD = 11  # the stamp; the facts and their sources once; the lab panel's fact numbers
COURSE_QUERIES = 14


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


def test_the_course_page_makes_a_fixed_number_of_queries(client, course, progressed, django_assert_num_queries):
    url = course.get_absolute_url()
    with django_assert_num_queries(COURSE_QUERIES):
        response = client.get(url)

    assert response.status_code == 200
    assert response.text.count('class="lesson-item') == len(progressed)  # every lesson, one query for all
