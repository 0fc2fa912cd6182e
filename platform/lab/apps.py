from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = _("Lab")

    def ready(self) -> None:
        from courses import panels as page_panels
        from lab import content, panels

        content.register()  # prediction questions, read with the quizzes' questions
        page_panels.register(page_panels.Panel(page_panels.LESSON, "lab/panels/lesson.html", panels.lesson_panel, 10))
