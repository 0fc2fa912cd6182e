import pytest

from authoring.bundles import content_load
from quizzes.models import Quiz
from tests.quizzes.quiz_files import write_quiz_course


@pytest.fixture
def quiz_course(db, tmp_path):
    """The small test course with a question of every type, a fixed quiz and a pool quiz."""
    content_load(path=write_quiz_course(tmp_path))
    return Quiz.objects.get(key="test-first").course


@pytest.fixture
def quiz(quiz_course) -> Quiz:
    return Quiz.objects.get(key="test-first")


@pytest.fixture
def pool_quiz(quiz_course) -> Quiz:
    return Quiz.objects.get(key="test-pool")
