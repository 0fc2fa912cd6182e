import os

import pytest
from django.conf import settings

from accounts.services import user_make_instructor
from courses.models import Course
from courses.services import content_load
from tests.factories import UserFactory

PASSWORD = "correct horse battery staple"
COURSE = "vanishing-gradient"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The real first course, loaded once. Tests run in transactions that roll back."""
    with django_db_blocker.unblock():
        content_load(path=settings.CONTENT_DIR)


@pytest.fixture
def course(db) -> Course:
    return Course.objects.get(key=COURSE)


@pytest.fixture
def learner(db):
    """Lena, a learner who signed up last week."""
    return UserFactory(username="lena", language="en")


@pytest.fixture
def other_learner(db):
    """Luis, another learner: his progress is his own."""
    return UserFactory(username="luis")


@pytest.fixture
def instructor(db):
    """Ines, who writes and corrects the course."""
    return user_make_instructor(user=UserFactory(username="ines"))


def skip_unless_available(reason: str) -> None:
    """Skip on a developer's machine that lacks a service or tool; in CI, fail instead."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)
