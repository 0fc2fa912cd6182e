from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoursesConfig(AppConfig):
    name = "courses"
    verbose_name = _("Courses")

    def ready(self) -> None:
        from courses import stamp
        from courses.models import Course, Fact, FactSource, Lesson, Source

        # What the lesson page's cached fragment shows (courses/templates/courses/lesson_detail.html).
        stamp.connect([Course, Lesson, Fact, Source, FactSource])
