import pytest

from tests.conftest import make_staff
from tests.quizzes.conftest import pool_quiz, quiz, quiz_course  # noqa: F401 - the same small course


@pytest.fixture
def instructor(instructor, request):
    """Ines also owns the small quiz course, in the tests that load it."""
    if "quiz_course" in request.fixturenames:
        make_staff(instructor, request.getfixturevalue("quiz_course"))
    return instructor
