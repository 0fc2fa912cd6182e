from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CardsConfig(AppConfig):
    name = "cards"
    verbose_name = _("Flashcards")

    def ready(self) -> None:
        from cards import content, panels, services
        from cards.models import Card, Note
        from courses import panels as page_panels
        from courses import stamp

        # What the course page's panel reads from the content cache (cards/panels.py).
        stamp.connect([Card, Note])
        from courses.content import parts

        parts.register(
            parts.ContentPart(
                name="cards",
                read=content.content_read,
                files=content.content_files,
                load=services.card_content_load,
                attach=content.attach_card_content,
                lesson_files=(content.CARDS_FILE,),
                tags=lambda: content.CARD_TYPES,
            )
        )
        page_panels.register(page_panels.Panel(page_panels.COURSE, "cards/panels/course.html", panels.course_panel, 10))
