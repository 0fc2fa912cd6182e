import reversion
from django.conf import settings
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


class CourseDraft(models.Model):
    """A course's unpublished changes, as its whole set of content files: editing writes here,
    never to the live tables, so learners see only what was published. `version` goes up with
    every save; a save based on an older one is refused (two editors never overwrite each other)."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="draft")
    files = models.JSONField(_("files"), help_text=_("Relative path → text, in the content files' format."))
    base_digest = models.CharField(
        _("base digest"), max_length=64, help_text=_("SHA-256 of the published files the draft was started from.")
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("changed by")
    )
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("course draft")
        verbose_name_plural = _("course drafts")

    def __str__(self) -> str:
        return f"{self.course_id} draft v{self.version}"

    @property
    def token(self) -> str:
        """What a form based on this draft carries: a new draft never takes an old one's token."""
        return f"{self.pk}.{self.version}"


@reversion.register(fields=["files", "published_by", "published_at"])
class CoursePublication(models.Model):
    """The course's files as last published; django-reversion keeps every earlier publication
    (with who and when), which the history pages compare and restore from."""

    course = models.OneToOneField(Course, on_delete=models.CASCADE, related_name="publication")
    files = models.JSONField(_("files"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("published by")
    )
    published_at = models.DateTimeField(_("published at"))

    class Meta:
        verbose_name = _("course publication")
        verbose_name_plural = _("course publications")

    def __str__(self) -> str:
        return f"{self.course_id} published {self.published_at:%Y-%m-%d %H:%M}"
