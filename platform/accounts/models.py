from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

INSTRUCTORS_GROUP = "Instructors"


class User(AbstractUser):
    """Every account is a learner; instructors are in the Instructors group."""

    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)

    @property
    def is_instructor(self) -> bool:
        return self.is_superuser or self.groups.filter(name=INSTRUCTORS_GROUP).exists()
