"""Writes of the campus app: accounts from launches, and LMS courses linked to Gradlab courses."""

import datetime as dt
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from lti_tool.models import LtiLaunch, LtiUser
from lti_tool.utils import sync_data_from_launch

from accounts.models import User
from campus.launches import LTI, LaunchRefused
from campus.models import CourseContext
from campus.targets import Target


def _language(claims: dict) -> str:
    presentation = claims.get(LTI + "launch_presentation")
    locale = presentation.get("locale", "") if isinstance(presentation, dict) else ""
    language = str(locale).split("-")[0].split("_")[0].lower()
    return language if language in dict(settings.LANGUAGES) else ""


def _new_learner(*, language: str) -> User:
    # The platform's name and e-mail claims are unverified: the account takes neither, and no password.
    user = User(username=f"lti-{secrets.token_hex(6)}", language=language)
    user.set_unusable_password()
    user.save()
    return user


def learner_for(*, lti_user: LtiUser, language: str = "") -> User:
    """The Gradlab account of a platform user, found by issuer and subject only, made on the first launch.

    django-lti keeps one LtiUser per registration; two registrations of one issuer name the
    same person by the same subject, so a second one finds the account of the first.
    """
    lti_user = (
        LtiUser.objects.select_for_update(of=("self",)).select_related("registration", "auth_user").get(pk=lti_user.pk)
    )
    if lti_user.auth_user is None:
        twin = (
            LtiUser.objects.filter(
                registration__issuer=lti_user.registration.issuer, sub=lti_user.sub, auth_user__isnull=False
            )
            .select_related("auth_user")
            .first()
        )
        lti_user.auth_user = twin.auth_user if twin else _new_learner(language=language)
        lti_user.save(update_fields=["auth_user", "datetime_modified"])
    return lti_user.auth_user


@transaction.atomic
def launch_accept(*, launch: LtiLaunch, target: Target, now: dt.datetime) -> User:
    """Store what a validated launch says (django-lti's rows), and the account it signs in.

    Grants nothing: no role in any course, whatever roles the platform claims. The LMS course
    is recorded against the Gradlab course it launched into, for that course's owners to link.
    """
    sync_data_from_launch(launch)
    user = learner_for(lti_user=launch.user, language=_language(launch.get_launch_data()))
    if not user.is_active:
        transaction.set_rollback(True)
        raise LaunchRefused("account_inactive")
    if target.course is not None and launch.context_claim is not None:
        row, created = CourseContext.objects.get_or_create(
            context=launch.context,
            course=target.course,
            defaults={"first_launch_at": now, "last_launch_at": now},
        )
        if not created:
            CourseContext.objects.filter(pk=row.pk).update(last_launch_at=now)
    return user


@transaction.atomic
def course_context_link(*, row: CourseContext, by: User, now: dt.datetime) -> CourseContext:
    """Link an LMS course to the Gradlab course it launched into; it may be linked to one course only."""
    row = CourseContext.objects.select_for_update().get(pk=row.pk)
    if row.is_linked:
        return row
    if CourseContext.objects.filter(context=row.context, linked_at__isnull=False).exists():
        raise ValidationError(_("This LMS course is already linked to another Gradlab course: unlink it there first."))
    row.linked_at, row.linked_by = now, by
    try:
        with transaction.atomic():
            row.save(update_fields=["linked_at", "linked_by"])
    except IntegrityError as taken:  # linked elsewhere at the same moment
        raise ValidationError(
            _("This LMS course is already linked to another Gradlab course: unlink it there first.")
        ) from taken
    return row


@transaction.atomic
def course_context_unlink(*, row: CourseContext) -> CourseContext:
    CourseContext.objects.filter(pk=row.pk).update(linked_at=None, linked_by=None)
    row.refresh_from_db()
    return row
