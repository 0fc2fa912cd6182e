import pytest

from authoring.bundles import content_load
from cards.models import Card
from courses.models import Course
from tests.cards.card_files import write_card_course
from tests.conftest import make_staff


@pytest.fixture
def card_course(db, tmp_path) -> Course:
    """The small test course with five cards from three notes."""
    content_load(path=write_card_course(tmp_path))
    return Course.objects.get(key="test-course")


@pytest.fixture
def cards(card_course) -> list[Card]:
    return list(Card.objects.filter(note__course=card_course).order_by("note__position", "ordinal"))


@pytest.fixture
def instructor(instructor, request):
    """Ines also owns the small card course, in the tests that load it."""
    if "card_course" in request.fixturenames:
        make_staff(instructor, request.getfixturevalue("card_course"))
    return instructor
