from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.confusables import skeleton_digest

INSTRUCTORS_GROUP = "Instructors"


class User(AbstractUser):
    """Every account is a learner; instructors are in the Instructors group."""

    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    # The username's confusable skeleton (UTS #39), as a digest: unique, so "аlice" with a
    # Cyrillic а cannot sit beside "alice" and pass for her.
    username_skeleton = models.CharField(_("username skeleton"), max_length=64, unique=True, editable=False)
    # False from signup until the address is shown to be the learner's (the link in the
    # welcome e-mail, or a password reset); the account cannot log in until then.
    email_confirmed = models.BooleanField(_("e-mail address confirmed"), default=True)

    @property
    def is_instructor(self) -> bool:
        return self.is_superuser or self.groups.filter(name=INSTRUCTORS_GROUP).exists()

    @property
    def is_pending(self) -> bool:
        return not self.email_confirmed

    def clean(self) -> None:
        super().clean()
        self.username_skeleton = skeleton_digest(self.username or "")
        others = User.objects.exclude(pk=self.pk).filter(username_skeleton=self.username_skeleton)
        if self.username and others.exists():
            raise ValidationError(
                {"username": _("This username looks too much like an existing one. Please choose another.")},
                code="confusable",
            )

    def save(self, *args, **kwargs) -> None:
        # Every way an account is created (signup, the admin, createsuperuser, the shell)
        # sets the skeleton, so the unique constraint guards them all; forms set it in clean().
        update_fields = kwargs.get("update_fields")
        if self._state.adding or (update_fields is not None and "username" in update_fields):
            self.username_skeleton = skeleton_digest(self.username)
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)
