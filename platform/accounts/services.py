from urllib.parse import urlencode

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import INSTRUCTORS_GROUP, User
from accounts.roles import ACTIONS, INSTRUCTOR_MODELS
from accounts.tokens import email_confirmation_token


@transaction.atomic
def instructor_group_sync() -> Group:
    group, _ = Group.objects.get_or_create(name=INSTRUCTORS_GROUP)
    wanted = [f"{action}_{model}" for _app, model in INSTRUCTOR_MODELS for action in ACTIONS]
    permissions = Permission.objects.filter(
        content_type__app_label__in={app for app, _model in INSTRUCTOR_MODELS},
        content_type__model__in={model for _app, model in INSTRUCTOR_MODELS},
        codename__in=wanted,
    )
    group.permissions.set(permissions)
    return group


@transaction.atomic
def user_create(*, username: str, password: str, email: str = "", language: str = "", pending: bool = False) -> User:
    """A new account; a pending one can log in once its e-mail address is confirmed."""
    user = User(username=username, email=email, language=language, is_active=not pending, email_confirmed=not pending)
    user.set_password(password)
    user.full_clean(exclude=["password", "username_skeleton"])
    user.save()
    return user


def user_sign_up(*, username: str, email: str, password: str, language: str, site: str, next_url: str) -> None:
    """Sign up with an e-mail address, and answer alike whether it is taken or free.

    A free address gets a pending account and a link to confirm it. A taken one gets no
    second account: its owner is told that someone tried, with a link to reset the
    password. Either way one e-mail goes out and nothing else tells the two apart.
    `site` is the scheme and host the links start with.
    """
    owner = User.objects.filter(email__iexact=email).first()
    if owner is None:
        user = user_create(username=username, email=email, password=password, language=language, pending=True)
        uidb64 = urlsafe_base64_encode(force_bytes(user.pk))
        link = reverse("confirm_email", kwargs={"uidb64": uidb64, "token": email_confirmation_token.make_token(user)})
        query = f"?{urlencode({'next': next_url})}" if next_url != "/" else ""
        _send(user, "confirm", {"user": user, "link": f"{site}{link}{query}"})
        return
    make_password(password)  # the same work as for a new account: the answer takes as long
    _send(owner, "taken", {"user": owner, "link": f"{site}{reverse('password_reset')}"})


def _send(user: User, kind: str, context: dict) -> None:
    with translation.override(user.language or translation.get_language()):
        subject = render_to_string(f"accounts/email/{kind}_subject.txt", context).strip()
        body = render_to_string(f"accounts/email/{kind}_body.txt", context)
    send_mail(subject, body, None, [user.email])


@transaction.atomic
def user_confirm_email(*, user: User) -> User:
    """The address is the learner's (a confirmation link or a password reset reached them):
    a pending account becomes a working one. An account an admin switched off stays off."""
    if not user.email_confirmed:
        user.email_confirmed = True
        user.is_active = True
        user.save(update_fields=["email_confirmed", "is_active"])
    return user


@transaction.atomic
def user_make_instructor(*, user: User) -> User:
    user.groups.add(instructor_group_sync())
    if not user.is_staff:
        # The admin is the instructors' editor for content from day one.
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


def user_set_language(*, user: User, language: str) -> None:
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
