from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from courses.models import Course, Fact, Lesson, LiveQuerySet, LiveRenderedQuerySet
from courses.rendering import RenderedContent, html_field, sources_per_language
from courses.translation import Translated, TranslatedHTML
from quizzes.rendering import question_html


class Question(RenderedContent):
    """One question of a course's bank; what differs by type lives in `data` (see grading.py)."""

    class Type(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        TRUE_FALSE = "true_false", _("True or false")
        SHORT = "short", _("Short answer")
        NUMERIC = "numeric", _("Number")
        ORDERING = "ordering", _("Ordering")
        MATCHING = "matching", _("Matching")
        PREDICTION = "prediction", _("Prediction, checked by an experiment")

    # Predictions are answered in the lab, where a run grades them; quizzes take the others.
    QUIZ_TYPES = tuple(value for value in Type.values if value != "prediction")

    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions")
    lesson = models.ForeignKey(
        Lesson, on_delete=models.CASCADE, related_name="questions", help_text=_("The lesson whose file holds it.")
    )
    key = models.SlugField(_("key"))
    type = models.CharField(_("type"), max_length=20, choices=Type.choices)
    position = models.PositiveIntegerField(_("position"), default=0)
    facts = models.ManyToManyField(Fact, through="QuestionFact", related_name="questions", verbose_name=_("facts"))
    prompt_de = models.TextField(_("prompt (German)"))
    prompt_en = models.TextField(_("prompt (English)"))
    explanation_de = models.TextField(_("explanation (German)"))
    explanation_en = models.TextField(_("explanation (English)"))
    data = models.JSONField(_("type-specific data"), default=dict)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    prompt_html_de = html_field(_("prompt (German, HTML)"))
    prompt_html_en = html_field(_("prompt (English, HTML)"))
    explanation_html_de = html_field(_("explanation (German, HTML)"))
    explanation_html_en = html_field(_("explanation (English, HTML)"))
    data_html = models.JSONField(_("type-specific texts, as HTML"), default=dict, blank=True, editable=False)

    prompt = Translated()
    explanation = Translated()
    prompt_html = TranslatedHTML()
    explanation_html = TranslatedHTML()

    objects = LiveRenderedQuerySet.as_manager()

    RENDERED = sources_per_language("prompt", "explanation") | {"data_html": ("data", "type", "prompt_de", "prompt_en")}
    render_html = staticmethod(question_html)

    class Meta:
        ordering = ["course", "position"]
        constraints = [models.UniqueConstraint(fields=["course", "key"], name="question_key_unique_in_course")]
        verbose_name = _("question")
        verbose_name_plural = _("questions")

    def __str__(self) -> str:
        return f"{self.course.key}/{self.key}"


class QuestionFact(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE)
    fact = models.ForeignKey(Fact, on_delete=models.CASCADE)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["question", "position"]
        constraints = [models.UniqueConstraint(fields=["question", "fact"], name="question_fact_once")]

    def __str__(self) -> str:
        return f"{self.question} → {self.fact.key}"


class Quiz(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quizzes")
    key = models.SlugField(_("key"), unique=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    lesson = models.ForeignKey(Lesson, on_delete=models.SET_NULL, null=True, blank=True, related_name="quizzes")
    title_de = models.CharField(_("title (German)"), max_length=200)
    title_en = models.CharField(_("title (English)"), max_length=200)
    questions = models.ManyToManyField(Question, through="QuizQuestion", related_name="quizzes")
    pool_size = models.PositiveSmallIntegerField(_("pool size"), null=True, blank=True)
    pool_lessons = models.JSONField(_("pool: lessons"), default=list, blank=True)
    pool_facts = models.JSONField(_("pool: facts"), default=list, blank=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    title = Translated()

    objects = LiveQuerySet.as_manager()

    class Meta:
        ordering = ["course", "position"]
        verbose_name = _("quiz")
        verbose_name_plural = _("quizzes")

    def __str__(self) -> str:
        return self.key

    def get_absolute_url(self) -> str:
        return reverse("quizzes:quiz", kwargs={"quiz": self.key})

    @property
    def is_pool(self) -> bool:
        return self.pool_size is not None


class QuizQuestion(models.Model):
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE)
    question = models.ForeignKey(Question, on_delete=models.CASCADE)
    position = models.PositiveIntegerField()

    class Meta:
        ordering = ["quiz", "position"]
        constraints = [models.UniqueConstraint(fields=["quiz", "question"], name="quiz_question_once")]

    def __str__(self) -> str:
        return f"{self.quiz} #{self.position}: {self.question}"


class Attempt(models.Model):
    """One go at a quiz (or at "what I got wrong"): its questions, drawn and shuffled at the start."""

    class Mode(models.TextChoices):
        PRACTICE = "practice", _("Practice")
        TEST = "test", _("Test")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="quiz_attempts")
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="quiz_attempts")
    quiz = models.ForeignKey(Quiz, on_delete=models.CASCADE, null=True, blank=True, related_name="attempts")
    mode = models.CharField(_("mode"), max_length=10, choices=Mode.choices)
    question_ids = models.JSONField(_("questions, in the order shown"), default=list)
    seed = models.PositiveIntegerField(_("shuffle seed"))
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    score = models.FloatField(_("score"), null=True, blank=True, help_text=_("Points, one per question at most."))

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["user", "quiz", "-started_at"], name="attempt_user_quiz"),
            models.Index(fields=["course", "finished_at"], name="attempt_course_finished"),
        ]
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")

    def __str__(self) -> str:
        return f"{self.user} · {self.quiz or 'review'} · {self.started_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("quizzes:attempt", kwargs={"attempt": self.pk})

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None

    @property
    def percent(self) -> int | None:
        if self.score is None or not self.question_ids:
            return None
        return round(100 * self.score / len(self.question_ids))


class Response(models.Model):
    """An answer to one question in an attempt. Practice keeps every try; a test keeps one."""

    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="responses")
    try_number = models.PositiveSmallIntegerField(_("try"), default=1)
    answer = models.JSONField(_("answer"))
    score = models.FloatField(_("score"))
    correct = models.BooleanField(_("correct"))
    nonce = models.CharField(_("form token"), max_length=40, blank=True)
    answered_at = models.DateTimeField(_("answered at"), auto_now=True, db_index=True)

    class Meta:
        ordering = ["attempt", "question", "try_number"]
        constraints = [
            models.UniqueConstraint(fields=["attempt", "question", "try_number"], name="response_once_per_try"),
            models.UniqueConstraint(
                fields=["attempt", "nonce"], condition=~Q(nonce=""), name="response_nonce_once_per_attempt"
            ),
        ]
        indexes = [models.Index(fields=["question", "try_number"], name="response_question_try")]
        verbose_name = _("response")
        verbose_name_plural = _("responses")

    def __str__(self) -> str:
        return f"{self.attempt_id}/{self.question_id} try {self.try_number}: {self.score:g}"
