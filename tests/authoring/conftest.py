import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.services import user_make_instructor
from courses.services import course_create
from tests.conftest import PASSWORD, make_staff
from tests.factories import UserFactory
from tests.quizzes.conftest import pool_quiz, quiz, quiz_course  # noqa: F401 - the same small course


@pytest.fixture
def instructor(instructor, request):
    """Ines also owns the small quiz course, in the tests that load it."""
    if "quiz_course" in request.fixturenames:
        make_staff(instructor, request.getfixturevalue("quiz_course"))
    return instructor


# The cast of the access tests: who may open which course's pages and admin rows.


@pytest.fixture
def olga(course):
    """Olga owns the first course."""
    return make_staff(user_make_instructor(user=UserFactory(username="olga")), course, "owner")


@pytest.fixture
def emil(course):
    """Emil edits the first course, and no other."""
    return make_staff(user_make_instructor(user=UserFactory(username="emil")), course, "editor")


@pytest.fixture
def bruno(db):
    """Bruno owns a course of his own (bruno-course), and is an instructor like Emil."""
    bruno = user_make_instructor(user=UserFactory(username="bruno"))
    course_create(
        key="bruno-course",
        title_de="Brunos Kurs",
        title_en="Bruno's course",
        summary_de="Kurz.",
        summary_en="Short.",
        owner=bruno,
        now=timezone.now(),
    )
    return bruno


@pytest.fixture
def ada(db):
    """Ada, an admin: a superuser, on no course's staff."""
    return get_user_model().objects.create_superuser("ada", "ada@example.com", PASSWORD)
