"""What Gradlab keeps of LTI launches beyond django-lti's own models (lti_tool).

django-lti holds the platforms (LtiRegistration), their deployments, the tool's keys, and
what launches said: the LMS users (LtiUser, whose `auth_user` is the Gradlab account), their
LMS courses (LtiContext) and placements. This app adds which Gradlab course an LMS course
launched into, and whether one of that course's owners linked the two.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from lti_tool.models import LtiContext

from courses.models import Course


class CourseContext(models.Model):
    """An LMS course (an LTI context) that launched into a Gradlab course; linked by an owner."""

    context = models.ForeignKey(
        LtiContext, on_delete=models.CASCADE, related_name="gradlab_courses", verbose_name=_("LMS course")
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lti_contexts", verbose_name=_("course"))
    first_launch_at = models.DateTimeField(_("first launch"))
    last_launch_at = models.DateTimeField(_("last launch"))
    linked_at = models.DateTimeField(_("linked at"), null=True, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("linked by"),
    )

    class Meta:
        verbose_name = _("LMS course launch")
        verbose_name_plural = _("LMS course launches")
        ordering = ["-last_launch_at"]
        constraints = [
            models.UniqueConstraint(fields=["context", "course"], name="campus_one_row_per_context_and_course"),
            # An LMS course is linked to one Gradlab course at most.
            models.UniqueConstraint(
                fields=["context"], condition=Q(linked_at__isnull=False), name="campus_context_linked_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.context} → {self.course}"

    @property
    def is_linked(self) -> bool:
        return self.linked_at is not None
