"""The flashcards' panel on the course page (registered in CardsConfig.ready)."""

from cards.models import Card
from courses import stamp


def course_panel(*, request, course, content_stamp="", **_) -> dict | None:
    count = stamp.cached(
        content_stamp,
        f"course-card-count:{course.id}",
        lambda: Card.objects.live().filter(note__course=course, note__retired_at__isnull=True).count(),
    )
    if not count:
        return None
    signed_in = request.user.is_authenticated
    return {"card_count": count, "in_deck": signed_in and request.user.card_decks.filter(course=course).exists()}
