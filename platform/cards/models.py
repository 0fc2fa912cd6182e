from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cards.rendering import note_html
from courses.models import Course, Fact, Lesson, LiveQuerySet, LiveRenderedQuerySet
from courses.rendering import RenderedContent, html_field, sources_per_language
from courses.translation import LANGUAGE_CODES, Translated, TranslatedHTML


class Note(RenderedContent):
    """A card entry of the content files; it yields one card, two (reversed) or one per cloze gap."""

    class Type(models.TextChoices):
        BASIC = "basic", _("Basic")
        REVERSED = "reversed", _("Basic and reversed")
        CLOZE = "cloze", _("Cloze")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="card_notes")
    lesson = models.ForeignKey(Lesson, on_delete=models.CASCADE, related_name="card_notes")
    fact = models.ForeignKey(Fact, on_delete=models.CASCADE, related_name="card_notes")
    key = models.SlugField(_("key"))
    type = models.CharField(_("type"), max_length=10, choices=Type.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    front_de = models.TextField(_("front (German)"), blank=True)
    front_en = models.TextField(_("front (English)"), blank=True)
    back_de = models.TextField(_("back (German)"), blank=True)
    back_en = models.TextField(_("back (English)"), blank=True)
    text_de = models.TextField(_("cloze text (German)"), blank=True)
    text_en = models.TextField(_("cloze text (English)"), blank=True)
    extra_de = models.TextField(_("extra (German)"), blank=True)
    extra_en = models.TextField(_("extra (English)"), blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    extra_html_de = html_field(_("extra (German, HTML)"))
    extra_html_en = html_field(_("extra (English, HTML)"))
    sides_html = models.JSONField(_("the cards' sides, as HTML"), default=dict, blank=True, editable=False)

    front = Translated()
    back = Translated()
    text = Translated()
    extra = Translated()
    extra_html = TranslatedHTML()

    objects = LiveRenderedQuerySet.as_manager()

    RENDERED = sources_per_language("extra") | {
        "sides_html": ("type", *(f"{name}_{code}" for name in ("front", "back", "text") for code in LANGUAGE_CODES))
    }
    render_html = staticmethod(note_html)

    class Meta:
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "key"], name="card_note_key_unique_in_course")]
        verbose_name = _("card note")
        verbose_name_plural = _("card notes")

    def __str__(self) -> str:
        return f"{self.course.key}/{self.key}"


class Card(models.Model):
    """One thing to remember: a note's front or back side, or one of its cloze gaps."""

    note = models.ForeignKey(Note, on_delete=models.CASCADE, related_name="cards")
    ordinal = models.PositiveSmallIntegerField(_("card of the note"), default=0)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["note", "ordinal"]
        constraints = [models.UniqueConstraint(fields=["note", "ordinal"], name="card_ordinal_once")]
        verbose_name = _("card")
        verbose_name_plural = _("cards")

    def __str__(self) -> str:
        return f"{self.note} #{self.ordinal}"


class Deck(models.Model):
    """A course a learner reviews: adding it makes its cards come, a few new ones a day."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="card_decks")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="card_decks")
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "course"], name="deck_once_per_course")]

    def __str__(self) -> str:
        return f"{self.user} · {self.course.key}"


class ReviewSettings(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_settings")
    desired_retention = models.FloatField(
        _("desired retention"),
        default=0.9,
        validators=[MinValueValidator(0.7), MaxValueValidator(0.97)],
        help_text=_("How likely you should still remember a card when it comes back (0.70 to 0.97)."),
    )
    new_per_day = models.PositiveSmallIntegerField(
        _("new cards per day"), default=20, validators=[MaxValueValidator(500)]
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="UTC")

    def __str__(self) -> str:
        return f"{self.user}: {self.desired_retention:.2f}, {self.new_per_day}/day, {self.time_zone}"


class LearnerCard(models.Model):
    """A learner's FSRS state for one card, as py-fsrs keeps it. All times in UTC."""

    class State(models.IntegerChoices):
        LEARNING = 1, pgettext_lazy("card state", "Learning")
        REVIEW = 2, pgettext_lazy("card state", "Review")
        RELEARNING = 3, pgettext_lazy("card state", "Relearning")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="learner_cards")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="learner_cards")
    state = models.PositiveSmallIntegerField(_("state"), choices=State.choices, default=State.LEARNING)
    step = models.PositiveSmallIntegerField(_("learning step"), null=True, blank=True)
    stability = models.FloatField(_("stability"), null=True, blank=True)
    difficulty = models.FloatField(_("difficulty"), null=True, blank=True)
    due = models.DateTimeField(_("due"))
    last_review = models.DateTimeField(_("last review"), null=True, blank=True)
    introduced_at = models.DateTimeField(_("introduced at"), help_text=_("When the card was first shown."))
    version = models.PositiveIntegerField(
        _("version"), default=0, help_text=_("Counts ratings; guards double ratings.")
    )
    active = models.BooleanField(
        _("active"), default=True, help_text=_("In one of the learner's decks and not retired: it comes up for review.")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "card"], name="learner_card_once")]
        indexes = [
            models.Index(fields=["user", "active", "due"], name="learner_card_due"),
            models.Index(fields=["user", "active", "introduced_at"], name="learner_card_introduced"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.card} · due {self.due:%Y-%m-%d %H:%M}"


class ReviewLog(models.Model):
    """One rating, with the state before it, so that undo restores exactly what was."""

    class Rating(models.IntegerChoices):
        AGAIN = 1, _("Again")
        HARD = 2, _("Hard")
        GOOD = 3, _("Good")
        EASY = 4, _("Easy")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_logs")
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="review_logs")
    rating = models.PositiveSmallIntegerField(_("rating"), choices=Rating.choices)
    reviewed_at = models.DateTimeField(_("reviewed at"))
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    state_before = models.PositiveSmallIntegerField(_("state before"))
    before = models.JSONField(_("FSRS state before"), null=True, help_text=_("Empty for a card seen the first time."))

    class Meta:
        ordering = ["-reviewed_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-reviewed_at"], name="review_log_user_time"),
            models.Index(fields=["card", "user"], name="review_log_card_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.card} · {self.rating} at {self.reviewed_at:%Y-%m-%d %H:%M}"
