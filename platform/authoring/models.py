from django.db import models
from django.utils.translation import gettext_lazy as _

from courses.models import Course


class CourseImport(models.Model):
    """What the last import of a course wrote, as its content files: the next import compares
    the database with it, so an edit made since (in the admin, a shell, anything) is never
    overwritten silently."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="last_import")
    files = models.JSONField(_("files"), help_text=_("Relative path → text, as dump_content writes them."))
    digest = models.CharField(_("digest"), max_length=64, help_text=_("SHA-256 of the files."))
    origin = models.CharField(_("origin"), max_length=500, blank=True)
    imported_at = models.DateTimeField(_("imported at"))

    class Meta:
        verbose_name = _("course import")
        verbose_name_plural = _("course imports")

    def __str__(self) -> str:
        return f"{self.course_id} imported {self.imported_at:%Y-%m-%d %H:%M}"
