from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LabConfig(AppConfig):
    name = "lab"
    verbose_name = _("Lab")

    def ready(self) -> None:
        from lab import content

        content.register()  # prediction questions, read with the quizzes' questions
