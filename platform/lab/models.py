"""Experiment runs and their events: the database is the source of truth for every run."""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sandbox.spec import RECURRENT


class ExperimentRun(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        TIMED_OUT = "timed_out", _("timed out")
        CANCELLED = "cancelled", _("cancelled")

    class Kind(models.TextChoices):
        SPEC = "spec", _("experiment")
        CODE = "code", _("own code")

    ACTIVE = (Status.QUEUED, Status.RUNNING)
    MAX_NAME_LENGTH = 80

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="experiment_runs")
    name = models.CharField(_("name"), max_length=MAX_NAME_LENGTH, blank=True)
    # Set when the run was started from a course (a lesson's "try it"): its instructors may see it.
    course = models.ForeignKey("courses.Course", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.SPEC)
    preset = models.CharField(_("preset"), max_length=64, blank=True)
    spec = models.JSONField(_("spec"))
    code = models.TextField(_("code"), blank=True)
    language = models.CharField(_("language"), max_length=8, default="en")
    queue = models.CharField(_("queue"), max_length=8, default="cpu")
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.QUEUED)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # The worker writes a heartbeat while the run is running; the reaper ends runs whose worker went silent.
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True)
    worker = models.CharField(_("worker"), max_length=200, blank=True)
    cancel_requested_at = models.DateTimeField(_("cancel requested"), null=True, blank=True)
    limit_s = models.FloatField(_("time limit in seconds"))
    used_s = models.FloatField(_("compute seconds used"), default=0)
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    error_line = models.PositiveIntegerField(_("line of the error"), null=True, blank=True)
    log = models.TextField(_("output of the code"), blank=True)
    retry_of = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="retries")
    # A run its owner deleted: what it showed is gone, the row stays, so that the compute
    # time it used still counts against the day's budget (lab.selectors.compute_used_today).
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)

    class Meta:
        verbose_name = _("experiment run")
        verbose_name_plural = _("experiment runs")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "queue", "created_at"], name="lab_run_queue"),
            models.Index(fields=["owner", "status"], name="lab_run_owner_status"),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} ({self.status})"

    def get_absolute_url(self) -> str:
        return reverse("lab:run", kwargs={"run_id": self.pk})

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

    @property
    def is_final(self) -> bool:
        return not self.is_active

    @property
    def recurrent(self) -> bool:
        return self.spec.get("model", {}).get("arch") in RECURRENT


class CodeDraft(models.Model):
    """What a learner last had in the code editor for one template: the editor opens it
    again after an error, Back or a reload, until they reset it to the template."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="code_drafts")
    template = models.CharField(_("template"), max_length=16)
    code = models.TextField(_("code"))
    updated_at = models.DateTimeField(_("saved"), auto_now=True)

    class Meta:
        verbose_name = _("code draft")
        verbose_name_plural = _("code drafts")
        constraints = [models.UniqueConstraint(fields=["owner", "template"], name="lab_draft_one_per_template")]

    def __str__(self) -> str:
        return f"{self.owner_id}/{self.template}"


class RunEvent(models.Model):
    """One step of a run's story, in order: what the page replays and the stream sends."""

    class Kind(models.TextChoices):
        QUEUED = "queued", _("queued")
        STARTED = "started", _("started")
        PROGRESS = "progress", _("progress")
        FINISHED = "finished", _("finished")

    run = models.ForeignKey(ExperimentRun, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField(_("sequence number"))
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    data = models.JSONField(_("data"), default=dict)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("run event")
        verbose_name_plural = _("run events")
        ordering = ["run", "seq"]
        constraints = [models.UniqueConstraint(fields=["run", "seq"], name="lab_event_seq_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}#{self.seq} {self.kind}"


class RunPlot(models.Model):
    """A final plot, drawn by the worker from the validated numbers."""

    run = models.ForeignKey(ExperimentRun, on_delete=models.CASCADE, related_name="plots")
    name = models.CharField(_("name"), max_length=32)
    svg = models.TextField(_("SVG"))

    class Meta:
        verbose_name = _("plot")
        verbose_name_plural = _("plots")
        ordering = ["run", "id"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="lab_plot_name_unique")]

    def __str__(self) -> str:
        return f"{self.run_id}/{self.name}"


class Prediction(models.Model):
    """A learner's prediction for a prediction question, graded by the run it started."""

    run = models.OneToOneField(ExperimentRun, on_delete=models.CASCADE, related_name="prediction")
    question = models.ForeignKey("quizzes.Question", on_delete=models.CASCADE, related_name="predictions")
    value = models.FloatField(_("predicted value"))
    measured = models.FloatField(_("measured value"), null=True, blank=True)
    correct = models.BooleanField(_("correct"), null=True, blank=True)
    graded_at = models.DateTimeField(_("graded"), null=True, blank=True)

    class Meta:
        verbose_name = _("prediction")
        verbose_name_plural = _("predictions")

    def __str__(self) -> str:
        return f"{self.question_id}: {self.value:g} (run {self.run_id})"


class ServiceHeartbeat(models.Model):
    """The last sign of life of one process the lab needs: a worker stamps "worker" from a
    timer and "sandbox" after its sandbox service answered a ping; the reaper, queued by the
    beat, stamps "scheduler" each time it runs. Read by lab.selectors.services_alive."""

    class Name(models.TextChoices):
        WORKER = "worker", _("worker")
        SANDBOX = "sandbox", _("sandbox service")
        SCHEDULER = "scheduler", _("scheduler")

    name = models.CharField(_("name"), max_length=16, choices=Name.choices)
    # Which process: host/pid of the worker that wrote it.
    where = models.CharField(_("where"), max_length=200)
    seen_at = models.DateTimeField(_("seen at"), db_index=True)
    # The sandbox's missing layers, each {"layer", "why"}, as its ping answered.
    missing = models.JSONField(_("missing layers"), default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["name", "where"], name="lab_heartbeat_one_per_process")]

    def __str__(self) -> str:
        return f"{self.name} {self.where} {self.seen_at:%H:%M:%S}"
