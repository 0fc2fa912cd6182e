from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from courses.rendering import RenderedContent, RenderedQuerySet, html_field, per_language, sources_per_language
from courses.stamp import StampedQuerySet
from courses.translation import Translated, TranslatedHTML


class ContentStamp(models.Model):
    """One row: the content stamp's token (courses.stamp)."""

    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return self.token


class LiveQuerySet(StampedQuerySet):
    def live(self):
        return self.filter(retired_at__isnull=True)


class LiveRenderedQuerySet(LiveQuerySet, RenderedQuerySet):
    """Live rows of a model with stored HTML: bulk writes render it (courses.rendering)."""


class TitledContent(models.Model):
    """What courses and lessons share: a bilingual title and summary, and retirement."""

    title_de = models.CharField(_("title (German)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    summary_de = models.TextField(_("summary (German)"))
    summary_en = models.TextField(_("summary (English)"))
    retired_at = models.DateTimeField(
        _("retired at"), null=True, blank=True, help_text=_("Set when it left the content files.")
    )

    title = Translated()
    summary = Translated()

    objects = LiveQuerySet.as_manager()

    class Meta:
        abstract = True


class Course(TitledContent):
    key = models.SlugField(_("key"), unique=True)

    class Meta:
        ordering = ["key"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")

    def __str__(self) -> str:
        return self.title_en

    def get_absolute_url(self) -> str:
        return reverse("courses:course", kwargs={"course": self.key})


class Source(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="sources")
    key = models.SlugField(_("key"))
    position = models.PositiveIntegerField(_("position"), default=0)
    authors = models.CharField(_("authors"), max_length=500)
    year = models.PositiveSmallIntegerField(_("year"))
    title = models.CharField(_("title"), max_length=500)
    venue = models.CharField(_("venue"), max_length=500)
    url = models.URLField(_("URL"), max_length=500, blank=True)

    objects = StampedQuerySet.as_manager()

    class Meta:
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "key"], name="source_key_unique_in_course")]
        verbose_name = _("source")
        verbose_name_plural = _("sources")

    def __str__(self) -> str:
        return f"{self.authors} ({self.year}): {self.title}"


class Lesson(RenderedContent, TitledContent):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    key = models.SlugField(_("key"))
    position = models.PositiveIntegerField(_("position"), default=0)
    body_de = models.TextField(_("text (German, Markdown)"))
    body_en = models.TextField(_("text (English, Markdown)"))

    body_html_de = html_field(_("text (German, HTML)"))
    body_html_en = html_field(_("text (English, HTML)"))

    body = Translated()
    body_html = TranslatedHTML()

    objects = LiveRenderedQuerySet.as_manager()

    RENDERED = sources_per_language("body")

    class Meta:
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "key"], name="lesson_key_unique_in_course")]
        verbose_name = _("lesson")
        verbose_name_plural = _("lessons")

    def __str__(self) -> str:
        return f"{self.course.key}/{self.key}"

    def get_absolute_url(self) -> str:
        return reverse("courses:lesson", kwargs={"course": self.course.key, "lesson": self.key})

    @staticmethod
    def render_html(row) -> dict[str, str]:
        return per_language(row, "body")


class Fact(RenderedContent):
    class Status(models.TextChoices):
        VERIFIED = "verified", _("verified")
        SIMPLIFIED = "simplified", _("simplified")
        CONTESTED = "contested", _("contested")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="facts")
    lesson = models.ForeignKey(Lesson, on_delete=models.PROTECT, related_name="facts")
    key = models.SlugField(_("key"))
    number = models.PositiveSmallIntegerField(_("number in the source article"))
    position = models.PositiveIntegerField(_("position in the lesson"), default=0)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices)
    statement_de = models.TextField(_("statement (German)"))
    statement_en = models.TextField(_("statement (English)"))
    explanation_de = models.TextField(_("explanation (German, Markdown)"))
    explanation_en = models.TextField(_("explanation (English, Markdown)"))
    note_de = models.TextField(_("instructor's note (German)"), blank=True)
    note_en = models.TextField(_("instructor's note (English)"), blank=True)
    sources = models.ManyToManyField(Source, through="FactSource", related_name="facts")
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    statement_html_de = html_field(_("statement (German, HTML)"))
    statement_html_en = html_field(_("statement (English, HTML)"))
    explanation_html_de = html_field(_("explanation (German, HTML)"))
    explanation_html_en = html_field(_("explanation (English, HTML)"))
    note_html_de = html_field(_("instructor's note (German, HTML)"))
    note_html_en = html_field(_("instructor's note (English, HTML)"))

    statement = Translated()
    explanation = Translated()
    note = Translated()
    statement_html = TranslatedHTML()
    explanation_html = TranslatedHTML()
    note_html = TranslatedHTML()

    objects = LiveRenderedQuerySet.as_manager()

    RENDERED = sources_per_language("statement", "explanation", "note")

    class Meta:
        ordering = ["course", "lesson__position", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "key"], name="fact_key_unique_in_course")]
        verbose_name = _("fact")
        verbose_name_plural = _("facts")

    def __str__(self) -> str:
        return f"{self.course.key}/{self.key}"

    @staticmethod
    def render_html(row) -> dict[str, str]:
        return per_language(row, "statement") | per_language(row, "explanation") | per_language(row, "note")


class FactSource(models.Model):
    fact = models.ForeignKey(Fact, on_delete=models.CASCADE)
    source = models.ForeignKey(Source, on_delete=models.CASCADE)
    position = models.PositiveIntegerField(default=0)

    objects = StampedQuerySet.as_manager()

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["fact", "source"], name="fact_source_unique")]

    def __str__(self) -> str:
        return f"{self.fact_id} cites {self.source_id}"


class LessonProgress(models.Model):
    """A learner marked a lesson as done."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lesson_progress")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="progress")
    completed_at = models.DateTimeField(_("completed at"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "lesson"], name="lesson_progress_once")]
        verbose_name = _("lesson progress")
        verbose_name_plural = _("lesson progress")

    def __str__(self) -> str:
        return f"{self.user_id} finished {self.lesson_id}"


class CourseStaff(models.Model):
    """Who authors a course: owners change its staff, editors its content."""

    class Role(models.TextChoices):
        OWNER = "owner", _("owner")
        EDITOR = "editor", _("editor")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="staff")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="course_roles")
    role = models.CharField(_("role"), max_length=8, choices=Role.choices)
    added_at = models.DateTimeField(_("added at"))

    class Meta:
        ordering = ["course", "-role", "user__username"]
        constraints = [models.UniqueConstraint(fields=["course", "user"], name="course_staff_once")]
        verbose_name = _("course staff member")
        verbose_name_plural = _("course staff")

    def __str__(self) -> str:
        return f"{self.user_id} {self.role} of {self.course_id}"
